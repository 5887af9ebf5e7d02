// Benchmark of the gpu backend (@gradlab/gpu) against the CPU backend, in one run. Prints one JSON object
// (and saves it under bench/results/<date>-<machine>/gpu.json; --no-save does not):
//   for the CPU backend and for each GPU.js mode given (default: every mode available here),
//   matmul    square float32 matmul at 256, 512, 1024: median ms and GFLOPS (2·n³ flops);
//   conv2d    forward, backprop-input and backprop-filter on x [32,64,64,3], 32 3×3 filters, 'same';
//   mlp_step  one training step of a 784-128-10 network on a batch of 64 (forward, hand-written
//             backward, SGD update; about 30 kernels), and the live textures before and after 50 steps;
//   compile   first-call latency of every new kernel (shader or WASM compile + first run), summed.
// A mode may be written `<mode>-async` (e.g. webasm-async, the default list's last entry where webasm
// works): gradlab's backend under GPU.js's asynchronous contract, where webasm splits kernels of 4,096
// outputs or more over worker threads. Every measurement awaits `tensor.data()`, which for the
// synchronous modes resolves at once, so all modes are timed by the same code.
// --models=image,speech,text adds one training step (Sequential.trainOnBatch, Adam, batch 32) of each of
// the article's models at the sizes of bench/models (64×64×3 images, 50 frames × 40, 40 words × 300) on
// the cpu backend and on every mode: its median time and the loss of the first step, which must agree
// between backends (the same seed gives the same weights and batch).
// The mode `webgpu` runs gradlab's backend on WGSL compute shaders; in Node it needs installNodeWebGPU()
// (Dawn from the `webgpu` package), which this script calls when webgpu is asked for.
// With --webgpu, also GPU.js's webgpu mode through Dawn (the `webgpu` package, a dependency of gpu.js),
// where an adapter answers: the same one-thread-per-output matmul and conv2d kernels as gradlab's (written
// out here, outside gradlab's backend), awaited per call.
// Every timing includes reading the result back to JavaScript (a GPU runs asynchronously: without a
// readback the clock would stop before the work does), and is the median of several runs after a
// warm-up run that also compiles the kernels. Runs that take longer than a few seconds are repeated
// fewer times (the JSON says how many). On this 2-core machine with no GPU, headlessgl is Mesa's
// software OpenGL (llvmpipe): a real shader path, but running on the CPU.
//
// Run: pnpm run bench:gpu                  (builds first; re-runs itself under xvfb-run when it is installed)
//      node bench/gpu.mjs [--modes=cpu,webasm,webasm-async,headlessgl] [--sizes=256,512] [--quick] [--no-save]
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { describeMachine, finish, measure, round } from './lib/timing.mjs';
import * as T from '../packages/tensor/dist/index.js';
import { Device, createGpuBackend, availableModes, installNodeWebGPU, modeSupport, tidy, MODE_ORDER } from '../packages/gpu/dist/index.js';

// headless-gl needs an X display: without one, run this script again under xvfb-run when it is installed.
if (!modeSupport('headlessgl').ok && !process.env.DISPLAY && !process.env.GRADLAB_BENCH_UNDER_XVFB &&
    spawnSync('sh', ['-c', 'command -v xvfb-run']).status === 0) {
  const child = spawnSync('xvfb-run', ['-a', process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit', env: { ...process.env, GRADLAB_BENCH_UNDER_XVFB: '1' },
  });
  process.exit(child.status ?? 1);
}

const args = Object.fromEntries(process.argv.slice(2).map((a) => { const [k, v = 'true'] = a.replace(/^--/, '').split('='); return [k, v]; }));
const quick = args.quick === 'true';
const sizes = (args.sizes ?? (quick ? '128,256' : '256,512,1024')).split(',').map(Number);
const requested = args.modes !== undefined ? args.modes.split(',').filter((m) => m && m !== 'true')
  : [...availableModes(), ...(modeSupport('webasm').ok ? ['webasm-async'] : [])];
