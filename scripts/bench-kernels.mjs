// Benchmark of the heavy CPU kernels of @gradlab/tensor. Prints one JSON object:
//   matmul: square float32 matmul (2·n³ flops) at 256, 512, 1024, and a naive triple loop at 256 in
//           the same run, for comparison;
//   conv2d: forward, backprop-input and backprop-filter on x [32,64,64,3], 32 3×3 filters, 'same'.
// Every figure is the median of several runs after warm-up runs (V8 optimises a function only after
// it has run a while). Each run is timed twice: wall-clock time, and the CPU time this process used
// (process.cpuUsage). On a machine shared with other busy processes the wall time grows with the load,
// while the CPU time stays close to what the kernel costs on an idle core; the load average is printed
// so that a reader can tell which to believe.
// Run: pnpm run bench:kernels   (builds first), or node scripts/bench-kernels.mjs after a build.
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { randn, matmul, conv2d, conv2dBackpropInput, conv2dBackpropFilter } from '../packages/tensor/dist/index.js';

const round = (x, digits = 2) => Number(x.toFixed(digits));
const median = (xs) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)];

/** Median wall and CPU milliseconds of fn() over `runs` runs, after `warmup` unmeasured runs. */
function time(fn, { warmup = 2, runs = 5 } = {}) {
  for (let i = 0; i < warmup; i++) fn();
  const wall = [], cpu = [];
  for (let i = 0; i < runs; i++) {
    const cpuStart = process.cpuUsage(), start = performance.now();
    fn();
    wall.push(performance.now() - start);
    const used = process.cpuUsage(cpuStart);
    cpu.push((used.user + used.system) / 1000);
  }
  return { wall_ms: round(median(wall), 1), cpu_ms: round(median(cpu), 1) };
}

/** A timing with the flop rate it implies, by each clock. */
function withGflops(t, flops) {
  return { ...t, gflops_wall: round(flops / (t.wall_ms * 1e6)), gflops_cpu: round(flops / (t.cpu_ms * 1e6)) };
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
  const t = time(() => matmul(a, b), n === 1024 ? { warmup: 1, runs: 3 } : { warmup: 2, runs: 5 });
  result.matmul[`float32_${n}`] = withGflops(t, 2 * n ** 3);
}
{
  const n = 256;
  const a = randn([n, n], { seed: 1 }).dataSync(), b = randn([n, n], { seed: 2 }).dataSync(), c = new Float32Array(n * n);
  result.matmul.naive_triple_loop_256 = withGflops(time(() => naiveMatmul(a, b, c, n), { warmup: 1, runs: 3 }), 2 * n ** 3);
  result.matmul.speedup_over_naive_256_cpu =
    round(result.matmul.float32_256.gflops_cpu / result.matmul.naive_triple_loop_256.gflops_cpu, 1);
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
