// The device run's Node half (bench/device/run.sh calls it): gradlab's gpu backend in one GPU.js mode
// (default webgpu, through Dawn: installNodeWebGPU) against gradlab's cpu backend, in one process:
//   conformance  every check of the backend conformance suite (packages/tensor/test/conformance/checks.ts),
//                the device's values against the cpu backend's within each check's tolerance;
//   models       one training step (trainOnBatch, Adam) of each article model, image at batch 32 and the
//                LSTM models (speech, text) at batch 128, built from the same seed on both backends: the
//                loss within 1e-4 relative, and each parameter's gradient within 1e-4 relative
//                (‖g_device − g_cpu‖ / ‖g_cpu‖, per parameter; the largest element error is reported too);
//                then the median time of a step on each backend, and the device's dispatches, readbacks
//                and uploads per step; on webgpu also the image step with GPU.js's own matmul and conv
//                kernels (wgslMatmul: false) beside the WGSL matmul and im2col convolutions;
//   matmul       float32 matmul on the device at n = 1024, 2048, 4096 (TFLOPS, 2n³ per product; a chain
//                of products and one readback of a sum, so the clock covers the work and not the copy of
//                64 MB back), on webgpu also with GPU.js's own kernel (wgslMatmul: false) at the smallest and
//                largest n, and the cpu backend at the largest n once.
// Writes one JSON object to --out (and stdout). Exit status 0 when every part ran and passed, 1 otherwise.
//
// Run: node bench/device/check.mjs [--mode=webgpu|webasm-async|headlessgl|…] [--out=FILE] [--quick]
//      [--parts=conformance,models,matmul]
// --quick shrinks every size (batch 2, matmul 128/256) so that the script can be tried on a CPU machine
// in a mode that runs there (e.g. --mode=webasm-async): this is how it is tested without a GPU.
import { writeFileSync } from 'node:fs';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { describeMachine, measure, round } from '../lib/timing.mjs';
import * as T from '../../packages/tensor/dist/index.js';
import { resetLayerNames } from '../../packages/layers/dist/index.js';
import { Device, createGpuBackend, installNodeWebGPU, modeSupport } from '../../packages/gpu/dist/index.js';
import { buildGradlabModel, gradlabBatch } from '../models/models-gradlab.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(process.argv.slice(2).map((a) => { const [k, v = 'true'] = a.replace(/^--/, '').split('='); return [k, v]; }));
const label = args.mode ?? 'webgpu';
const quick = args.quick === 'true';
const parts = new Set((args.parts ?? 'conformance,models,matmul').split(','));
/** The targets: float32 agreement with the cpu backend. */
const LOSS_RTOL = 1e-4, GRAD_RTOL = 1e-4;
const BATCHES = quick ? { image: 2, speech: 2, text: 2 } : { image: 32, speech: 128, text: 128 };
const MATMUL_SIZES = quick ? [128, 256] : [1024, 2048, 4096];

const result = { machine: describeMachine(), mode: label, quick, started: new Date().toISOString(), parts: {} };
let failed = false;
const save = () => {
  const json = JSON.stringify(result, null, 2) + '\n';
  if (args.out) writeFileSync(args.out, json);
  return json;
};
/** Each part's result is saved as soon as it exists, so a run stopped by its time limit still reports what it did. */
const record = (name, value) => { result.parts[name] = value; save(); };

// ---- the device under test --------------------------------------------------------------------
const async = label.endsWith('-async');
const mode = async ? label.slice(0, -'-async'.length) : label;
if (mode === 'webgpu') {
  result.webgpu_in_node = await installNodeWebGPU();
  console.error(`[check] webgpu in node: ${JSON.stringify(result.webgpu_in_node)}`);
}
const support = mode === 'webgpu' && !result.webgpu_in_node.ok ? result.webgpu_in_node : modeSupport(mode);
if (!support.ok) {
  result.skipped = `mode '${label}' is not available here: ${support.reason}`;
  console.error(`[check] ${result.skipped}`);
  process.stdout.write(save());
  process.exit(1);
}
const device = new Device({ mode, async: async || undefined, log: false });
const NAME = `gpu-${label}`;
T.registerBackend(NAME, () => createGpuBackend(device, NAME));
result.device = { label: device.label, async: device.async, tile_elements: device.tileElements };

/** Run `part`; an exception is recorded as that part's error (and fails the run) instead of ending it. */
async function part(name, fn) {
  if (!parts.has(name)) return;
  const started = performance.now();
  console.error(`[check] ${name} …`);
  try {
    const value = await fn();
    if (value.ok === false) failed = true;
    record(name, { ...value, seconds: round((performance.now() - started) / 1000, 1) });
  } catch (error) {
    failed = true;
    record(name, { ok: false, error: String(error?.stack ?? error) });
  } finally {
    T.setBackend('cpu');
  }
  console.error(`[check] ${name}: ${JSON.stringify(result.parts[name]).slice(0, 300)}`);
}

