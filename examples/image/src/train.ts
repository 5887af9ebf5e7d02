/**
 * The article's image model — a CNN with BatchNormalization — trained on Fashion-MNIST.
 *
 *   pnpm example:image                  # default settings (README.md beside src/ says why they are what they are)
 *   pnpm example:image --size 64        # the article's 64×64×3 input, each batch resized on the fly
 *   pnpm example:image --quick          # CI: 2,000 images, one epoch, fails below 65% test accuracy
 *
 * Writes runs/image/image.json and image.svg (the learning curves; --out docs/results for the docs'
 * figures), saves the trained model in runs/image/model/, then loads it back and classifies one test image.
 */
import * as path from 'node:path';
import { Dataset, callbacks, fromTypedArray, models, useBackend, setSeed, Random } from 'gradlab';
import type { Tensor, data } from 'gradlab';
import {
  EpochRecorder, describeMachine, learningCurves, meanEpochCpuSeconds, meanEpochSeconds, parseCli, saveRun, stepDecay, usage,
} from '@gradlab/example-common';
import type { CliSpec, RunResults } from '@gradlab/example-common';
import { CLASS_NAMES, labelsOf, loadFashionMnist } from './data.js';
import type { ImageSet } from './data.js';
import { resizeBatch } from './resize.js';
import { buildModel } from './model.js';

const TARGET = 0.91;
const QUICK_TARGET = 0.65;

const spec: CliSpec<{ size: number; testSubset: number; model: string; lr: number; lrDecay: number }> = {
  name: 'image',
  description: "The article's CNN + BatchNorm on Fashion-MNIST (Debian's dataset-fashion-mnist).",
  defaults: { epochs: 8, lr: 0.001, lrDecay: 0.75, batchSize: 32, subset: 0, seed: 1, backend: 'cpu', quick: false, out: 'runs/image', recalibrate: 0, size: 28, testSubset: 0, model: 'runs/image/model' },
  quick: { recalibrate: 20, epochs: 1, subset: 2000, testSubset: 1000, out: 'runs/image', model: 'runs/image/model-quick' },
  extra: {
    size: { type: 'string', description: 'side of the square input; 64 is the article’s (resized per batch)' },
    testSubset: { type: 'string', description: 'evaluate on the first N test images (0: all 10,000)' },
    model: { type: 'string', description: 'folder to save the trained model in' },
    lr: { type: 'string', description: "Adam's learning rate in the first epoch" },
    lrDecay: { type: 'string', description: 'factor applied to the learning rate after each epoch (1: constant)' },
  },
};

/** One image of an ImageSet, resized and replicated to 3 channels when the dataset reaches it, with its label. */
function imageExample(set: ImageSet, row: number, size: number): data.Example {
  const x = resizeBatch(set.images, set.height, set.width, Int32Array.of(row), { size, channels: 3 });
  return { x: fromTypedArray(x, [size, size, 3]), y: set.labels[row] };
}

/**
 * The rows of an ImageSet as a dataset of batches. The row numbers are shuffled (when a seed is given),
 * and each image is made into floats only when its batch is next: 60,000 images at 64×64×3 would take
 * 2.9 GB at once. prefetch keeps the next batch in the making while the current one trains.
 */
function imageDataset(set: ImageSet, rows: Int32Array, size: number, batchSize: number, shuffleSeed?: number): Dataset<data.Batch> {
  let rowsDs = Dataset.fromArray(Array.from(rows));
  if (shuffleSeed !== undefined) rowsDs = rowsDs.shuffle(rows.length, { seed: shuffleSeed });
  return rowsDs.map((row) => imageExample(set, row, size)).batch(batchSize).prefetch(2);
}

