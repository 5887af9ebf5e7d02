/**
 * A spoken-digit corpus synthesised with espeak-ng and sox (no recorded corpus is reachable here).
 *
 * A *voice* is an espeak-ng accent with a variant ("en-gb-scotland+f3"): the accent changes the
 * pronunciation, the variant the timbre (formants, pitch range, breathiness). Each utterance also gets
 * its own pitch (espeak -p) and speed (-s), drawn from a seeded generator, so the corpus is the same on
 * every machine for the same seed.
 *
 *   espeak-ng -v <voice> -p <pitch> -s <speed> --stdout <word>
 *     | sox -t wav - -r 16000 -b 16 -c 1 <file> silence 1 0.01 0.3% reverse silence 1 0.01 0.3% reverse
 *
 * sox resamples espeak's 22,050 Hz to 16 kHz and trims the silence at both ends (trim the start, reverse,
 * trim the start again, reverse back). Background noise is added later, when features are computed
 * (corpus.ts), so one cached file serves every noise level.
 *
 * The WAV files are cached under the cache folder, named by their parameters: a second run, or a run with
 * a bigger corpus, synthesises only what is missing.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const DIGITS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'] as const;

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

export interface Utterance {
  digit: number;
  accent: string;
  variant: string;
  /** espeak-ng pitch, 0–99 (50 is the voice's normal). */
  pitch: number;
  /** espeak-ng speed in words per minute (175 is normal). */
  speed: number;
}

export const voiceOf = (u: Pick<Utterance, 'accent' | 'variant'>): string => `${u.accent}+${u.variant}`;

/** The cache file name: every parameter that changes the audio is in it. */
export const fileNameOf = (u: Utterance): string =>
  `${voiceOf(u)}_p${u.pitch}_s${u.speed}_${DIGITS[u.digit]}.wav`;

export function defaultCacheDir(): string {
  return process.env.GRADLAB_CACHE ? path.join(process.env.GRADLAB_CACHE, 'speech') : path.join(os.homedir(), '.cache', 'gradlab', 'speech');
}

/** Run one command, resolving when it exits 0 (rejecting with its stderr otherwise). */
function pipeline(u: Utterance, target: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const espeak = spawn('espeak-ng', ['-v', voiceOf(u), '-p', String(u.pitch), '-s', String(u.speed), '--stdout', DIGITS[u.digit]]);
    const sox = spawn('sox', ['-t', 'wav', '-', '-r', '16000', '-b', '16', '-c', '1', target,
      'silence', '1', '0.01', '0.3%', 'reverse', 'silence', '1', '0.01', '0.3%', 'reverse']);
    let stderr = '';
    espeak.stderr.on('data', (d) => { stderr += String(d); });
    sox.stderr.on('data', (d) => { stderr += String(d); });
    espeak.stdout.pipe(sox.stdin);
    let failed = false;
    const fail = (why: string): void => { if (!failed) { failed = true; reject(new Error(`synth ${fileNameOf(u)}: ${why}${stderr ? `: ${stderr.trim()}` : ''}`)); } };
    espeak.on('error', (e) => fail(`cannot run espeak-ng (${e.message}); install it with apt-get install espeak-ng`));
    sox.on('error', (e) => fail(`cannot run sox (${e.message}); install it with apt-get install sox`));
    espeak.on('exit', (code) => { if (code !== 0) fail(`espeak-ng exited with ${code}`); });
    sox.on('exit', (code) => { if (code === 0 && !failed) resolve(); else fail(`sox exited with ${code}`); });
  });
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
  const missing = utterances.map((_, i) => i).filter((i) => !fs.existsSync(files[i]));
  const concurrency = Math.max(1, options.concurrency ?? (os.availableParallelism?.() ?? os.cpus().length));
  let next = 0;
  let done = utterances.length - missing.length;
  options.onProgress?.(done, utterances.length);
  const worker = async (): Promise<void> => {
    while (next < missing.length) {
      const i = missing[next++];
      // Write to a temporary name and rename: an interrupted run never leaves a half file in the cache.
      const tmp = `${files[i]}.${process.pid}.tmp.wav`;
      await pipeline(utterances[i], tmp);
      fs.renameSync(tmp, files[i]);
      options.onProgress?.(++done, utterances.length);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { files, made: missing.length };
}
