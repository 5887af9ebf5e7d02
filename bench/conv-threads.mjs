// The float32 convolution kernels on one thread against two (the image model's two layers: conv2d
// forward with its bias+ReLU epilogue, the input gradient and the filter gradient), at batch 32 and at
// small batches, where the split must never be slower (conv.ts's threshold is chosen from this).
// Each figure: the median wall time of several runs after warm-up, each run's memory recycled as fit's
// steps recycle it; the load average at start and end.
// Run after a build: node bench/conv-threads.mjs [--batches 1,2,4,8,32] [--threads 1,2] [--force] [--no-save]
//   --force: split every size (setParallelMinWork(0)), to see where two threads start to pay.
import * as t from '../packages/tensor/dist/index.js';
import { describeMachine, finish, measure, round } from './lib/timing.mjs';

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
const threadCounts = (args.threads ?? '1,2').split(',').map(Number);
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

const machine = describeMachine();
const results = [];
for (const batch of batches) {
  for (const [layer, xShape, wShape] of layers) {
    const k = kernels(batch, xShape, wShape);
    for (const kernel of ['forward', 'backprop_input', 'backprop_filter']) {
      if (layer === 'conv1' && kernel === 'backprop_input') continue; // the model never asks for it
      const row = { layer, kernel, batch, mega_madds: round(k.work / 1e6, 1) };
      for (const threads of threadCounts) {
        t.setNumThreads(threads);
        t.setParallelMinWork(force && threads > 1 ? 0 : null);
        const run = () => t.recycleAfter('conv-threads', () => { k[kernel]().dataSync(); return null; }, () => []);
        const time = await measure(run, { warmup: 3, runs: batch >= 32 ? 9 : 21 });
        row[`threads_${threads}_ms`] = time.wall_ms;
        row[`threads_${threads}_cpu_ms`] = time.cpu_ms;
      }
      if (row.threads_1_ms && row.threads_2_ms) row.speedup = round(row.threads_1_ms / row.threads_2_ms, 2);
      console.error(JSON.stringify(row));
      results.push(row);
    }
  }
}
t.setParallelMinWork(null);
t.shutdownThreads();
finish('conv-threads', { machine, force, results });
