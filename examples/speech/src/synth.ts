/**
 * A spoken-digit corpus synthesised by four text-to-speech engines from Debian (no recorded corpus is
 * reachable here). Each engine writes its own WAV, at its own sample rate, with its own silence before
 * and after the word: nothing is trimmed or resampled here — the example's TypeScript pipeline
 * (resample.ts, vad.ts) does that, exactly as it does for a user's recording.
 *
 *   espeak-ng  espeak-ng -v <accent>+<variant> -p <pitch> -s <speed> -w <file> <word>     (22,050 Hz)
 *   espeak     the same with classic eSpeak 1.48, the program espeak-ng was forked from     (22,050 Hz)
 *   festival   Festival 2.5 in batch mode: diphone voices kal and ked (16 kHz) and the HTS (statistical
 *              parametric) voice cmu_us_slt_arctic_hts (32 kHz)
 *   flite      CMU Flite 2.2: kal, kal16, awb, rms, slt                                     (8–16 kHz)
 *
 * A *voice* is an engine's accent with a variant ("en-gb-scotland+f3" for espeak-ng; "us+kal_diphone" for
 * Festival). Each utterance also gets its own pitch and speed, drawn from a seeded generator: for the
 * espeaks they are the -p (0–99, 50 normal) and -s (words per minute) flags; the other engines map them
 * to their own controls (fundamental frequency × pitch/50, durations × 175/speed; see the scripts below).
 *
 * The WAV files are cached under the cache folder, named by their parameters: a second run, or a run with
 * a bigger corpus, synthesises only what is missing.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const DIGITS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'] as const;

export type Engine = 'espeak-ng' | 'espeak' | 'festival' | 'flite';

/** espeak-ng's English accents (its "gmw" voices; the mbrola voices need another package). */
export const ACCENTS = [
  'en-us', 'en-us-nyc', 'en-gb', 'en-gb-x-rp', 'en-gb-scotland', 'en-gb-x-gbclan', 'en-gb-x-gbcwmd', 'en-029',
] as const;

/**
 * espeak-ng's voice variants (files in espeak-ng-data/voices/!v), written out so that the corpus does not
 * depend on what a particular installation lists. m1…m8 and f1…f5 are the classic male and female ones.
 */
export const VARIANTS = [
  'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'f1', 'f2', 'f3', 'f4', 'f5',
  'Alex', 'Alicia', 'Andrea', 'Andy', 'Annie', 'AnxiousAndy', 'Denis', 'Diogo', 'Gene', 'Gene2', 'Henrique',
  'Hugo', 'Jacky', 'Lee', 'Marco', 'Mario', 'Michael', 'Mike', 'Nguyen', 'RicishayMax', 'Storm', 'Tweaky',
  'adam', 'anika', 'announcer', 'antonio', 'aunty', 'belinda', 'benjamin', 'boris', 'caleb', 'croak', 'david',
  'ed', 'edward', 'edward2', 'fast', 'grandma', 'grandpa', 'gustave', 'iven', 'iven2', 'iven3', 'iven4', 'john',
  'kaukovalta', 'klatt', 'klatt2', 'klatt3', 'klatt4', 'linda', 'marcelo', 'max', 'michel', 'miguel',
  'norbert', 'pablo', 'paul', 'pedro', 'quincy', 'rob', 'robert', 'sandro', 'shelby', 'steph', 'steph2',
  'steph3', 'travis', 'victor', 'whisper', 'whisperf', 'zac',
] as const;

/** Classic eSpeak 1.48's English voices and its variants (espeak-data/voices/!v). */
export const CLASSIC_ACCENTS = ['en', 'en-us', 'en-sc', 'en-uk-north', 'en-uk-rp', 'en-uk-wmids'] as const;
export const CLASSIC_VARIANTS = [
  'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'f1', 'f2', 'f3', 'f4', 'f5', 'croak', 'klatt', 'klatt2', 'klatt3', 'klatt4', 'whisper', 'whisperf',
] as const;

/** Festival's English voices in Debian (festvox-kallpc16k, festvox-kdlpc16k, festvox-us-slt-hts). */
export const FESTIVAL_DIPHONE_VOICES = ['kal_diphone', 'ked_diphone'] as const;
export const FESTIVAL_HTS_VOICES = ['cmu_us_slt_arctic_hts'] as const;
/** Flite's built-in voices (awb_time speaks only clock times, so it is left out). */
export const FLITE_VOICES = ['kal', 'kal16', 'awb', 'rms', 'slt'] as const;

export interface Utterance {
  engine: Engine;
  digit: number;
  accent: string;
  variant: string;
  /** 0–99, 50 is the voice's normal (espeak -p; the other engines scale their pitch by pitch/50). */
  pitch: number;
  /** Words per minute, 175 normal (espeak -s; the other engines stretch durations by 175/speed). */
  speed: number;
}

export const voiceOf = (u: Pick<Utterance, 'accent' | 'variant'>): string => `${u.accent}+${u.variant}`;

/** The cache file name: every parameter that changes the audio is in it. */
export const fileNameOf = (u: Utterance): string =>
  `${u.engine}_${voiceOf(u)}_p${u.pitch}_s${u.speed}_${DIGITS[u.digit]}.wav`;

export function defaultCacheDir(): string {
  return process.env.GRADLAB_CACHE ? path.join(process.env.GRADLAB_CACHE, 'speech') : path.join(os.homedir(), '.cache', 'gradlab', 'speech');
}

