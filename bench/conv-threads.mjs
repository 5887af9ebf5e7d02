// The float32 convolution kernels on one thread against two (the image model's two layers: conv2d
// forward with its bias+ReLU epilogue, the input gradient and the filter gradient), at batch 32 and at
// small batches, where the split must never be slower (conv-threads.ts's threshold is chosen from this).
// The pool of 2 threads stays up; "one thread" runs with the split switched off (setParallelMinWork(max)),
// and the two settings alternate run by run, so that a change in the machine's load falls on both.
// Each figure: the median wall time (and CPU time, every thread) of the runs after warm-up, each run's
// memory recycled as fit's steps recycle it; the load average at start and end.
// Run after a build: node bench/conv-threads.mjs [--batches 1,2,4,8,32] [--runs 15] [--force] [--no-save]
//   --force: split every size (setParallelMinWork(0)), to see where two threads start to pay; without it
//   two threads split where the default threshold says so.
import * as t from '../packages/tensor/dist/index.js';
import { cpuMs, describeMachine, finish, median, round } from './lib/timing.mjs';

/** --name value, --name=value, or --flag (true). */
function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const [key, value] = argv[i].replace(/^--/, '').split('=');
    if (value !== undefined) out[key] = value;
    else if (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) out[key] = argv[++i];
    else out[key] = 'true';
  }
  return out;
}
const args = parseArgs(process.argv.slice(2));
const batches = (args.batches ?? '1,2,4,8,32').split(',').map(Number);
const runs = Number(args.runs ?? 15);
const force = args.force === 'true';

// [name, x shape without the batch, filter shape]: the image model's layers, 'valid' padding, stride 1
const layers = [
  ['conv1', [64, 64, 3], [3, 3, 3, 32]],
  ['conv2', [31, 31, 32], [3, 3, 32, 64]],
];

/** The three kernels of one layer at one batch size, as functions to time, with their multiply-adds. */
function kernels(batch, xShape, wShape) {
  const x = t.randn([batch, ...xShape], { seed: 1 }), w = t.randn(wShape, { seed: 2 }).mul(0.1);
  const bias = t.randn([wShape[3]], { seed: 3 });
  const y = t.conv2d(x, w);
  const dy = t.randn(y.shape, { seed: 4 });
  const work = y.size * wShape[0] * wShape[1] * wShape[2];
  return {
    work,
    forward: () => t.conv2dBiasActivation(x, w, bias, 'relu'),
    backprop_input: () => t.conv2dBackpropInput(dy, w, x.shape),
    backprop_filter: () => t.conv2dBackpropFilter(x, dy, wShape),
  };
}

/**
 * Wall and CPU time of one run of fn, its memory recycled as fit's steps recycle it. The CPU's ops are
 * synchronous, so the result is not read: dataSync() would pin its array, which is then never recycled.
 */
function timeOnce(fn) {
  const cpuStart = cpuMs(), start = performance.now();
  t.recycleAfter('conv-threads', () => { fn(); return null; }, () => []);
  return { wall: performance.now() - start, cpu: cpuMs() - cpuStart };
}

const settings = { one: Number.MAX_SAFE_INTEGER, two: force ? 0 : null }; // the split threshold of each
const machine = describeMachine();
t.setNumThreads(2);
await t.startThreads();
const results = [];
for (const batch of batches) {
  for (const [layer, xShape, wShape] of layers) {
    const k = kernels(batch, xShape, wShape);
    for (const kernel of ['forward', 'backprop_input', 'backprop_filter']) {
      if (layer === 'conv1' && kernel === 'backprop_input') continue; // the model never asks for it
      const times = { one: [], two: [] };
      for (let r = -3; r < runs; r++) { // 3 warm-up rounds
        for (const name of ['one', 'two']) {
          t.setParallelMinWork(settings[name]);
          const time = timeOnce(k[kernel]);
          if (r >= 0) times[name].push(time);
        }
      }
      const row = { layer, kernel, batch, mega_madds: round(k.work / 1e6, 1) };
      for (const [name, label] of [['one', 'one_thread'], ['two', 'two_threads']]) {
        row[`${label}_ms`] = round(median(times[name].map((x) => x.wall)), 3);
        row[`${label}_cpu_ms`] = round(median(times[name].map((x) => x.cpu)), 3);
      }
      row.speedup = round(row.one_thread_ms / row.two_threads_ms, 2);
      // the share of two-thread runs that really ran on two cores at once (CPU time ≥ 1.2× wall time): 0 where
      // the kernel was not split, and low where another process held the second core (then the speed-up
      // says nothing about the split)
      row.two_threads_overlapped = round(times.two.filter((x) => x.cpu >= 1.2 * x.wall).length / runs, 2);
      console.error(JSON.stringify(row));
      results.push(row);
    }
  }
}
t.setParallelMinWork(null);
t.shutdownThreads();
finish('conv-threads', { machine, force, runs, results });
