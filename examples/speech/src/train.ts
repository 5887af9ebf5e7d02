/**
 * The article's speech model — LSTM(128) → BatchNorm → LSTM(64) → BatchNorm → Dense(10) — recognising
 * spoken digits from 40-dimensional log-mel features, tested on voices and synthesisers it never heard.
 *
 *   pnpm example:speech             # default settings (README.md beside src/ says why they are what they are)
 *   pnpm example:speech --quick     # CI: a small corpus, fails below 50% accuracy on the unseen voices
 *
 * Synthesises the corpus on first use (cached under ~/.cache/gradlab/speech, or $GRADLAB_CACHE/speech),
 * computes the features in TypeScript (pipeline.ts), trains with model.fit on a dataset that renders
 * fresh augmentation every epoch (augment.ts, batches.ts) and masks over the padding, judges the model on four test sets, writes
 * runs/speech/speech.json and speech.svg (--out docs/results for the docs' table), saves the model, loads it back and recognises one utterance.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Random, callbacks, fromTypedArray, models, useBackend, setSeed } from 'gradlab';
import {
  EpochRecorder, ProgressBar, describeMachine, learningCurves, meanEpochCpuSeconds, meanEpochSeconds, parseCli, saveRun, stepDecay, usage,
} from '@gradlab/example-common';
import type { CliSpec, RunResults } from '@gradlab/example-common';
import { addNoise, padSilence, speechPower } from './augment.js';
import { augmentedTraining, fixedBatches } from './batches.js';
import { bandStatistics, normalize, planCorpus, voicesOf } from './corpus.js';
import type { Example, PlannedUtterance, Split } from './corpus.js';
import { predictDigits, summarise } from './evaluate.js';
import type { Evaluation } from './evaluate.js';
import { BANDS, SAMPLE_RATE, at16k, extractorsByWarp, speechFeatures } from './pipeline.js';
import { renderDetails } from './report.js';
import { ACCENTS, DIGITS, VARIANTS, defaultCacheDir, synthesize, voiceOf } from './synth.js';
import { parseWav } from './wav.js';
import { buildModel } from './model.js';

const TARGET = 0.95;
const QUICK_TARGET = 0.5;

type Extra = {
  lr: number; lrDecay: number; repeats: number; accents: number; variants: number; festival: number; classicVoices: number; hts: number; flite: number; model: string; cache: string;
};

const spec: CliSpec<Extra> = {
  name: 'speech',
  description: "The article's LSTM + BatchNorm on spoken digits synthesised by espeak-ng and Festival, tested on unseen voices and synthesisers.",
  defaults: {
    epochs: 20, lr: 0.001, lrDecay: 0.9, batchSize: 32, subset: 0, seed: 1, backend: 'cpu', quick: false, out: 'runs/speech', recalibrate: 0,
    repeats: 1, accents: ACCENTS.length, variants: VARIANTS.length, festival: 30, classicVoices: 114, hts: 20, flite: 6,
    model: 'runs/speech/model', cache: '',
  },
  quick: {
    recalibrate: 20, epochs: 3, batchSize: 8, accents: 3, variants: 16, festival: 4, classicVoices: 8, hts: 2, flite: 0,
    out: '.tmp/examples', model: '.tmp/examples/speech-model',
  },
  extra: {
    lr: { type: 'string', description: "Adam's learning rate in the first epoch" },
    lrDecay: { type: 'string', description: 'factor applied to the learning rate after each epoch (1: constant)' },
    repeats: { type: 'string', description: 'espeak-ng utterances per voice and digit' },
    accents: { type: 'string', description: `how many of espeak-ng's ${ACCENTS.length} English accents to use` },
    variants: { type: 'string', description: `how many of espeak-ng's ${VARIANTS.length} voice variants (speakers) to use` },
    festival: { type: 'string', description: 'training utterances per Festival diphone voice (kal, ked) and digit' },
    classicVoices: { type: 'string', description: 'classic eSpeak voices (of 114) in the held-out synthesiser test' },
    hts: { type: 'string', description: "utterances per digit of Festival's held-out HTS voice (slt)" },
    flite: { type: 'string', description: 'utterances per Flite voice and digit for the final independent check (0: none)' },
    model: { type: 'string', description: 'folder to save the trained model in' },
    cache: { type: 'string', description: 'folder for the synthesised WAV files (default ~/.cache/gradlab/speech)' },
  },
};

const SILENCE_TEST_SECONDS = 0.5;
const NOISE_TEST_SNR_DB = 20;

const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;

async function main(): Promise<void> {
  const s = parseCli(spec, process.argv.slice(2));
  if (s.help) { console.log(usage(spec)); return; }
  await useBackend(s.backend); // imports @gradlab/gpu for 'gpu'; throws, naming the registered backends, for an unknown one
  setSeed(s.seed);

  // 1. The corpus: which utterances, for what.
  const plan = planCorpus({
    seed: s.seed, repeats: s.repeats, accents: ACCENTS.slice(0, s.accents), variants: VARIANTS.slice(0, s.variants),
    festivalRepeats: s.festival, classicVoices: s.classicVoices, htsRepeats: s.hts, fliteRepeats: s.flite,
  });
  const cacheDir = s.cache || defaultCacheDir();
  const bar = new ProgressBar('synthesise', plan.length);
  const t0 = Date.now();
  const { files, made } = await synthesize(plan, { cacheDir, onProgress: (done) => bar.tick(done - bar.count) });
  bar.done(`${made} new, ${plan.length - made} from the cache in ${cacheDir}`);
  const synthSeconds = (Date.now() - t0) / 1000;

  // 2. Read every file (any rate) and bring it to 16 kHz. Utterances the model is judged on get their
  //    planned white noise now; training ones are kept clean and augmented afresh every epoch.
  const readBar = new ProgressBar('read', plan.length);
  const waves = plan.map((u, i) => {
    const wave = at16k(parseWav(fs.readFileSync(files[i]), files[i]));
    readBar.tick();
    if (u.split === 'train' || u.snrDb === null) return wave;
    return addNoise(wave, u.snrDb, new Random(u.noiseSeed), 'white');
  });
  readBar.done();
  const extractors = extractorsByWarp();
  const idxOf = (split: Split): number[] => plan.map((u, i) => (u.split === split ? i : -1)).filter((i) => i >= 0);
  const featuresOf = (idx: readonly number[], wave: (i: number) => Float32Array = (i) => waves[i]): Example[] =>
    idx.map((i) => speechFeatures(wave(i), extractors(1), plan[i].digit));

  const trainIdx = idxOf('train').slice(0, s.subset > 0 ? s.subset : undefined);
  const stats = bandStatistics(featuresOf(trainIdx), BANDS); // of the clean training utterances
  const judged = (idx: readonly number[], wave?: (i: number) => Float32Array): Example[] => featuresOf(idx, wave).map((e) => normalize(e, stats));
  const val = judged(idxOf('val'));
  const testIdx = idxOf('test');
  const test = judged(testIdx);
  // The espeak-ng test voices again, clean, each with up to 0.5 s of silence before and after and white
  // noise at 20 dB SNR over the whole recording (the speech's power as the reference).
  const hard = new Random(s.seed + 7);
  const testHard = judged(testIdx, (i) => {
    const clean = at16k(parseWav(fs.readFileSync(files[i]), files[i]));
    const padded = padSilence(clean, hard.uniform(0, SILENCE_TEST_SECONDS), hard.uniform(0, SILENCE_TEST_SECONDS), SAMPLE_RATE);
    return addNoise(padded, NOISE_TEST_SNR_DB, hard, 'white', speechPower(clean, SAMPLE_RATE));
  });
  const synthIdx = idxOf('synth-test');
  const synthTest = judged(synthIdx);
  const fliteIdx = idxOf('flite');
  const flite = judged(fliteIdx);
  const speakers = (split: Split): string[] => [...new Set(plan.filter((u) => u.split === split).map((u) => `${u.engine}:${u.variant}`))];
  const lengths = test.map((e) => e.frames);
  console.log(`corpus: ${plan.length} utterances in ${voicesOf(plan).size} voices; ${trainIdx.length} training (${speakers('train').length} speakers), ` +
    `${val.length} validation, ${test.length} test (unseen espeak-ng speakers), ${synthTest.length} by held-out synthesisers, ${flite.length} by Flite; ` +
    `test utterances ${Math.min(...lengths)}–${Math.max(...lengths)} frames after the VAD`);
  console.log(`test speakers (never in training): ${speakers('test').join(', ')}`);

  // 3. The model and training.
  const model = buildModel(BANDS);
  model.summary();
  const counts = model.countParams();
  type Evaluations = Record<'test' | 'synthTest' | 'silenceNoiseTest' | 'flite', Evaluation & { description: string }>;
  const results: RunResults & { evaluations?: Partial<Evaluations>; details?: string; load?: string[] } = {
    example: 'speech',
    description: '',
    settings: {
      epochs: s.epochs, lr: s.lr, lrDecay: s.lrDecay, batchSize: s.batchSize, subset: s.subset, seed: s.seed, recalibrate: s.recalibrate, repeats: s.repeats, accents: s.accents,
      variants: s.variants, festival: s.festival, classicVoices: s.classicVoices, hts: s.hts, flite: s.flite, quick: s.quick,
    },
    data: {
      utterances: plan.length, train: trainIdx.length, validation: val.length, test: test.length, synthTest: synthTest.length, flite: flite.length,
      speakers: { train: speakers('train'), validation: speakers('val'), test: speakers('test'), synthTest: speakers('synth-test'), flite: speakers('flite') },
      synthesisSeconds: synthSeconds, synthesised: made,
      features: `${BANDS} log-mel bands, 25 ms windows, 10 ms hop, after an energy VAD, at 16 kHz`,
      augmentation: 'speed 0.9–1.1, silence 0–0.5 s each side, white/brown noise 5–30 dB SNR (80%), gain −20…+6 dB, VTLP 0.8–1.25, SpecAugment 2×6 bands, 2×10% frames',
    },
    model: { params: counts.total, trainable: counts.trainable, nonTrainable: counts.nonTrainable },
    epochs: [],
    test: { loss: NaN, accuracy: NaN, examples: test.length },
    target: { accuracy: s.quick ? QUICK_TARGET : TARGET, reached: false },
    secondsPerEpoch: 0,
    totalSeconds: 0,
    machine: describeMachine(s.backend),
    date: new Date().toISOString(),
    load: [],
  };
  const runName = s.quick ? 'speech-quick' : 'speech';
  const resultsFile = path.join(s.out, `${runName}.json`);
  const plotFile = path.join(s.out, `${runName}.svg`);
  const save = (final = false): void => {
    saveRun(s.out, runName, results, learningCurves('Spoken digits, LSTM + BatchNorm (validation: unseen speakers)', results.epochs), final);
  };
  // The machine's load (1-minute average, as `uptime` prints it) at the end of each epoch: epochs on a shared machine take longer.
  const load = (): string => `${os.loadavg()[0].toFixed(2)} (1-min load, ${os.cpus().length} cores)`;

  const started = Date.now();
  const train = augmentedTraining(trainIdx.map((i) => waves[i]), trainIdx.map((i) => plan[i].digit), stats, {
    seed: s.seed, batchSize: s.batchSize, onRendered: (epoch, seconds) => console.log(`augmented epoch ${epoch + 1}'s ${trainIdx.length} utterances in ${seconds.toFixed(1)} s`),
  });
  const recorder = new EpochRecorder((record, all) => {
    results.epochs = [...all];
    results.secondsPerEpoch = meanEpochSeconds(results.epochs);
    results.cpuSecondsPerEpoch = meanEpochCpuSeconds(results.epochs);
    results.data.augmentSecondsPerEpoch = train.augmentSeconds.reduce((a, b) => a + b, 0) / train.augmentSeconds.length;
    results.load!.push(`epoch ${record.epoch}: ${load()}`);
    save();
  });
  const fitCallbacks: callbacks.Callback[] = [new callbacks.LearningRateScheduler(stepDecay(s.lr, s.lrDecay)), recorder];
  if (s.recalibrate > 0) fitCallbacks.unshift(new callbacks.BatchNormRecalibration(train.latest, s.recalibrate));
  await model.fit(train.data, {
    epochs: s.epochs, callbacks: fitCallbacks, validationData: val.length ? fixedBatches(val, s.batchSize) : undefined,
  });
  results.totalSeconds = (Date.now() - started) / 1000;
  results.secondsPerEpoch = meanEpochSeconds(results.epochs); // 0 when no epoch ran (--epochs 0)
  results.cpuSecondsPerEpoch = meanEpochCpuSeconds(results.epochs);

  // 4. Judge: per voice, with confusion matrices.
  const judge = async (examples: Example[], idx: number[], description: string): Promise<Evaluation & { description: string }> => {
    const predicted = await predictDigits(model, examples);
    const ev = summarise(examples.map((e) => e.label), predicted, idx.map((i) => `${plan[i].engine}:${plan[i].variant}`));
    console.log(`${description}: ${pct(ev.accuracy)} of ${ev.examples}`);
    return { ...ev, description };
  };
  const evaluations: Partial<Evaluations> = {
    test: await judge(test, testIdx, 'unseen espeak-ng speakers (clean or white noise at 30/20/10 dB)'),
    synthTest: await judge(synthTest, synthIdx, 'held-out synthesisers: classic eSpeak and Festival HTS slt (same noise levels)'),
    silenceNoiseTest: await judge(testHard, testIdx, `unseen espeak-ng speakers with 0–${SILENCE_TEST_SECONDS} s silence each side and white noise at ${NOISE_TEST_SNR_DB} dB SNR`),
  };
  if (flite.length) evaluations.flite = await judge(flite, fliteIdx, 'Flite, never used for training, validation or settings (same noise levels)');
  results.evaluations = evaluations;
  const headline = [evaluations.test!, evaluations.synthTest!, evaluations.silenceNoiseTest!];
  results.test = { loss: NaN, accuracy: evaluations.test!.accuracy, examples: test.length };
  results.target.reached = headline.every((e) => !(e.accuracy < results.target.accuracy));
  results.description = `spoken digits by espeak-ng and Festival (kal, ked), ${trainIdx.length.toLocaleString('en-US')} training utterances, augmented; ` +
    `test: ${speakers('test').length} unseen espeak-ng speakers; also ${pct(evaluations.synthTest!.accuracy)} on ${synthTest.length.toLocaleString('en-US')} by held-out synthesisers ` +
    `(classic eSpeak, Festival HTS), ${pct(evaluations.silenceNoiseTest!.accuracy)} with silence + 20 dB noise` +
    (evaluations.flite ? `, ${pct(evaluations.flite.accuracy)} on ${flite.length} by Flite` : '');
  results.details = renderDetails(evaluations);
  save(true);
  console.log(`targets ${pct(results.target.accuracy)} on each of the three: ${results.target.reached ? 'reached' : 'NOT reached'}`);
  console.log(`${results.secondsPerEpoch.toFixed(1)} s per epoch (${results.cpuSecondsPerEpoch.toFixed(1)} s of CPU), of which ` +
    `${(results.data.augmentSecondsPerEpoch as number).toFixed(1)} s of augmentation; results in ${resultsFile}, curves in ${plotFile}`);

  // 5. Save, load back, recognise one test utterance (one sequence: no padding, so no mask needed).
  await model.save(s.model);
  fs.writeFileSync(path.join(s.model, 'features.json'), JSON.stringify({ bands: BANDS, sampleRate: SAMPLE_RATE, mean: [...stats.mean], std: [...stats.std] }));
  const loaded = await models.load(s.model);
  const u: PlannedUtterance = plan[testIdx[0]];
  const one = test[0];
  const p = Array.from((await loaded.predict(fromTypedArray(one.features, [1, one.frames, BANDS]))).dataSync());
  const best = p.indexOf(Math.max(...p));
  console.log(`saved to ${s.model}; loaded back, "${DIGITS[u.digit]}" said by ${voiceOf(u)} ` +
    `(${u.snrDb === null ? 'clean' : `${u.snrDb} dB SNR`}): recognised "${DIGITS[best]}" (p = ${p[best].toFixed(3)})`);

  if (s.quick && !(evaluations.test!.accuracy >= QUICK_TARGET)) {
    console.error(`speech --quick: accuracy ${pct(evaluations.test!.accuracy)} is below ${100 * QUICK_TARGET}%`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack ?? error.message : error);
  process.exitCode = 1;
});
