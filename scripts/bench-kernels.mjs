// Benchmark of the heavy CPU kernels of @gradlab/tensor. Prints one JSON object:
//   matmul: GFLOPS of square float32 matmul (2·n³ flops) at 256, 512, 1024, and of a naive triple
//           loop at 256 in the same run, for comparison;
//   conv2d: ms of forward, backprop-input and backprop-filter on x [32,64,64,3], 32 3×3 filters, 'same'.
// Every figure is the median of several runs after warm-up runs (V8 optimises a function only after
// it has run a while). Run: pnpm run bench:kernels   (builds first), or node scripts/bench-kernels.mjs.
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { randn, matmul, conv2d, conv2dBackpropInput, conv2dBackpropFilter } from '../packages/tensor/dist/index.js';

/** Median wall time in ms of fn() over `runs` runs, after `warmup` unmeasured runs. */
function medianMs(fn, { warmup = 2, runs = 5 } = {}) {
  for (let i = 0; i < warmup; i++) fn();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  times.sort((p, q) => p - q);
  return times[Math.floor(times.length / 2)];
}

const round = (x, digits = 2) => Number(x.toFixed(digits));
const gflops = (n, ms) => round((2 * n ** 3) / (ms * 1e6));

/** The textbook i-j-k loop on row-major Float32Arrays: what the blocked kernel is measured against. */
function naiveMatmul(a, b, c, n) {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += a[i * n + k] * b[k * n + j];
      c[i * n + j] = sum;
    }
  }
}

const result = {
  machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version, platform: `${os.platform()} ${os.arch()}` },
  matmul: {},
  conv2d: {},
};

for (const n of [256, 512, 1024]) {
  const a = randn([n, n], { seed: 1 }), b = randn([n, n], { seed: 2 });
  const ms = medianMs(() => matmul(a, b), n === 1024 ? { warmup: 1, runs: 3 } : { warmup: 2, runs: 5 });
  result.matmul[`gflops_${n}`] = gflops(n, ms);
  result.matmul[`ms_${n}`] = round(ms, 1);
}
{
  const n = 256;
  const a = randn([n, n], { seed: 1 }).dataSync(), b = randn([n, n], { seed: 2 }).dataSync(), c = new Float32Array(n * n);
  const ms = medianMs(() => naiveMatmul(a, b, c, n), { warmup: 1, runs: 3 });
  result.matmul.naive_gflops_256 = gflops(n, ms);
  result.matmul.speedup_256 = round(result.matmul.gflops_256 / result.matmul.naive_gflops_256, 1);
}

{
  const opts = { strides: 1, padding: 'same' };
  const x = randn([32, 64, 64, 3], { seed: 3 });
  const w = randn([3, 3, 3, 32], { seed: 4 });
  const dy = randn([32, 64, 64, 32], { seed: 5 });
  const timing = { warmup: 2, runs: 5 };
  result.conv2d.shape = 'x [32,64,64,3], filter [3,3,3,32], same, float32';
  result.conv2d.forward_ms = round(medianMs(() => conv2d(x, w, opts), timing), 1);
  result.conv2d.backprop_input_ms = round(medianMs(() => conv2dBackpropInput(dy, w, x.shape, opts), timing), 1);
  result.conv2d.backprop_filter_ms = round(medianMs(() => conv2dBackpropFilter(x, dy, w.shape, opts), timing), 1);
  const flops = 2 * 32 * 64 * 64 * 3 * 3 * 3 * 32; // one multiply-add per (output, filter tap)
  result.conv2d.forward_gflops = round(flops / (result.conv2d.forward_ms * 1e6));
}

console.log(JSON.stringify(result, null, 2));