// ---- conformance ---------------------------------------------------------------------------------
await part('conformance', async () => {
  const { allChecks, runCheckAsync } = await loadChecks();
  const results = [];
  for (const check of allChecks()) {
    try { results.push(await runCheckAsync(check, NAME)); } catch (error) { results.push({ name: check.name, ok: false, detail: String(error) }); }
  }
  const failures = results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.detail}`);
  return { ok: failures.length === 0, checks: results.length, passed: results.length - failures.length, failures };
});

/** The suite as JavaScript: the bundle carries it compiled; in the repository esbuild compiles it now. */
async function loadChecks() {
  const prebuilt = path.join(HERE, 'conformance-checks.mjs');
  if (existsSync(prebuilt)) return import(pathToFileURL(prebuilt).href);
  const { compileChecks } = await import('./compile-checks.mjs');
  const out = path.join(os.tmpdir(), `gradlab-conformance-${process.pid}.mjs`);
  await compileChecks(out, pathToFileURL(path.resolve(HERE, '../../packages/tensor/dist/index.js')).href);
  return import(pathToFileURL(out).href);
}

// ---- the article's models ----------------------------------------------------------------------------
/** Build `name` on `backend` from seed 1, take one step: the loss and every parameter's gradient. */
async function firstStep(name, backend, batch) {
  T.setBackend(backend);
  T.setSeed(1);
  resetLayerNames(); // layer names carry a global counter: both builds must name (and so seed) their layers alike
  const model = buildGradlabModel(name);
  const { x, y } = gradlabBatch(name, batch);
  const loss = await model.trainOnBatch(x, y);
  const grads = [];
  for (const p of model.parameters()) grads.push(Float64Array.from(await p.grad.data()));
  return { model, x, y, loss, grads, names: model.parameters().map((p) => p.name ?? '') };
}

/** ‖a − b‖ / ‖b‖ and max |a − b| over one gradient. */
function relativeError(a, b) {
  let diff = 0, norm = 0, max = 0;
  for (let i = 0; i < b.length; i++) {
    const d = a[i] - b[i];
    diff += d * d; norm += b[i] * b[i];
    max = Math.max(max, Math.abs(d));
  }
  return { relative: norm > 0 ? Math.sqrt(diff / norm) : Math.sqrt(diff), max_abs: max };
}

/** Median ms of a training step (after a warm-up step), and what one step cost the device. */
async function timeSteps(run, runs) {
  const before = [device.dispatches, device.readbacks, device.uploads];
  let steps = 0;
  const t = await measure(() => { steps++; return run(); }, { warmup: 1, runs, slowMs: 20_000 });
  return { ms: round(t.wall_ms, 1), runs: t.runs, counts: [device.dispatches, device.readbacks, device.uploads].map((c, i) => round((c - before[i]) / steps, 1)) };
}

/**
 * The same step on webgpu with GPU.js's own matmul and conv kernels (wgslMatmul: false): what the WGSL
 * matmul and the im2col convolutions change, measured on the same GPU.
 */
async function referenceStep(name, batch, runs) {
  const referenceName = `${NAME}-gpujs-kernels`;
  T.registerBackend(referenceName, () => createGpuBackend(new Device({ mode, log: false, wgslMatmul: false }), referenceName));
  const step = await firstStep(name, referenceName, batch);
  T.setBackend(referenceName);
  try {
    const t = await measure(() => step.model.trainOnBatch(step.x, step.y), { warmup: 1, runs, slowMs: 20_000 });
    return round(t.wall_ms, 1);
  } finally {
    T.setBackend('cpu');
  }
}

await part('models', async () => {
  const out = {};
  let ok = true;
  for (const name of ['image', 'speech', 'text']) {
    const batch = BATCHES[name];
    const cpu = await firstStep(name, 'cpu', batch);
    const dev = await firstStep(name, NAME, batch);
    const lossRel = Math.abs(dev.loss - cpu.loss) / Math.abs(cpu.loss);
    const grads = cpu.grads.map((g, k) => ({ param: cpu.names[k] || String(k), size: g.length, ...relativeError(dev.grads[k], g) }));
    const worst = grads.reduce((w, g) => (g.relative > w.relative ? g : w), grads[0]);
    const agree = lossRel <= LOSS_RTOL && worst.relative <= GRAD_RTOL;
    ok &&= agree;
    const runs = quick ? 2 : 5;
    T.setBackend('cpu');
    const cpuTime = await timeSteps(() => cpu.model.trainOnBatch(cpu.x, cpu.y), runs);
    T.setBackend(NAME);
    const devTime = await timeSteps(() => dev.model.trainOnBatch(dev.x, dev.y), runs);
    T.setBackend('cpu');
    const reference = mode === 'webgpu' && name === 'image' ? await referenceStep(name, batch, runs) : undefined;
    out[name] = {
      batch, agree, loss: { cpu: cpu.loss, device: dev.loss, relative: lossRel },
      worst_gradient: worst, gradients: grads.map((g) => ({ ...g, relative: Number(g.relative.toExponential(2)), max_abs: Number(g.max_abs.toExponential(2)) })),
      ms_per_step: { cpu_backend: cpuTime.ms, device: devTime.ms, speedup: round(cpuTime.ms / devTime.ms, 2) },
      per_step_on_device: { dispatches: devTime.counts[0], readbacks: devTime.counts[1], uploads: devTime.counts[2] },
      runs: { cpu_backend: cpuTime.runs, device: devTime.runs },
      ...(reference ? { ms_per_step_gpujs_kernels: reference } : {}),
    };
    console.error(`[check] models ${name}: ${JSON.stringify({ agree, lossRel, worst: worst.relative, ms: out[name].ms_per_step })}`);
  }
  return { ok, tolerance: { loss_relative: LOSS_RTOL, gradient_relative_norm: GRAD_RTOL }, ...out };
});

// ---- matmul ------------------------------------------------------------------------------------------
await part('matmul', async () => {
  const out = {};
  let ok = true;
  for (const n of MATMUL_SIZES) {
    out[`n${n}`] = await timeMatmul(n, NAME);
    ok &&= out[`n${n}`].agrees_with_cpu;
  }
  if (mode === 'webgpu') {
    // GPU.js's one-thread-per-output kernel (kernels/matmul.ts), the reference the WGSL kernel replaces on webgpu
    const reference = new Device({ mode, log: false, wgslMatmul: false });
    T.registerBackend(`${NAME}-gpujs-matmul`, () => createGpuBackend(reference, `${NAME}-gpujs-matmul`));
    for (const n of [MATMUL_SIZES[0], MATMUL_SIZES[MATMUL_SIZES.length - 1]]) out[`gpujs_kernel_n${n}`] = await timeMatmul(n, `${NAME}-gpujs-matmul`, 1);
  }
  const n = MATMUL_SIZES[MATMUL_SIZES.length - 1];
  const a = T.randn([n, n], { seed: 1 }), b = T.randn([n, n], { seed: 2 });
  const t = await measure(() => a.matmul(b).dataSync(), { warmup: 0, runs: 1 });
  out.cpu_backend = { n, ms: round(t.wall_ms, 1), tflops: round((2 * n ** 3) / (t.wall_ms * 1e9), 3) };
  return { ok, ...out };
});

/** n×n float32 matmul on `backend`: `chain` products then one readback of a sum, timed; one product checked against the cpu backend. */
async function timeMatmul(n, backend, chainLength) {
  const chain = chainLength ?? (n >= 2048 ? 4 : 8);
  const a = T.randn([n, n], { seed: 1 }), b = T.randn([n, n], { seed: 2 }).mul(1 / Math.sqrt(n));
  T.setBackend(backend);
  const da = a.contiguousOn(backend), db = b.contiguousOn(backend);
  // `chain` products, each of the same inputs; one readback of the last one's sum at the end.
  const run = async () => {
    const ys = [];
    for (let i = 0; i < chain; i++) ys.push(da.matmul(db));
    const s = ys[chain - 1].sum();
    await s.data();
    for (const y of [...ys, s]) y.storage.dispose();
  };
  const t = await measure(run, { warmup: 1, runs: 3 });
  // Correctness of one product, element by element against the cpu backend (SUMS-style tolerance).
  const y = da.matmul(db);
  const got = await y.data();
  y.storage.dispose();
  T.setBackend('cpu');
  const want = a.matmul(b).dataSync();
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) - (1e-4 + 1e-4 * Math.abs(want[i])) * Math.sqrt(n / 256));
  const flops = 2 * n ** 3 * chain;
  da.storage.dispose(); db.storage.dispose();
  return { ms_per_product: round(t.wall_ms / chain, 3), tflops: round(flops / (t.wall_ms * 1e9), 3), chain, runs: t.runs, agrees_with_cpu: worst <= 0 };
}

result.finished = new Date().toISOString();
result.ok = !failed;
process.stdout.write(save());
await device.settle();
// Dawn keeps the event loop alive after its device is made: leave explicitly.
process.exit(failed ? 1 : 0);