const articleModels = args.models && args.models !== 'true' ? args.models.split(',') : [];
const webgpuInstall = requested.some((m) => m.startsWith('webgpu')) ? await installNodeWebGPU() : null;
/** Give up repeating a measurement once one run takes this long (ms): the median of fewer runs. */
const SLOW_MS = Number(args.slow ?? 4000);

/** Median ms of (awaited) fn() after one warm-up run; fewer runs when a run is slow. */
async function time(fn, runs = 5) {
  const t = await measure(fn, { warmup: 1, runs, slowMs: SLOW_MS });
  return { ms: round(t.wall_ms, 2), runs: t.runs, first_ms: t.first_ms };
}

/** Run `op`, read the result back (awaited: it may be pending), free it: one timed unit. */
const readBack = (op) => async () => { const y = op(); await y.data(); if (y.backend !== 'cpu') y.storage.dispose(); };

async function benchBackend(name, device) {
  T.setBackend(name);
  const out = { matmul: {}, conv2d: {} };
  const compileAt = () => (device ? device.compileMs : 0);
  for (const n of sizes) {
    const a = T.randn([n, n], { seed: 1 }), b = T.randn([n, n], { seed: 2 });
    const before = compileAt();
    const t = await time(readBack(() => a.matmul(b)), n >= 1024 ? 3 : 5);
    out.matmul[`float32_${n}`] = { ...t, gflops: round((2 * n ** 3) / (t.ms * 1e6), 3), compile_ms: round(compileAt() - before, 1) };
    if (device) { a.storage.dispose(); b.storage.dispose(); }
  }
  const [N, H, W, C, F] = quick ? [8, 32, 32, 3, 16] : [32, 64, 64, 3, 32];
  out.conv2d.shape = `x [${N},${H},${W},${C}], filter [3,3,${C},${F}], strides 1, same, float32`;
  const x = T.randn([N, H, W, C], { seed: 3 }), w = T.randn([3, 3, C, F], { seed: 4 }), dy = T.randn([N, H, W, F], { seed: 5 });
  const opts = { padding: 'same' };
  const flops = 2 * N * H * W * 9 * C * F;
  for (const [label, op] of [
    ['forward', () => T.conv2d(x, w, opts)],
    ['backprop_input', () => T.conv2dBackpropInput(dy, w, x.shape, opts)],
    ['backprop_filter', () => T.conv2dBackpropFilter(x, dy, w.shape, opts)],
  ]) {
    const before = compileAt();
    const t = await time(readBack(op));
    out.conv2d[label] = { ...t, gflops: round(flops / (t.ms * 1e6), 3), compile_ms: round(compileAt() - before, 1) };
  }
  out.mlp_step = await mlpStep(device);
  if (articleModels.length) out.article_models = await articleSteps(articleModels, device);
  T.setBackend('cpu');
  return out;
}

/**
 * One Adam training step of each of the article's models (batch 32) on the active backend; on a gpu
 * backend also the kernel dispatches, readbacks and uploads of one step (counted over the timed steps).
 */
async function articleSteps(names, device) {
  const { buildGradlabModel, gradlabBatch } = await import('./models/models-gradlab.mjs');
  const out = {};
  for (const name of names) {
    T.setSeed(1);
    const model = buildGradlabModel(name);
    const { x, y } = gradlabBatch(name, 32);
    const firstLoss = await model.trainOnBatch(x, y);
    const counts = () => [device?.dispatches ?? 0, device?.readbacks ?? 0, device?.uploads ?? 0];
    const before = counts();
    let steps = 0;
    const t = await time(() => { steps++; return model.trainOnBatch(x, y); }, 5);
    const per = counts().map((c, i) => round((c - before[i]) / steps, 1));
    out[name] = { ...t, first_loss: round(firstLoss, 5), ...(device ? { per_step: { dispatches: per[0], readbacks: per[1], uploads: per[2] } } : {}) };
  }
  return out;
}

