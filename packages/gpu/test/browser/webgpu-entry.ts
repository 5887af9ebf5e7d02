/**
 * The page side of browser-webgpu.test.ts: gradlab's gpu backend in GPU.js's webgpu mode (WGSL compute
 * shaders; always under the asynchronous contract) in headless Chromium, where WebGPU runs on
 * SwiftShader's Vulkan in software. It asks for an adapter, and where one answers runs every check of
 * the conformance suite against the cpu backend (runCheckAsync: the device's results are pending when
 * the op returns), then one training step of two small models (Conv2D+BatchNorm+pooling+softmax, and
 * LSTM+BatchNorm) on both backends from the same seed, comparing the loss and every gradient; then
 * the short list with 256-element tiles, and the matmul and conv checks on GPU.js's own kernels (wgslMatmul: false).
 * Everything goes into window.__gradlab.
 */
import * as gradlab from 'gradlab';
import { Device, createGpuBackend, tidy } from '@gradlab/gpu';
import { allChecks, runCheckAsync } from '../../../tensor/test/conformance/checks';
import type { Check, CheckResult } from '../../../tensor/test/conformance/checks';

export interface AdapterReport { available: boolean; reason: string; info: Record<string, string> }
export interface StepReport { model: string; lossCpu: number; lossGpu: number; worstGradient: { param: string; relative: number } }
export interface WebGPUReport {
  error?: string; userAgent: string; adapter: AdapterReport; results: CheckResult[]; steps: StepReport[]; dispatches: number;
  /** The short list with 256-element tiles (inputs and outputs over several buffers; 64 as in the GL tests would
   * spread some inputs over more buffers than the 7 a WebGPU shader may bind). */
  tiled: CheckResult[];
  /** The matmul and conv checks on GPU.js's own kernels (wgslMatmul: false), the reference beside the WGSL path. */
  reference: CheckResult[];
  /** [live buffers, live storages] after one round of the WGSL paths and after 20 more (memoryRounds). */
  memory: { before: number[]; after: number[] };
}

const NAME = 'gpu-page-webgpu';
interface GpuLike { requestAdapter(): Promise<{ info?: Record<string, unknown> } | null> }

async function adapterReport(): Promise<AdapterReport> {
  const gpu = (globalThis as unknown as { navigator: { gpu?: GpuLike } }).navigator.gpu;
  if (!gpu) return { available: false, reason: 'navigator.gpu is missing (WebGPU disabled, or not a secure context)', info: {} };
  const adapter = await gpu.requestAdapter();
  if (!adapter) return { available: false, reason: 'navigator.gpu.requestAdapter() gave no adapter', info: {} };
  // GPUAdapterInfo's fields are getters: copy them by name (JSON.stringify of the object gives {}).
  const info: Record<string, string> = {};
  for (const key of ['vendor', 'architecture', 'device', 'description']) info[key] = String(adapter.info?.[key] ?? '');
  return { available: true, reason: '', info };
}

/** The two small models of the page, built alike on every backend (layer names carry a global counter: reset it). */
function buildModel(kind: 'conv' | 'lstm'): gradlab.models.Sequential {
  gradlab.resetLayerNames();
  const { layers } = gradlab;
  const m = new gradlab.models.Sequential();
  if (kind === 'conv') {
    m.add(layers.Conv2D(4, [3, 3], { activation: 'relu', inputShape: [10, 10, 3] }));
    m.add(layers.BatchNormalization());
    m.add(layers.MaxPooling2D({ poolSize: [2, 2] }));
    m.add(layers.Flatten());
    m.add(layers.Dense(3, { activation: 'softmax' }));
  } else {
    m.add(layers.LSTM(6, { returnSequences: true, inputShape: [null, 5] }));
    m.add(layers.BatchNormalization());
    m.add(layers.LSTM(4));
    m.add(layers.Dense(3, { activation: 'softmax' }));
  }
  m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy' });
  return m;
}

/** One step on `backend`: the loss and each parameter's gradient. */
async function firstStep(kind: 'conv' | 'lstm', backend: string): Promise<{ loss: number; grads: { name: string; values: Float32Array }[] }> {
  gradlab.setBackend(backend);
  try {
    gradlab.setSeed(3);
    const model = buildModel(kind);
    const x = kind === 'conv' ? gradlab.randn([4, 10, 10, 3], { seed: 21 }) : gradlab.randn([4, 7, 5], { seed: 22 });
    const y = gradlab.tensor([0, 2, 1, 2], { dtype: 'int32' });
    const loss = await model.trainOnBatch(x, y);
    const grads = [];
    for (const p of model.parameters()) grads.push({ name: p.name ?? '', values: Float32Array.from(await p.grad!.data()) });
    await model.trainOnBatch(x, y); // a second step: the labels are read on the host again (uploads keep their values on webgpu)
    return { loss, grads };
  } finally {
    gradlab.setBackend('cpu');
  }
}

