// Square float32 matmul, C = A·B at n = 256, 512, 1024: TensorFlow.js's WASM backend (XNNPACK, f32x4 SIMD,
// one thread) against gradlab in the same process. Prints one JSON object.
//
//   tfjs_wasm               tf.matMul + dataSync, one thread (tfjs-backend-wasm's default in Node)
//   gradlab_wasm_1thread    gradlab's matmul op on the cpu backend, WebAssembly SIMD kernel, one thread
//   gradlab_wasm_2threads   the same on two threads (the default on a 2-core machine)
//   gradlab_js_1thread      the same op with the plain JavaScript kernel (GRADLAB_GEMM=js), one thread
//
// For each: the median wall-clock ms over several runs after two warm-up runs, GFLOPS = 2·n³ / time,
// and GFLOPS per CPU second (this process's CPU time, worker threads included), which a shared machine
// disturbs less. Ratios are gradlab / TensorFlow.js on wall-clock GFLOPS (> 1: gradlab faster).
//
// Run after `pnpm run build` and `pnpm install`: node bench/models/matmul-vs-tfjs.mjs [--rounds 2]
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { loadTfjs } from './models-tfjs.mjs';
import { randn, setNumThreads, setGemmKernel, numThreads } from '../../packages/tensor/dist/index.js';

const args = process.argv.slice(2);
const rounds = Number(args[args.indexOf('--rounds') + 1] ?? 2) || 2;
const sizes = [256, 512, 1024];
const median = (xs) => [...xs].sort((p, q) => p - q)[xs.length >> 1];
const round = (x) => Number(x.toFixed(2));

/** Median wall and CPU milliseconds of fn() over `reps` runs, after two warm-up runs. */
function time(fn, reps) {
  fn(); fn();
  const wall = [], cpu = [];
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage(), t0 = performance.now();
    fn();
    wall.push(performance.now() - t0);
    const used = process.cpuUsage(c0);
    cpu.push((used.user + used.system) / 1000);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

const tf = await loadTfjs('tfjs-wasm');
const defaultThreads = numThreads();
const result = {
  machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version, loadavg_1min_at_start: round(os.loadavg()[0]) },
  note: 'GFLOPS from the median wall time (gflops) and from the median CPU time of the process (gflops_per_cpu_s)',
  rounds: [],
};
for (let r = 0; r < rounds; r++) {
  const roundResult = {};
  for (const n of sizes) {
    const a = randn([n, n], { seed: 1 }), b = randn([n, n], { seed: 2 });
    const ta = tf.tensor2d(a.dataSync(), [n, n]), tb = tf.tensor2d(b.dataSync(), [n, n]);
    const reps = n === 1024 ? 3 : 7;
    const gflops = (t) => ({ ms: round(t.wall), gflops: round((2 * n ** 3) / t.wall / 1e6), gflops_per_cpu_s: round((2 * n ** 3) / t.cpu / 1e6) });
    const gradlab = (kernel, threads, count) => {
      setGemmKernel(kernel);
      setNumThreads(threads);
      return gflops(time(() => a.matmul(b).dataSync(), count));
    };
    const row = {
      tfjs_wasm: gflops(time(() => { const y = tf.matMul(ta, tb); y.dataSync(); y.dispose(); }, reps)),
      gradlab_wasm_1thread: gradlab('wasm', 1, reps),
      gradlab_wasm_2threads: gradlab('wasm', 2, reps),
      gradlab_js_1thread: gradlab('js', 1, n === 1024 ? 1 : 3),
    };
    setGemmKernel('wasm');
    setNumThreads(defaultThreads);
    ta.dispose(); tb.dispose();
    row.ratio_wasm_1thread_to_tfjs = round(row.gradlab_wasm_1thread.gflops / row.tfjs_wasm.gflops);
    row.ratio_wasm_2threads_to_tfjs = round(row.gradlab_wasm_2threads.gflops / row.tfjs_wasm.gflops);
    roundResult[`float32_${n}`] = row;
  }
  result.rounds.push(roundResult);
}
result.machine.loadavg_1min_at_end = round(os.loadavg()[0]);
console.log(JSON.stringify(result, null, 2));
process.exit(0); // the gemm worker threads are unref'd, but tfjs's WASM module may keep the loop alive
