// One JavaScript framework's side of compare.mjs, in its own process: square float32 matmul and the
// article's first two convolutions (forward, input gradient, filter gradient). Prints one JSON object.
//   node bench/models/compare-ops.mjs --framework gradlab|tfjs-wasm|jax-js [--parts matmul,conv]
//     [--sizes 256,512,1024,2048] [--runs 7]
// gradlab's thread count comes from GRADLAB_THREADS (compare.mjs runs it with 1 and with 2).
import { createRequire } from 'node:module';
import path from 'node:path';
import { describeMachine, loadAverage, measure, round } from '../lib/timing.mjs';

const require = createRequire(import.meta.url);
const args = Object.fromEntries(process.argv.slice(2).map((a) => { const [k, v = 'true'] = a.replace(/^--/, '').split('='); return [k, v]; }));
const framework = args.framework;
const parts = (args.parts ?? 'matmul,conv').split(',');
const sizes = (args.sizes ?? '256,512,1024,2048').split(',').map(Number);
const runs = Number(args.runs ?? 7);

/** x [32,64,64,3] * [3,3,3,32] and x [32,31,31,32] * [3,3,32,64], 'valid', stride 1 (NHWC, HWIO). */
export const CONV_LAYERS = { conv1: { x: [32, 64, 64, 3], w: [3, 3, 3, 32] }, conv2: { x: [32, 31, 31, 32], w: [3, 3, 32, 64] } };

const random = (size) => { const a = new Float32Array(size); for (let i = 0; i < size; i++) a[i] = Math.random() * 2 - 1; return a; };
const sizeOf = (shape) => shape.reduce((a, b) => a * b, 1);

