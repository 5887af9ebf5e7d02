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
// TensorFlow.js comes from the models benchmark's package (bench/models/package.json).
// Run after `pnpm run build` and `pnpm install`: pnpm run bench:matmul, or
//   node bench/matmul-vs-tfjs.mjs [--rounds 2] [--sizes 256,512,1024] [--no-save]
// The JSON is also saved as bench/results/<date>-<machine>/matmul-vs-tfjs.json unless --no-save.
import { loadTfjs } from './models/models-tfjs.mjs';
import { describeMachine, finish, measure, round } from './lib/timing.mjs';
import { randn, setNumThreads, setGemmKernel, numThreads } from '../packages/tensor/dist/index.js';

const args = process.argv.slice(2);
const flag = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const rounds = Number(flag('--rounds') ?? 2) || 2;
const sizes = (flag('--sizes') ?? '256,512,1024').split(',').map(Number);

/** Median wall and CPU milliseconds of fn() over `reps` runs, after two warm-up runs. */
async function time(fn, reps) {
  const t = await measure(fn, { warmup: 2, runs: reps });
  return { wall: t.wall_ms, cpu: t.cpu_ms };
}

const tf = await loadTfjs('tfjs-wasm');
const defaultThreads = numThreads();
const result = {
  machine: describeMachine(),
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
    const gradlab = async (kernel, threads, count) => {
      setGemmKernel(kernel);
      setNumThreads(threads);
      return gflops(await time(() => a.matmul(b).dataSync(), count));
    };
    const row = {
      tfjs_wasm: gflops(await time(() => { const y = tf.matMul(ta, tb); y.dataSync(); y.dispose(); }, reps)),
      gradlab_wasm_1thread: await gradlab('wasm', 1, reps),
      gradlab_wasm_2threads: await gradlab('wasm', 2, reps),
      gradlab_js_1thread: await gradlab('js', 1, n === 1024 ? 1 : 3),
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
finish('matmul-vs-tfjs', result);
process.exit(0); // the gemm worker threads are unref'd, but tfjs's WASM module may keep the loop alive