/** One SGD step of a 784-128-10 network under softmax-free squared error, every op on the active backend. */
async function mlpStep(device) {
  const batch = 64;
  const x = T.randn([batch, 784], { seed: 6 }), y = T.randn([batch, 10], { seed: 7 });
  let p = { w1: T.randn([784, 128], { seed: 8, std: 0.05 }), b1: T.zeros([128]), w2: T.randn([128, 10], { seed: 9, std: 0.1 }) };
  const step = async () => {
    const next = tidy(() => {
      const pre = x.matmul(p.w1).add(p.b1);
      const h = pre.relu();
      const diff = h.matmul(p.w2).sub(y);
      const loss = diff.square().mean();
      const dOut = diff.mul(2 / diff.size);
      const dPre = dOut.matmul(p.w2.T).mul(pre.gt(0));
      return { w1: p.w1.sub(x.T.matmul(dPre).mul(0.01)), b1: p.b1.sub(dPre.sum(0).mul(0.01)), w2: p.w2.sub(h.T.matmul(dOut).mul(0.01)), loss };
    });
    await next.loss.data();
    if (device) for (const old of [p.w1, p.b1, p.w2, next.loss]) old.storage.dispose();
    p = { w1: next.w1, b1: next.b1, w2: next.w2 };
  };
  const t = await time(step, 10);
  await device?.settle();
  const texturesBefore = device?.liveTextures ?? 0, storagesBefore = device?.liveStorages ?? 0;
  const steps = quick ? 10 : 50;
  for (let s = 0; s < steps; s++) await step();
  await device?.settle();      // under the async contract, disposed storages are freed once settled
  return {
    ...t,
    memory: device ? {
      steps, live_textures_before: texturesBefore, live_textures_after: device.liveTextures,
      live_storages_before: storagesBefore, live_storages_after: device.liveStorages, textures_created_total: device.texturesCreated,
    } : null,
  };
}

const result = {
  machine: describeMachine(),
  note: 'ms = median wall-clock time including the readback of the result; first_ms = the warm-up run, which compiles the kernels',
  modes_available: availableModes(),
  modes_missing: Object.fromEntries(MODE_ORDER.filter((m) => !modeSupport(m).ok).map((m) => [m, modeSupport(m).reason])),
  ...(webgpuInstall ? { webgpu_in_node: webgpuInstall } : {}),
  backends: {},
};

result.backends.cpu_backend = await benchBackend('cpu', null);
for (const label of requested) {
  const async = label.endsWith('-async');
  const mode = async ? label.slice(0, -'-async'.length) : label;
  const support = mode === 'webgpu' && webgpuInstall && !webgpuInstall.ok ? webgpuInstall : modeSupport(mode);
  if (!support.ok) { result.backends[`gpu_${label}`] = { skipped: support.reason }; continue; }
  const device = new Device({ mode, async: async || undefined, log: false });
  const name = `gpu-bench-${label}`;
  T.registerBackend(name, () => createGpuBackend(device, name));
  const started = performance.now();
  result.backends[`gpu_${label}`] = {
    ...(async ? { contract: 'async', worker_threads: typeof SharedArrayBuffer !== 'undefined' ? os.cpus().length : 1 } : {}),
    max_texture_size: Number.isFinite(device.maxTextureSize) ? device.maxTextureSize : null,
    tile_elements: device.tileElements,
    ...(await benchBackend(name, device)),
    kernels_compiled: device.kernelsCompiled,
    compile_ms_total: round(device.compileMs, 1),
    seconds_total: round((performance.now() - started) / 1000, 1),
  };
}
if (args.webgpu === 'true') result.webgpu = await benchWebGPU();
finish('gpu', result);
// Dawn keeps the event loop alive after its device is made: leave explicitly.
process.exit(0);