async function main(): Promise<void> {
  const s = parseCli(spec, process.argv.slice(2));
  if (s.help) { console.log(usage(spec)); return; }
  await useBackend(s.backend); // imports @gradlab/gpu for 'gpu'; throws, naming the registered backends, for an unknown one
  setSeed(s.seed);

  const { train, test } = loadFashionMnist();
  // Validation: the last 10% of a seeded shuffle of the 60,000 training images (Keras's validationSplit 0.1).
  const order = Int32Array.from({ length: train.count }, (_, i) => i);
  new Random(s.seed).shuffle(order);
  const valCount = Math.round(train.count * 0.1);
  const trainRows = order.subarray(0, s.subset > 0 ? Math.min(s.subset, train.count - valCount) : train.count - valCount);
  const valRows = s.quick ? order.subarray(train.count - 1000) : order.subarray(train.count - valCount);
  const testRows = Int32Array.from({ length: s.testSubset > 0 ? Math.min(s.testSubset, test.count) : test.count }, (_, i) => i);
  console.log(`Fashion-MNIST: ${trainRows.length} training, ${valRows.length} validation, ${testRows.length} test images, ` +
    `${train.height}×${train.width} gray → ${s.size}×${s.size}×3`);

  const model = buildModel(s.size);
  model.summary();
  const counts = model.countParams();

  const results: RunResults = {
    example: 'image',
    description: `Fashion-MNIST, ${trainRows.length.toLocaleString('en-US')} training images at ${s.size}×${s.size}×3`,
    settings: { epochs: s.epochs, lr: s.lr, lrDecay: s.lrDecay, batchSize: s.batchSize, subset: s.subset, seed: s.seed, recalibrate: s.recalibrate, size: s.size, quick: s.quick, optimizer: 'adam' },
    data: { train: trainRows.length, validation: valRows.length, test: testRows.length, source: 'dataset-fashion-mnist' },
    model: { params: counts.total, trainable: counts.trainable, nonTrainable: counts.nonTrainable },
    epochs: [],
    test: { loss: NaN, accuracy: NaN, examples: testRows.length },
    target: { accuracy: s.quick ? QUICK_TARGET : TARGET, reached: false },
    secondsPerEpoch: 0,
    totalSeconds: 0,
    machine: describeMachine(s.backend),
    date: new Date().toISOString(),
  };
  const runName = s.quick ? 'image-quick' : 'image';
  const resultsFile = path.join(s.out, `${runName}.json`);
  const plotFile = path.join(s.out, `${runName}.svg`);
  const save = (final = false): void => {
    saveRun(s.out, runName, results, learningCurves(`Fashion-MNIST, CNN + BatchNorm (${s.size}×${s.size}×3)`, results.epochs), final);
  };

  const started = Date.now();
  const recorder = new EpochRecorder((_record, all) => {
    results.epochs = [...all];
    results.secondsPerEpoch = meanEpochSeconds(results.epochs);
    results.cpuSecondsPerEpoch = meanEpochCpuSeconds(results.epochs);
    save();
  });
  const trainData = imageDataset(train, trainRows, s.size, s.batchSize, s.seed);
  const fitCallbacks: callbacks.Callback[] = [
    // Step decay: large steps while the loss falls fast, then smaller ones so that the last epochs
    // settle instead of jumping around a minimum (lr·decay^epoch).
    new callbacks.LearningRateScheduler(stepDecay(s.lr, s.lrDecay)),
    recorder,
  ];
  if (s.recalibrate > 0) fitCallbacks.unshift(new callbacks.BatchNormRecalibration(trainData, s.recalibrate));
  await model.fit(trainData, {
    epochs: s.epochs, validationData: imageDataset(train, valRows, s.size, s.batchSize), callbacks: fitCallbacks,
  });
  results.totalSeconds = (Date.now() - started) / 1000;
  results.secondsPerEpoch = meanEpochSeconds(results.epochs); // 0 when no epoch ran (--epochs 0)
  results.cpuSecondsPerEpoch = meanEpochCpuSeconds(results.epochs);

  const [testLoss, testAccuracy] = await model.evaluate(imageDataset(test, testRows, s.size, 100));
  const evaluation = { loss: testLoss, accuracy: testAccuracy };
  results.test = { loss: evaluation.loss, accuracy: evaluation.accuracy, examples: testRows.length };
  results.target.reached = evaluation.accuracy >= results.target.accuracy;
  save(true);
  console.log(`test accuracy ${(100 * evaluation.accuracy).toFixed(2)}% on ${testRows.length} images ` +
    `(target ${(100 * results.target.accuracy).toFixed(0)}%): ${results.target.reached ? 'reached' : 'NOT reached'}`);
  console.log(`${results.secondsPerEpoch.toFixed(1)} s per epoch (${results.cpuSecondsPerEpoch.toFixed(1)} s of CPU); results in ${resultsFile}, curves in ${plotFile}`);

  // Save, load back, and classify one test image — what a user of the trained model does.
  await model.save(s.model);
  const loaded = await models.load(s.model);
  const one = (imageExample(test, 0, s.size).x as Tensor).reshape([1, s.size, s.size, 3]);
  const probabilities: Tensor = await loaded.predict(one);
  const p = Array.from(probabilities.dataSync());
  const best = p.indexOf(Math.max(...p));
  console.log(`saved to ${s.model}; loaded back, test image 0 is a ${CLASS_NAMES[test.labels[0]]}: ` +
    `predicted ${CLASS_NAMES[best]} (p = ${p[best].toFixed(3)})`);

  if (!results.target.reached && s.quick) {
    console.error(`image --quick: test accuracy ${(100 * evaluation.accuracy).toFixed(1)}% is below ${100 * QUICK_TARGET}%`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
