// Benchmark of the heavy CPU kernels of @gradlab/tensor. Prints one JSON object:
//   matmul: square float32 matmul (2·n³ flops) at 256, 512, 1024, and a naive triple loop at 256 in
//           the same run, for comparison;
//   gemm_kernels: GFLOPS (median run) of square float32 matmul on the WebAssembly SIMD kernel and on the
//           JavaScript kernel (GRADLAB_GEMM=js), on 1 and 2 threads, at 256, 512, 1024;
//   conv2d: forward, backprop-input and backprop-filter on x [32,64,64,3], 32 3×3 filters, 'same'.
// Every figure comes from several runs after warm-up runs (V8 optimises a function only after
// it has run a while). Each run is timed twice: wall-clock time, and the CPU time this process used
// (process.cpuUsage). On a machine shared with other busy processes the median wall time grows with
// the load; the best run and the CPU time suffer less. The load average is printed so that a reader
// can tell how far to trust the medians.
// Run: pnpm run bench:kernels   (builds first), or node scripts/bench-kernels.mjs after a build.
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import {
  randn, matmul, conv2d, conv2dBackpropInput, conv2dBackpropFilter, setGemmKernel, setNumThreads, numThreads,
} from '../packages/tensor/dist/index.js';

const round = (x, digits = 2) => Number(x.toFixed(digits));
const median = (xs) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)];

/**
 * Times of fn() over `runs` runs, after warm-up runs (at least `warmup`, and at least half a second so
 * that V8's optimising compiler, which works on a background thread, has finished):
 * the median and the best wall-clock time, and the median CPU time.
 */
function time(fn, { warmup = 2, runs = 7 } = {}) {
  const warmStart = performance.now();
  for (let i = 0; i < warmup || performance.now() - warmStart < 500; i++) fn();
  const wall = [], cpu = [];
  for (let i = 0; i < runs; i++) {
    const cpuStart = process.cpuUsage(), start = performance.now();
    fn();
    wall.push(performance.now() - start);
    const used = process.cpuUsage(cpuStart);
    cpu.push((used.user + used.system) / 1000);
  }
  return { wall_ms: round(median(wall), 1), best_wall_ms: round(Math.min(...wall), 1), cpu_ms: round(median(cpu), 1) };
}

/** A timing with the flop rates it implies: median wall time, best wall time, median CPU time. */
function withGflops(t, flops) {
  const rate = (ms) => round(flops / (ms * 1e6));
  return { ...t, gflops: rate(t.wall_ms), gflops_best: rate(t.best_wall_ms), gflops_cpu: rate(t.cpu_ms) };
}

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
  machine: {
    cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version, platform: `${os.platform()} ${os.arch()}`,
    loadavg_1min_at_start: round(os.loadavg()[0]),
  },
  matmul: {},
  conv2d: { shape: 'x [32,64,64,3], filter [3,3,3,32], strides 1, same, float32' },
};

for (const n of [256, 512, 1024]) {
  const a = randn([n, n], { seed: 1 }), b = randn([n, n], { seed: 2 });
  const t = time(() => matmul(a, b), n === 1024 ? { warmup: 1, runs: 3 } : {});
  result.matmul[`float32_${n}`] = withGflops(t, 2 * n ** 3);
}
{
  const n = 256;
  const a = randn([n, n], { seed: 1 }).dataSync(), b = randn([n, n], { seed: 2 }).dataSync(), c = new Float32Array(n * n);
  result.matmul.naive_triple_loop_256 = withGflops(time(() => naiveMatmul(a, b, c, n), { warmup: 1, runs: 5 }), 2 * n ** 3);
  result.matmul.speedup_over_naive_256 = round(result.matmul.naive_triple_loop_256.wall_ms / result.matmul.float32_256.wall_ms, 1);
}

// Both float32 kernels, one and two threads, in the same run (few runs: this is 12 configurations).
result.gemm_kernels = { unit: 'GFLOPS, median of 3 runs (best in parentheses)' };
{
  const threadsBefore = numThreads();
  for (const kernel of ['wasm', 'js']) {
    setGemmKernel(kernel);
    for (const threads of [1, 2]) {
      setNumThreads(threads);
      const row = {};
      for (const n of [256, 512, 1024]) {
        const a = randn([n, n], { seed: 1 }), b = randn([n, n], { seed: 2 });
        const t = withGflops(time(() => matmul(a, b), { warmup: 1, runs: 3 }), 2 * n ** 3);
        row[n] = `${t.gflops} (${t.gflops_best})`;
      }
      result.gemm_kernels[`${kernel}_threads_${threads}`] = row;
    }
  }
  setGemmKernel('wasm');
  setNumThreads(threadsBefore);
}

{
  const opts = { strides: 1, padding: 'same' };
  const x = randn([32, 64, 64, 3], { seed: 3 });
  const w = randn([3, 3, 3, 32], { seed: 4 });
  const dy = randn([32, 64, 64, 32], { seed: 5 });
  const flops = 2 * 32 * 64 * 64 * 3 * 3 * 3 * 32; // a multiply and an add per (output, filter tap): the same for all three
  result.conv2d.forward = withGflops(time(() => conv2d(x, w, opts)), flops);
  result.conv2d.backprop_input = withGflops(time(() => conv2dBackpropInput(dy, w, x.shape, opts)), flops);
  result.conv2d.backprop_filter = withGflops(time(() => conv2dBackpropFilter(x, dy, w.shape, opts)), flops);
}

result.machine.loadavg_1min_at_end = round(os.loadavg()[0]);
console.log(JSON.stringify(result, null, 2));