/** matmul and conv2d as gradlab writes them, on GPU.js's webgpu mode (Dawn in Node), awaited per call. */
async function benchWebGPU() {
  // gpu.js from @gradlab/gpu's dependencies, and webgpu from gpu.js's (pnpm links them there, not at the root)
  const fromGpu = createRequire(new URL('../packages/gpu/package.json', import.meta.url));
  const gpujsPath = fromGpu.resolve('gpu.js');
  let dawn;
  try {
    dawn = await import(pathToFileURL(createRequire(gpujsPath).resolve('webgpu')).href);
  } catch (error) {
    return { skipped: `the webgpu package (Dawn) does not load here: ${String(error.message).split('\n')[0]}` };
  }
  Object.assign(globalThis, dawn.globals);
  // Dawn's Node binding refuses a plain function for device.onuncapturederror, which GPU.js assigns:
  // keep the handler on the object instead (errors still reach the console through Dawn's own log).
  const proto = globalThis.GPUDevice?.prototype;
  if (proto) Object.defineProperty(proto, 'onuncapturederror', { configurable: true, set(fn) { this.__gradlabOnError = fn; }, get() { return this.__gradlabOnError ?? null; } });
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: dawn.create([]) }, configurable: true });
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) return { skipped: 'navigator.gpu.requestAdapter() gave no adapter' };
  const { GPU } = fromGpu('gpu.js');
  const gpu = new GPU({ mode: 'webgpu' });
  const out = { adapter: adapter.info ?? null, matmul: {}, conv2d: {} };
  const awaitTime = async (fn, runs = 5) => {
    const t = await measure(fn, { warmup: 1, runs });
    return { ms: round(t.wall_ms, 3), runs, first_ms: t.first_ms };
  };
  for (const n of sizes) {
    const a = T.randn([n, n], { seed: 1 }).dataSync(), b = T.randn([n, n], { seed: 2 }).dataSync();
    const kernel = gpu.createKernel(`function(a, b) {
      const o = this.thread.x;
      const i = Math.floor((o + 0.5) / ${n});
      const j = o - i * ${n};
      let sum = 0.0;
      for (let k = 0; k < ${n}; k += 4) {
        sum += a[i * ${n} + k] * b[k * ${n} + j] + a[i * ${n} + k + 1] * b[(k + 1) * ${n} + j]
             + a[i * ${n} + k + 2] * b[(k + 2) * ${n} + j] + a[i * ${n} + k + 3] * b[(k + 3) * ${n} + j];
      }
      return sum;
    }`, { output: [n * n], precision: 'single' });
    const t = await awaitTime(() => kernel(a, b));
    const c = await kernel(a, b);
    let ref = 0; for (let k = 0; k < n; k++) ref += a[3 * n + k] * b[k * n + 5];
    out.matmul[`float32_${n}`] = { ...t, gflops: round((2 * n ** 3) / (t.ms * 1e6), 2), check_c_3_5: [round(c[3 * n + 5], 4), round(ref, 4)] };
  }
  const [N, H, W, C, F] = quick ? [8, 32, 32, 3, 16] : [32, 64, 64, 3, 32];
  const x = T.randn([N, H, W, C], { seed: 3 }).dataSync(), w = T.randn([3, 3, C, F], { seed: 4 }).dataSync();
  const conv = gpu.createKernel(`function(x, w) {
    const o = this.thread.x;
    const f = o - Math.floor((o + 0.5) / ${F}) * ${F};
    const r1 = Math.floor((o + 0.5) / ${F});
    const ox = r1 - Math.floor((r1 + 0.5) / ${W}) * ${W};
    const r2 = Math.floor((r1 + 0.5) / ${W});
    const oy = r2 - Math.floor((r2 + 0.5) / ${H}) * ${H};
    const n = Math.floor((r2 + 0.5) / ${H});
    let sum = 0.0;
    for (let ky = 0; ky < 3; ky++) {
      const iy = oy + ky - 1;
      if (iy >= 0 && iy < ${H}) {
        for (let kx = 0; kx < 3; kx++) {
          const ix = ox + kx - 1;
          if (ix >= 0 && ix < ${W}) {
            for (let c = 0; c < ${C}; c++) {
              sum += x[((n * ${H} + iy) * ${W} + ix) * ${C} + c] * w[((ky * 3 + kx) * ${C} + c) * ${F} + f];
            }
          }
        }
      }
    }
    return sum;
  }`, { output: [N * H * W * F], precision: 'single' });
  const t = await awaitTime(() => conv(x, w));
  out.conv2d.forward = { shape: `x [${N},${H},${W},${C}], filter [3,3,${C},${F}], same`, ...t, gflops: round((2 * N * H * W * 9 * C * F) / (t.ms * 1e6), 2) };
  return out;
}
