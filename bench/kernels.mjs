// Benchmark of the heavy CPU kernels of @gradlab/tensor. Prints one JSON object (and saves it under
// bench/results/<date>-<machine>/kernels.json; --no-save does not):
//   matmul: square float32 matmul (2·n³ flops) at 256, 512, 1024, and a naive triple loop at 256 in
//           the same run, for comparison;
//   gemm_kernels: GFLOPS (median run) of square float32 matmul on the WebAssembly SIMD kernel and on the
//           JavaScript kernel (GRADLAB_GEMM=js), on 1 and 2 threads, at 256, 512, 1024;
//   conv2d: forward, backprop-input and backprop-filter on x [32,64,64,3], 32 3×3 filters, 'same'.
// Every figure comes from several runs after warm-up runs (bench/lib/timing.mjs): the median and the
// best wall-clock time, and the median CPU time this process used. On a machine shared with other busy
// processes the median wall time grows with the load; the best run and the CPU time suffer less. The
// load average is recorded so that a reader can tell how far to trust the medians.
// Run: pnpm run bench:kernels   (builds first), or node bench/kernels.mjs after a build, with
//   [--parts=matmul,gemm_kernels,conv2d] (default: all) [--sizes=256,512,1024] [--quick] (sizes 128,256,
//   a conv2d batch of 8, fewer runs) [--no-save]
import { describeMachine, finish, measure, round, withGflops } from './lib/timing.mjs';
import {
  randn, matmul, conv2d, conv2dBackpropInput, conv2dBackpropFilter, setGemmKernel, setNumThreads, numThreads,
} from '../packages/tensor/dist/index.js';

const ALL_PARTS = ['matmul', 'gemm_kernels', 'conv2d'];
const args = Object.fromEntries(process.argv.slice(2).map((a) => { const [k, v = 'true'] = a.replace(/^--/, '').split('='); return [k, v]; }));
const quick = args.quick === 'true';
const parts = args.parts ? args.parts.split(',') : ALL_PARTS;
for (const part of parts) if (!ALL_PARTS.includes(part)) throw new Error(`bench/kernels: --parts ${part}: expected some of ${ALL_PARTS.join(',')}`);
const sizes = (args.sizes ?? (quick ? '128,256' : '256,512,1024')).split(',').map(Number);
// Warm-up lasts at least half a second unless --quick: V8 optimises a function only after it has run a while.
const fewRuns = (n) => (quick ? { warmup: 1, runs: 3 } : n >= 1024 ? { warmup: 1, runs: 3, warmupMs: 500 } : { warmupMs: 500 });

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

const result = { machine: { ...describeMachine(), threads: numThreads() } };

if (parts.includes('matmul')) {
  result.matmul = {};
  for (const n of sizes) {
    const a = randn([n, n], { seed: 1 }), b = randn([n, n], { seed: 2 });
    result.matmul[`float32_${n}`] = withGflops(await measure(() => matmul(a, b), fewRuns(n)), 2 * n ** 3);
  }
  const n = sizes.includes(256) ? 256 : sizes[0];
  const a = randn([n, n], { seed: 1 }).dataSync(), b = randn([n, n], { seed: 2 }).dataSync(), c = new Float32Array(n * n);
  result.matmul[`naive_triple_loop_${n}`] = withGflops(await measure(() => naiveMatmul(a, b, c, n), { warmup: 1, runs: quick ? 3 : 5 }), 2 * n ** 3);
  result.matmul[`speedup_over_naive_${n}`] = round(result.matmul[`naive_triple_loop_${n}`].wall_ms / result.matmul[`float32_${n}`].wall_ms, 1);
}

// Both float32 kernels, one and two threads, in the same run (few runs: this is 12 configurations).
if (parts.includes('gemm_kernels')) {
  result.gemm_kernels = { unit: 'GFLOPS, median of 3 runs (best in parentheses)' };
  const threadsBefore = numThreads();
  for (const kernel of ['wasm', 'js']) {
    setGemmKernel(kernel);
    for (const threads of [1, 2]) {
      setNumThreads(threads);
      const row = {};
      for (const n of sizes) {
        const a = randn([n, n], { seed: 1 }), b = randn([n, n], { seed: 2 });
        const t = withGflops(await measure(() => matmul(a, b), { warmup: 1, runs: 3, warmupMs: quick ? 0 : 500 }), 2 * n ** 3);
        row[n] = `${t.gflops} (${t.gflops_best})`;
      }
      result.gemm_kernels[`${kernel}_threads_${threads}`] = row;
    }
  }
  setGemmKernel('wasm');
  setNumThreads(threadsBefore);
}

if (parts.includes('conv2d')) {
  const N = quick ? 8 : 32;
  result.conv2d = { shape: `x [${N},64,64,3], filter [3,3,3,32], strides 1, same, float32` };
  const opts = { strides: 1, padding: 'same' };
  const x = randn([N, 64, 64, 3], { seed: 3 });
  const w = randn([3, 3, 3, 32], { seed: 4 });
  const dy = randn([N, 64, 64, 32], { seed: 5 });
  const flops = 2 * N * 64 * 64 * 3 * 3 * 3 * 32; // a multiply and an add per (output, filter tap): the same for all three
  const runs = fewRuns(0);
  result.conv2d.forward = withGflops(await measure(() => conv2d(x, w, opts), runs), flops);
  result.conv2d.backprop_input = withGflops(await measure(() => conv2dBackpropInput(dy, w, x.shape, opts), runs), flops);
  result.conv2d.backprop_filter = withGflops(await measure(() => conv2dBackpropFilter(x, dy, w.shape, opts), runs), flops);
}

finish('kernels', result);