/** Each framework as: matmul(n) → run, conv(layer) → { forward, backprop_input, backprop_filter } runs. */
async function load(name) {
  if (name === 'gradlab') {
    const t = await import('gradlab');
    // Each run reads its result and then gives its memory back, as TF.js's runs do with dispose() (and
    // as gradlab's own fit/predict steps do, tensor.md §7): without it every run's output would be fresh
    // pages, whose faults (~13 µs a page here) can cost more than the kernel, by the luck of the allocator.
    // gradlab's CPU ops are synchronous: the result is complete when the op returns, so it is not read
    // (dataSync() would pin its array, and a pinned array is never recycled: each run would be fresh memory).
    const once = (run) => () => t.recycleAfter('bench', () => { run(); return null; }, () => []);
    return {
      version: `threads ${t.numThreads()}`,
      matmul(n) { const a = t.randn([n, n], { seed: 1 }), b = t.randn([n, n], { seed: 2 }); return once(() => t.matmul(a, b)); },
      conv({ x: xs, w: ws }) {
        const x = t.fromTypedArray(random(sizeOf(xs)), xs), w = t.fromTypedArray(random(sizeOf(ws)), ws);
        const y = t.conv2d(x, w, { padding: 'valid' });
        const dy = t.fromTypedArray(random(y.size), y.shape);
        return {
          forward: once(() => t.conv2d(x, w, { padding: 'valid' })),
          backprop_input: once(() => t.conv2dBackpropInput(dy, w, xs, { padding: 'valid' })),
          backprop_filter: once(() => t.conv2dBackpropFilter(x, dy, ws, { padding: 'valid' })),
        };
      },
    };
  }
  if (name === 'tfjs-wasm') {
    const tf = require('@tensorflow/tfjs');
    const wasm = require('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')) + '/dist/');
    if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: the wasm backend failed to initialise');
    const kernel = (kernelName, inputs, attrs) => () => { const out = tf.engine().runKernel(kernelName, inputs, attrs); out.dataSync(); out.dispose(); };
    return {
      version: `${tf.version.tfjs} wasm (SIMD, 1 thread)`,
      matmul(n) { const a = tf.randomNormal([n, n]), b = tf.randomNormal([n, n]); return () => { const c = tf.matMul(a, b); c.dataSync(); c.dispose(); }; },
      conv({ x: xs, w: ws }) {
        const x = tf.tensor(random(sizeOf(xs)), xs), w = tf.tensor(random(sizeOf(ws)), ws);
        const y = tf.conv2d(x, w, 1, 'valid');
        const dy = tf.tensor(random(y.size), y.shape);
        const attrs = { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] };
        return {
          forward: () => { const out = tf.conv2d(x, w, 1, 'valid'); out.dataSync(); out.dispose(); },
          backprop_input: kernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: xs }),
          backprop_filter: kernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: ws }),
        };
      },
    };
  }
  if (name === 'jax-js') {
    const jax = await import('@jax-js/jax');
    const { numpy: np, lax, grad } = jax;
    await jax.init('wasm');
    jax.defaultDevice('wasm');
    const { readFileSync } = await import('node:fs');
    const main = require.resolve('@jax-js/jax'); // …/@jax-js/jax/dist/index.cjs: its package.json is not exported
    const { version } = JSON.parse(readFileSync(path.join(path.dirname(main), '..', 'package.json'), 'utf8'));
    const array = (data, shape) => np.array(data).reshape(shape);
    return {
      version: `${version} wasm device`,
      matmul(n) { const a = array(random(n * n), [n, n]), b = array(random(n * n), [n, n]); return () => np.matmul(a.ref, b.ref).dataSync(); },
      conv({ x: xs, w: ws }) {
        // jax-js is channels-first: x [N, C, H, W], w [O, I, kh, kw]; the products are the same
        const xc = [xs[0], xs[3], xs[1], xs[2]], wc = [ws[3], ws[2], ws[0], ws[1]];
        const x = array(random(sizeOf(xc)), xc), w = array(random(sizeOf(wc)), wc);
        const out = [xs[0], ws[3], xs[1] - ws[0] + 1, xs[2] - ws[1] + 1];
        const dy = array(random(sizeOf(out)), out);
        const conv = (a, b) => lax.conv(a, b, [1, 1], 'VALID');
        // no separate backprop kernels: each gradient is grad of ⟨conv(x, w), dy⟩, forward pass included
        return {
          forward: () => conv(x.ref, w.ref).dataSync(),
          backprop_input: () => grad((xx) => np.sum(conv(xx, w.ref).mul(dy.ref)))(x.ref).dataSync(),
          backprop_filter: () => grad((ww) => np.sum(conv(x.ref, ww).mul(dy.ref)))(w.ref).dataSync(),
        };
      },
    };
  }
  throw new Error(`compare-ops: --framework ${name}: expected gradlab, tfjs-wasm or jax-js`);
}

const fw = await load(framework);
const out = { framework, version: fw.version, machine: describeMachine() };
if (parts.includes('matmul')) {
  out.matmul = {};
  for (const n of sizes) {
    const r = await measure(fw.matmul(n), { warmup: 2, warmupMs: n >= 1024 ? 0 : 500, runs: n >= 1024 ? 3 : runs });
    out.matmul[n] = { ...r, gflops: round(2 * n ** 3 / r.wall_ms / 1e6, 2), gflops_cpu: round(2 * n ** 3 / r.cpu_ms / 1e6, 2) };
  }
}
if (parts.includes('conv')) {
  out.conv = {};
  for (const [layer, shapes] of Object.entries(CONV_LAYERS)) {
    out.conv[layer] = {};
    for (const [pass, run] of Object.entries(fw.conv(shapes))) {
      try { out.conv[layer][pass] = await measure(run, { warmup: 1, runs: Math.min(runs, 5), slowMs: 1500 }); }
      catch (error) { out.conv[layer][pass] = { error: String(error?.message ?? error).split('\n')[0] }; }
    }
  }
}
out.loadavg_at_end = loadAverage();
console.log(JSON.stringify(out));
process.exit(0); // jax-js and tfjs may keep handles open