const APT_PACKAGE: Record<Engine, string> = {
  'espeak-ng': 'espeak-ng', espeak: 'espeak', festival: 'festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts', flite: 'flite',
};

/** Run a program, resolving when it exits 0 and rejecting with its stderr (and how to install it) otherwise. */
function run(program: string, args: string[], engine: Engine, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args);
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += String(d); });
    child.stdout.resume();
    child.on('error', (e) => reject(new Error(`synth ${what}: cannot run ${program} (${e.message}); install it with apt-get install ${APT_PACKAGE[engine]}`)));
    child.on('exit', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`synth ${what}: ${program} exited with ${code}${stderr ? `: ${stderr.trim()}` : ''}`));
    });
  });
}

const stretchOf = (u: Utterance): string => (175 / u.speed).toFixed(3);

/** One Festival utterance in Scheme: select the voice, set its pitch and durations, synthesise, save. */
export function festivalScheme(u: Utterance, file: string): string {
  const factor = u.pitch / 50;
  const prosody = u.variant.endsWith('_hts')
    // HTS voices take hts_engine's own flags: -fm shifts the pitch in half-tones, -r scales the speed.
    ? `(set! hts_engine_params (append hts_engine_params (list (list "-fm" ${(12 * Math.log2(factor)).toFixed(2)}) (list "-r" ${(u.speed / 175).toFixed(3)}))))`
    // Diphone voices: the linear-regression intonation model's target mean and spread (105 and 14 Hz for kal).
    : `(set! int_lr_params (list (list 'target_f0_mean ${(105 * factor).toFixed(1)}) (list 'target_f0_std ${(14 * factor).toFixed(1)}) (list 'model_f0_mean 170) (list 'model_f0_std 34)))
(Parameter.set 'Duration_Stretch ${stretchOf(u)})`;
  return `(voice_${u.variant})
${prosody}
(set! utt (Utterance Text "${DIGITS[u.digit]}"))
(utt.synth utt)
(utt.save.wave utt "${file}" 'riff)
`;
}

/** Synthesise some utterances of one engine into the given files. */
async function synthesiseBatch(us: readonly Utterance[], files: readonly string[]): Promise<void> {
  const engine = us[0].engine;
  const what = `${us.length} ${engine} utterance${us.length === 1 ? '' : 's'} (${fileNameOf(us[0])} …)`;
  if (engine === 'festival') {
    // One Festival process for the batch: starting it costs most of a second, an utterance a few ms.
    const script = `${files[0]}.scm`;
    fs.writeFileSync(script, us.map((u, i) => festivalScheme(u, files[i])).join(''));
    try { await run('festival', ['--batch', script], engine, what); } finally { fs.rmSync(script, { force: true }); }
    return;
  }
  for (let i = 0; i < us.length; i++) {
    const u = us[i];
    if (engine === 'flite') {
      const f0 = (u.variant === 'slt' ? 160 : 105) * (u.pitch / 50);
      await run('flite', ['-voice', u.variant, '-t', DIGITS[u.digit], '-o', files[i],
        '--setf', `duration_stretch=${stretchOf(u)}`, '--setf', `int_f0_target_mean=${f0.toFixed(1)}`], engine, what);
    } else {
      await run(engine, ['-v', voiceOf(u), '-p', String(u.pitch), '-s', String(u.speed), '-w', files[i], DIGITS[u.digit]], engine, what);
    }
  }
}

export interface SynthOptions {
  cacheDir?: string;
  /** Processes at a time (default: the cores available). */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Make sure every utterance has its WAV file in the cache; synthesise the missing ones, several at once.
 * Resolves to the file paths, in the order of `utterances`, and how many were made now.
 */
export async function synthesize(utterances: readonly Utterance[], options: SynthOptions = {}): Promise<{ files: string[]; made: number }> {
  const dir = options.cacheDir ?? defaultCacheDir();
  fs.mkdirSync(dir, { recursive: true });
  const files = utterances.map((u) => path.join(dir, fileNameOf(u)));
  // Two utterances may draw the same parameters, hence the same file: make it once.
  const planned = new Set<string>();
  const missing = utterances.map((_, i) => i).filter((i) => !planned.has(files[i]) && planned.add(files[i]) && !fs.existsSync(files[i]));
  // Batches of one engine (Festival's of 50, to share one process; the others one by one).
  const batches: number[][] = [];
  for (const i of missing) {
    const last = batches[batches.length - 1];
    const size = utterances[i].engine === 'festival' ? 50 : 1;
    if (last && last.length < size && utterances[last[0]].engine === utterances[i].engine) last.push(i);
    else batches.push([i]);
  }
  const concurrency = Math.max(1, options.concurrency ?? (os.availableParallelism?.() ?? os.cpus().length));
  let next = 0;
  let done = utterances.length - missing.length; // counts the duplicates of a missing file as done
  options.onProgress?.(done, utterances.length);
  const worker = async (): Promise<void> => {
    while (next < batches.length) {
      const batch = batches[next++];
      // Write to temporary names and rename: an interrupted run never leaves a half file in the cache.
      const tmps = batch.map((i) => `${files[i]}.${process.pid}.tmp.wav`);
      await synthesiseBatch(batch.map((i) => utterances[i]), tmps);
      batch.forEach((i, k) => fs.renameSync(tmps[k], files[i]));
      done += batch.length;
      options.onProgress?.(Math.min(done, utterances.length), utterances.length);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { files, made: missing.length };
}
