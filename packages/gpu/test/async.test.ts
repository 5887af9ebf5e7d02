/**
 * GPU.js's asynchronous contract (docs/gpu.md, "The synchronous contract, and async"). Under it every
 * kernel call returns a Promise: ops return their tensors at once with pending storages, the next
 * kernel awaits its inputs inside the backend, and values are read with `await tensor.data()`.
 *
 *   - mode webasm with `async: true` (GRADLAB_BACKEND=gpu:webasm-async), where GPU.js splits kernels of
 *     4,096 outputs or more over its worker threads: kernels against the cpu backend on random inputs
 *     (tolerances next to each check), and that the threads really ran;
 *   - one training step of a small Sequential model (Dense+BatchNorm; a small LSTM; the article's text
 *     model in small sizes: Embedding with maskZero, masked BatchNorm) with the same model
 *     code as on the cpu backend: `await model.trainOnBatch` / `await model.fit`, loss and gradients;
 *   - a synchronous read of a pending tensor throws the documented error;
 *   - disposing pending storages (and inputs a queued kernel still reads) frees everything once settled;
 *   - webgpu, which needs `navigator.gpu` (a browser): reported as skipped with the reason in Node.
 */
import * as T from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import { layers, models, optimizers, resetLayerNames } from '@gradlab/layers';
import { Device, createGpuBackend, modeSupport, tidy, applyBackendSpec, gpuDevice, installNodeWebGPU } from '@gradlab/gpu';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

const NAME = 'gpu-async-webasm';
const webasm = modeSupport('webasm');
/** GPU.js runs webasm kernels on worker threads only where WebAssembly shared memory exists. */
const threads = typeof SharedArrayBuffer !== 'undefined';
let device: Device;

afterAll(async () => {
  T.setBackend('cpu');
  if (device) { await device.settle(); device.destroy(); }
});

/** Largest |gpu − cpu| − (atol + rtol·|cpu|) over the elements; ≤ 0 passes. */
function excess(gpu: ArrayLike<number>, cpu: ArrayLike<number>, atol: number, rtol: number): number {
  expect(gpu.length).toBe(cpu.length);
  let worst = -Infinity;
  for (let i = 0; i < cpu.length; i++) worst = Math.max(worst, Math.abs(gpu[i] - cpu[i]) - (atol + rtol * Math.abs(cpu[i])));
  return worst;
}

/** `f` on the cpu backend and on the async device, from the same random cpu inputs; both results' values. */
async function both(inputs: Tensor[], f: (...xs: Tensor[]) => Tensor): Promise<{ cpu: ArrayLike<number>; gpu: ArrayLike<number>; pending: boolean }> {
  T.setBackend('cpu');
  const cpu = f(...inputs).dataSync();
  T.setBackend(NAME);
  try {
    const y = f(...inputs.map((x) => x.contiguousOn(NAME)));
    const pending = y.storage.pending === true;
    return { cpu, gpu: await y.data(), pending };
  } finally {
    T.setBackend('cpu');
  }
}