/**
 * Live device buffers and storages (settled) after one and after 20 more rounds of the WGSL paths — a
 * convolution with both gradients and a chain of strided matmuls — each round inside tidy().
 */
async function memoryRounds(): Promise<{ before: number[]; after: number[] }> {
  // A device of its own: the counts are per device, and the earlier checks' garbage on the shared one is
  // released by the FinalizationRegistry whenever the collector runs, which would move its counts.
  const device = new Device({ mode: 'webgpu', log: false });
  const name = `${NAME}-memory`;
  gradlab.registerBackend(name, () => createGpuBackend(device, name));
  gradlab.setBackend(name);
  try {
    const x = gradlab.randn([4, 10, 10, 3], { seed: 1 }), w = gradlab.randn([3, 3, 3, 4], { seed: 2 });
    const a = gradlab.randn([40, 30], { seed: 3 }), b = gradlab.randn([30, 50], { seed: 4 });
    const round = async () => {
      const total = tidy(() => {
        const y = gradlab.conv2d(x, w, { padding: 'same' });
        const dw = gradlab.conv2dBackpropFilter(x, y, w.shape, { padding: 'same' });
        const dx = gradlab.conv2dBackpropInput(y, w, x.shape, { padding: 'same' });
        const p = a.matmul(b).T.matmul(a);
        return y.sum().add(dw.sum()).add(dx.sum()).add(p.sum());
      });
      await total.data();
      total.storage.dispose();
    };
    const counts = async () => { await device.settle(); return [device.liveTextures, device.liveStorages]; };
    await round();
    const before = await counts();
    for (let r = 0; r < 20; r++) await round();
    return { before, after: await counts() };
  } finally {
    gradlab.setBackend('cpu');
  }
}

async function step(kind: 'conv' | 'lstm'): Promise<StepReport> {
  const cpu = await firstStep(kind, 'cpu');
  const gpu = await firstStep(kind, NAME);
  let worst = { param: '', relative: 0 };
  cpu.grads.forEach((g, k) => {
    let diff = 0, norm = 0;
    g.values.forEach((v, i) => { diff += (gpu.grads[k].values[i] - v) ** 2; norm += v * v; });
    const relative = Math.sqrt(diff / Math.max(norm, 1e-30));
    if (!(relative <= worst.relative)) worst = { param: g.name, relative };
  });
  return { model: kind, lossCpu: cpu.loss, lossGpu: gpu.loss, worstGradient: worst };
}

async function runAll(checks: Check[], backend: string): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of checks) {
    try { results.push(await runCheckAsync(check, backend)); } catch (e) { results.push({ name: check.name, ok: false, maxError: Infinity, tol: check.tol, detail: String(e) }); }
  }
  return results;
}

async function main(): Promise<WebGPUReport> {
  const userAgent = (globalThis as unknown as { navigator: { userAgent: string } }).navigator.userAgent;
  const adapter = await adapterReport();
  if (!adapter.available) return { userAgent, adapter, results: [], steps: [], dispatches: 0, tiled: [], reference: [], memory: { before: [], after: [] } };
  const device = new Device({ mode: 'webgpu', log: false });
  gradlab.registerBackend(NAME, () => createGpuBackend(device, NAME));
  const checks = allChecks();
  const results = await runAll(checks, NAME);
  const tiledName = `${NAME}-tiled`, referenceName = `${NAME}-reference`;
  gradlab.registerBackend(tiledName, () => createGpuBackend(new Device({ mode: 'webgpu', log: false, tileElements: 256 }), tiledName));
  gradlab.registerBackend(referenceName, () => createGpuBackend(new Device({ mode: 'webgpu', log: false, wgslMatmul: false }), referenceName));
  const tiled = await runAll(checks.filter((c) => c.tiled), tiledName);
  const reference = await runAll(checks.filter((c) => /^(matmul|conv)/.test(c.name)), referenceName);
  let steps: StepReport[] = [], error: string | undefined, memory = { before: [] as number[], after: [] as number[] };
  try {
    steps = [await step('conv'), await step('lstm')];
    memory = await memoryRounds();
  } catch (e) {
    error = `training step: ${String((e as Error)?.stack ?? e)}`;
  }
  await device.settle();
  return { userAgent, adapter, results, steps, dispatches: device.dispatches, tiled, reference, memory, ...(error ? { error } : {}) };
}

(globalThis as unknown as { __gradlab: Promise<unknown> }).__gradlab = main().catch((e: unknown) => ({ error: String((e as Error)?.stack ?? e) }));