if (!webasm.ok) {
  // A mode this machine lacks is reported as skipped, with the reason in the test's name (never silently passed).
  test.skip(`webasm-async: skipped — ${webasm.reason}`, () => undefined);
} else {
  beforeAll(() => {
    device = new Device({ mode: 'webasm', async: true, log: false });
    T.registerBackend(NAME, () => createGpuBackend(device, NAME));
  });

  describe('webasm under the async contract: kernels against the cpu backend', () => {
    // float32 sums of 64..512 terms against the cpu's float64 accumulation (docs/gpu.md, "Precision").
    test('matmul [37,512]·[512,130] (4,810 outputs: threaded); tolerance 1e-4 + 1e-4·|x|', async () => {
      const r = await both([T.randn([37, 512], { seed: 1 }), T.randn([512, 130], { seed: 2 })], (a, b) => a.matmul(b));
      expect(r.pending).toBe(true);                      // the op returned before the kernel finished
      expect(excess(r.gpu, r.cpu, 1e-4, 1e-4)).toBeLessThanOrEqual(0);
    });

    test('conv2d x [2,16,16,4] * w [3,3,4,16], stride 1, same padding (8,192 outputs); tolerance 1e-4 + 1e-4·|x|', async () => {
      const r = await both([T.randn([2, 16, 16, 4], { seed: 3 }), T.randn([3, 3, 4, 16], { seed: 4 })],
        (x, w) => T.conv2d(x, w, { padding: 'same' }));
      expect(excess(r.gpu, r.cpu, 1e-4, 1e-4)).toBeLessThanOrEqual(0);
    });

    test('reductions: sum over axis 1 of [5000,7] (threaded), mean over axis 0 of [300,40]; tolerance 1e-5 + 1e-5·|x|', async () => {
      const s = await both([T.randn([5000, 7], { seed: 5 })], (x) => x.sum(1));
      expect(excess(s.gpu, s.cpu, 1e-5, 1e-5)).toBeLessThanOrEqual(0);
      const m = await both([T.randn([300, 40], { seed: 6 })], (x) => x.mean(0));
      expect(excess(m.gpu, m.cpu, 1e-5, 1e-5)).toBeLessThanOrEqual(0);
    });

    // exp and tanh in float32 against float64 on the cpu: a few ulps of float32, relative.
    test('an elementwise chain on [80,80] (each link a pending input of the next); tolerance 1e-6 + 2e-6·|x|', async () => {
      const r = await both([T.randn([80, 80], { seed: 7 }), T.randn([80], { seed: 8 })],
        (x, b) => x.mul(1.5).add(b).tanh().exp().sub(x.square().mul(0.25)).relu());
      expect(excess(r.gpu, r.cpu, 1e-6, 2e-6)).toBeLessThanOrEqual(0);
    });

    const threadsReason = 'no SharedArrayBuffer here, so GPU.js runs webasm on one thread';
    if (!threads) {
      // Without shared memory GPU.js cannot start its worker pool: say so instead of passing.
      test.skip(`the worker threads ran: skipped — ${threadsReason}`, () => undefined);
    } else {
      test('the worker threads ran the kernels of 4,096 outputs or more', () => {
        const paths = (device.gpu as unknown as { kernels: { _lastRunPath?: string }[] }).kernels.map((k) => k._lastRunPath);
        expect(paths).toContain('threaded');
      });
    }
  });

  describe('reading and freeing', () => {
    test('a synchronous read of a pending tensor throws, naming the op and the shape and pointing to await tensor.data()', async () => {
      T.setBackend(NAME);
      try {
        const a = T.randn([70, 70], { seed: 9 });
        const y = a.matmul(a);
        expect(y.storage.pending).toBe(true);
        expect(() => y.dataSync()).toThrow("dataSync(): the result of 'matmul → [70,70]' (shape [70,70], float32, backend 'gpu-async-webasm') " +
          'is still being computed on an asynchronous device; read it with `await tensor.data()` instead');
        expect(() => y.sum().item()).toThrow(/^item\(\): the result of 'reduce-sum → \[1\]' \(shape \[\].*`await tensor\.data\(\)`/);
        expect(() => y.storage.read()).toThrow(/'matmul → \[70,70\]' \(4900 elements\) is still being computed under GPU\.js's async contract \(mode 'webasm-async'\)/);
        await y.data();
        expect(y.dataSync().length).toBe(4900);         // once awaited, the cached values read synchronously
        expect(device.label).toBe('webasm-async');
      } finally {
        T.setBackend('cpu');
      }
    });

    test('disposing pending storages, and inputs a queued kernel still reads, leaves no live storages once settled', async () => {
      T.setBackend(NAME);
      try {
        await device.settle();
        const before = device.liveStorages;
        const x = T.randn([64, 64], { seed: 10 });
        const expected = Array.from(x.dataSync(), (v) => Math.fround(Math.fround(v + 1) * 2));
        // tidy frees the number operands (1 and 2, one-element storages) at once, though queued kernels read them
        const [t, u] = tidy(() => { const a = x.add(1); return [a, a.mul(2)]; });
        t.storage.dispose();                             // u's kernel has not read t yet: t must outlive this
        const chain = [x.matmul(x), x.exp(), x.sum(0)];
        for (const c of chain) {
          expect(c.storage.pending).toBe(true);
          c.storage.dispose();                           // disposed while pending: freed when it settles
        }
        expect(Array.from(await u.data())).toEqual(expected);
        await expect(t.data()).rejects.toThrow(/was disposed/);
        u.storage.dispose();
        x.storage.dispose();
        await device.settle();
        expect(device.liveStorages).toBe(before);
      } finally {
        T.setBackend('cpu');
      }
    });

    test('200 hand-written training steps inside tidy(), never awaited until the end, leave device memory where it started', async () => {
      T.setBackend(NAME);
      try {
        await device.settle();
        const before = device.liveStorages;
        const x = T.randn([16, 8], { seed: 11 });
        const y = x.slice([null, [0, 4]]).tanh().contiguous();
        let w = T.randn([8, 4], { seed: 12, std: 0.3 });
        let first: Tensor | null = null;
        for (let s = 0; s < 200; s++) {
          const next = tidy(() => {
            const diff = x.matmul(w).sub(y);
            const loss = diff.square().mean();
            const dW = x.T.matmul(diff.mul(2 / diff.size));
            return { w: w.sub(dW.mul(0.1)), loss };
          });
          w.storage.dispose();                           // still pending, and read by the queued update
          w = next.w;
          if (s === 0) first = next.loss; else next.loss.storage.dispose();
        }
        const last = tidy(() => w.matmul(w.T).sum());   // something to await at the end
        const [l0] = await first!.data();
        await last.data();
        expect(Number.isFinite(l0)).toBe(true);
        for (const t of [first!, last, w, x, y]) t.storage.dispose();
        await device.settle();
        expect(device.liveStorages).toBe(before);
      } finally {
        T.setBackend('cpu');
      }
    }, 120_000);
  });

  describe('Sequential: the same model code on the cpu backend and under the async contract', () => {
    // As models.test.ts: plain SGD with lr = 1, so gradient = weight before − weight after; BatchNorm
    // divides by the batch's standard deviation, which magnifies float32 rounding.
    const LOSS_TOL = 1e-4, GRAD_ATOL = 2e-4, GRAD_RTOL = 2e-3;
    const builders: Record<string, { build: () => models.Sequential; data: () => [Tensor, Tensor] }> = {
      'Dense+BatchNorm': {
        build: () => {
          const m = new models.Sequential();
          m.add(layers.Dense(16, { activation: 'relu', inputShape: [12] }));
          m.add(layers.BatchNormalization());
          m.add(layers.Dense(3, { activation: 'softmax' }));
          m.compile({ optimizer: new optimizers.SGD({ lr: 1 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
          return m;
        },
        data: () => [T.randn([8, 12], { seed: 21 }), T.tensor([0, 2, 1, 2, 1, 0, 0, 1], { dtype: 'int32' })],
      },
      'LSTM(5)+Dense': {
        build: () => {
          const m = new models.Sequential();
          m.add(layers.LSTM(5, { inputShape: [null, 4] }));
          m.add(layers.Dense(3, { activation: 'softmax' }));
          m.compile({ optimizer: new optimizers.SGD({ lr: 1 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
          return m;
        },
        data: () => [T.randn([4, 6, 4], { seed: 22 }), T.tensor([1, 0, 2, 1], { dtype: 'int32' })],
      },
      // The article's text model in small sizes. The ids are made on the backend under test, so on the
      // device the lookup (gather), its gradient (scatterAdd), the mask ids ≠ 0 and BatchNorm's masked
      // count all run there: nothing in the step reads a pending tensor synchronously.
      'text: Embedding(50, 8, maskZero), BiLSTM(6)+BN, BiLSTM(4)+BN, sigmoid': {
        build: () => {
          const m = new models.Sequential();
          m.add(layers.Embedding(50, 8, { maskZero: true, inputShape: [null] }));
          m.add(layers.Bidirectional(layers.LSTM(6, { returnSequences: true })));
          m.add(layers.BatchNormalization());
          m.add(layers.Bidirectional(layers.LSTM(4)));
          m.add(layers.BatchNormalization());
          m.add(layers.Dense(1, { activation: 'sigmoid' }));
          m.compile({ optimizer: new optimizers.SGD({ lr: 1 }), loss: 'binary_crossentropy' });
          return m;
        },
        data: () => [T.tensor([[3, 17, 42, 0, 0, 0], [1, 2, 3, 4, 5, 6], [49, 49, 7, 0, 0, 0], [8, 11, 30, 2, 0, 0]], { dtype: 'int32' }),
          T.tensor([[1], [0], [1], [0]])],
      },
    };

    /** Model `name` built with a fixed seed on `backend` (layer names reset, so both runs name alike), and its data there, given to `f`. */
    async function onBackend<R>(backend: string, name: string, f: (model: models.Sequential, x: Tensor, y: Tensor) => Promise<R>): Promise<R> {
      T.setBackend(backend);
      try {
        T.setSeed(7);
        resetLayerNames();
        const model = builders[name].build();
        const [x, y] = builders[name].data();
        return await f(model, x, y);
      } finally {
        T.setBackend('cpu');
      }
    }

    /** One trainOnBatch on `backend`: the loss and every parameter's gradient. */
    function trainStep(backend: string, name: string): Promise<{ loss: number; grads: Float64Array[]; on: string[] }> {
      return onBackend(backend, name, async (model, x, y) => {
        const params = model.parameters();
        const before = await Promise.all(params.map(async (p) => Float64Array.from(await p.data.data())));
        const loss = await model.trainOnBatch(x, y);
        const after = await Promise.all(params.map((p) => p.data.data()));
        return { loss, grads: after.map((a, k) => Float64Array.from(a, (v, i) => before[k][i] - v)), on: [...new Set(params.map((p) => p.data.backend))] };
      });
    }

    for (const name of Object.keys(builders)) {
      test(`${name}: one step via await model.trainOnBatch matches the cpu backend (loss ${LOSS_TOL} relative; gradients ${GRAD_ATOL} + ${GRAD_RTOL}·|g|)`, async () => {
        const cpu = await trainStep('cpu', name);
        const gpu = await trainStep(NAME, name);
        expect(gpu.on).toEqual([NAME]);
        expect(Math.abs(gpu.loss - cpu.loss)).toBeLessThanOrEqual(LOSS_TOL * Math.max(1, Math.abs(cpu.loss)));
        const bad: string[] = [];
        cpu.grads.forEach((g, k) => g.forEach((v, i) => {
          if (!(Math.abs(gpu.grads[k][i] - v) <= GRAD_ATOL + GRAD_RTOL * Math.abs(v))) bad.push(`param ${k}[${i}]: ${gpu.grads[k][i]} vs ${v}`);
        }));
        expect(bad.slice(0, 5)).toEqual([]);
        expect(cpu.grads.some((g) => g.some((v) => v !== 0))).toBe(true);
      }, 60_000);
    }

    // The second step is the one that used to fail: its lookup reads the table the first step's update
    // is still computing on the device. Same tolerances as the single step above.
    test(`text model: two steps of await model.trainOnBatch give the cpu backend's losses (${LOSS_TOL} relative)`, async () => {
      const name = Object.keys(builders).find((k) => k.startsWith('text'))!;
      const run = (backend: string) => onBackend(backend, name, async (model, x, y) => [await model.trainOnBatch(x, y), await model.trainOnBatch(x, y)]);
      const cpu = await run('cpu');
      const gpu = await run(NAME);
      expect(cpu[1]).not.toBe(cpu[0]);                 // the first step changed the model
      gpu.forEach((v, i) => expect(Math.abs(v - cpu[i])).toBeLessThanOrEqual(LOSS_TOL * Math.max(1, Math.abs(cpu[i]))));
    }, 60_000);

    test('Dense+BatchNorm: await model.fit (2 epochs, 2 batches, accuracy) and evaluate give the cpu backend\'s numbers (1e-4 relative)', async () => {
      const run = (backend: string) => onBackend(backend, 'Dense+BatchNorm', async (model, x, y) => {
        const history = await model.fit(x, y, { epochs: 2, batchSize: 4, shuffle: false, verbose: 0 });
        return [...history.history.loss, ...history.history.accuracy, ...(await model.evaluate(x, y))];
      });
      const cpu = await run('cpu');
      const gpu = await run(NAME);
      expect(gpu.length).toBe(6);
      gpu.forEach((v, i) => expect(Math.abs(v - cpu[i])).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(cpu[i]))));
    }, 60_000);
  });

  test('GRADLAB_BACKEND syntax: gpu:webasm-async selects webasm under the async contract', async () => {
    try {
      expect(applyBackendSpec('gpu:webasm-async')).toBe('gpu');
      const y = T.ones([2, 2]).add(1);
      expect(gpuDevice()?.label).toBe('webasm-async');
      expect(Array.from(await y.data())).toEqual([2, 2, 2, 2]);
      expect(() => applyBackendSpec('gpu:webasm-sync')).toThrow(/unknown gpu mode 'webasm-sync'.*gpu:webasm-async/);
    } finally {
      await gpuDevice()?.settle();
      T.setBackend('cpu');
    }
  });
}

/**
 * Whether WebGPU can run here: in a browser `navigator.gpu`; in Node, Dawn from the `webgpu` package
 * through installNodeWebGPU(). Asked in a child process (jest registers tests synchronously, and asking
 * for an adapter is asynchronous), from the built package: `pnpm test` builds before jest runs.
 */
function probeWebGPU(): { ok: boolean; reason: string } {
  if (modeSupport('webgpu').ok) return { ok: true, reason: '' };
  const dist = path.join(__dirname, '../dist/index.js');
  if (!fs.existsSync(dist)) return { ok: false, reason: 'packages/gpu is not built (run pnpm run build)' };
  const script = `import(${JSON.stringify(pathToFileURL(dist).href)}).then(async (m) => { console.log(JSON.stringify(await m.installNodeWebGPU())); process.exit(0); })`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  try {
    const answer = JSON.parse(child.stdout.trim().split('\n').pop() ?? '') as { ok: boolean; reason?: string };
    return { ok: answer.ok, reason: answer.reason ?? '' };
  } catch {
    return { ok: false, reason: `the WebGPU probe failed: ${child.stderr.split('\n')[0]}` };
  }
}

const webgpu = probeWebGPU();
if (!webgpu.ok) {
  // WebGPU needs `navigator.gpu` (a browser) or Dawn with an adapter (Node on a machine with a GPU and a
  // libstdc++ as new as Dawn's build): reported as skipped with the reason, never passed.
  test.skip(`webgpu: skipped — ${webgpu.reason}`, () => undefined);
} else {
  test('webgpu: a matmul under its (always async) contract matches the cpu backend; tolerance 1e-4 + 1e-4·|x|', async () => {
    expect(await installNodeWebGPU()).toMatchObject({ ok: true });
    const d = new Device({ mode: 'webgpu', log: false });
    T.registerBackend('gpu-async-webgpu', () => createGpuBackend(d, 'gpu-async-webgpu'));
    const a = T.randn([33, 40], { seed: 1 }), b = T.randn([40, 20], { seed: 2 });
    const cpu = a.matmul(b).dataSync();
    T.setBackend('gpu-async-webgpu');
    try {
      expect(d.async).toBe(true);
      const gpu = await a.contiguousOn('gpu-async-webgpu').matmul(b.contiguousOn('gpu-async-webgpu')).data();
      expect(excess(gpu, cpu, 1e-4, 1e-4)).toBeLessThanOrEqual(0);
    } finally {
      T.setBackend('cpu');
      await d.settle();
      d.destroy();
    }
  });
}
