/**
 * A full training step of each of the article's three models (small sizes) on the gpu backend matches
 * the same step on the CPU backend: the same seed builds the same weights on each backend, one
 * trainOnBatch (forward, backward, update) runs on each, and the loss and every parameter's gradient
 * are compared. The step uses plain SGD with lr = 1, so that gradient = weight before − weight after
 * (Adam's first step moves every weight by ±lr whatever the gradient's size, so a gradient that is
 * ~0 on one backend and ~−0 on the other would look like a large difference). Modes cpu and webasm
 * here, headlessgl in headlessgl.test.ts; the layers' own typed-array loops (losses, optimizers,
 * BatchNorm, LSTM) read device values back, so this also checks that the backends mix correctly.
 * Tolerances: loss 1e-4 relative; gradients 2e-4 + 2e-3·|g| (float32 sums through BatchNorm, which
 * divides by the batch's standard deviation and so magnifies rounding).
 */
import * as T from '@gradlab/tensor';
import { layers, models, optimizers, resetLayerNames } from '@gradlab/layers';
import { writeFileSync } from 'node:fs';
import { registerGpuBackend, modeSupport } from '@gradlab/gpu';
import type { GpuBackend, GpuMode } from '@gradlab/gpu';

const modes = (process.env.GRADLAB_GPU_TEST_MODES ?? 'cpu,webasm').split(',').map((m) => m.trim()) as GpuMode[];
const required = process.env.GRADLAB_GPU_TEST_REQUIRE === '1';
const LOSS_TOL = 1e-4, GRAD_ATOL = 2e-4, GRAD_RTOL = 2e-3;
const sgd = () => new optimizers.SGD({ lr: 1 });

/**
 * Per model and mode: readbacks and uploads per training step and the median wall time of one, over
 * TIMED_STEPS steps after two that compile the kernels (the cpu backend is timed alike).
 */
const TIMED_STEPS = 5;
const counted: Record<string, { readbacks: number; uploads: number; ms: number }> = {};
afterAll(() => {
  T.setBackend('cpu');
  const out = process.env.GRADLAB_GPU_STEP_REPORT;
  if (out) writeFileSync(out, JSON.stringify(counted, null, 2));
});

type Build = () => models.Sequential;
/** The fused kernels of the backend (FusedKernels) that each model's step must call, on every backend. */
const FUSED = ['batchNormForward', 'batchNormBackward', 'groupNormForward', 'groupNormBackward', 'softmaxCrossEntropy',
  'sigmoidCrossEntropy', 'lstmSequenceForward', 'lstmSequenceBackward', 'sgdUpdate'] as const;
const BN = ['batchNormForward', 'batchNormBackward'], LSTM = ['lstmSequenceForward', 'lstmSequenceBackward'];
/**
 * Each model's step on the gpu backend reads back `readbacks` values at most: the loss, which
 * trainOnBatch returns as a number. (The text model read back three more until Embedding's lookup and
 * its gradient became gather/scatterAdd ops and BatchNormalization stopped reading its count of
 * unmasked rows from a device mask.)
 */
const builders: Record<string, { build: Build; data: () => [T.Tensor, T.Tensor]; fused: string[]; readbacks: number }> = {
  'image: Conv2D+BN+MaxPool ×2, Dense+BN, softmax': {
    build: () => {
      const m = new models.Sequential();
      m.add(layers.Conv2D(4, [3, 3], { activation: 'relu', inputShape: [10, 10, 3] }));
      m.add(layers.BatchNormalization());
      m.add(layers.MaxPooling2D({ poolSize: [2, 2] }));
      m.add(layers.Conv2D(6, [3, 3], { activation: 'relu' }));
      m.add(layers.BatchNormalization());
      m.add(layers.MaxPooling2D({ poolSize: [2, 2] }));
      m.add(layers.Flatten());
      m.add(layers.Dense(8, { activation: 'relu' }));
      m.add(layers.BatchNormalization());
      m.add(layers.Dense(3, { activation: 'softmax' }));
      m.compile({ optimizer: sgd(), loss: 'sparse_categorical_crossentropy' });
      return m;
    },
    data: () => [T.randn([4, 10, 10, 3], { seed: 21 }), T.tensor([0, 2, 1, 2], { dtype: 'int32' })],
    fused: [...BN, 'softmaxCrossEntropy', 'sgdUpdate'],
    readbacks: 1,
  },
  'speech: LSTM+BN, LSTM+BN, softmax': {
    build: () => {
      const m = new models.Sequential();
      m.add(layers.LSTM(6, { returnSequences: true, inputShape: [null, 5] }));
      m.add(layers.BatchNormalization());
      m.add(layers.LSTM(4));
      m.add(layers.BatchNormalization());
      m.add(layers.Dense(3, { activation: 'softmax' }));
      m.compile({ optimizer: sgd(), loss: 'sparse_categorical_crossentropy' });
      return m;
    },
    data: () => [T.randn([4, 7, 5], { seed: 22 }), T.tensor([1, 0, 2, 1], { dtype: 'int32' })],
    fused: [...BN, 'softmaxCrossEntropy', ...LSTM, 'sgdUpdate'],
    readbacks: 1,
  },
  'text: Embedding(mask), BiLSTM+BN ×2, sigmoid': {
    build: () => {
      const m = new models.Sequential();
      m.add(layers.Embedding(20, 6, { maskZero: true, inputShape: [null] }));
      m.add(layers.Bidirectional(layers.LSTM(4, { returnSequences: true })));
      m.add(layers.BatchNormalization());
      m.add(layers.Bidirectional(layers.LSTM(3)));
      m.add(layers.BatchNormalization());
      m.add(layers.Dense(1, { activation: 'sigmoid' }));
      m.compile({ optimizer: sgd(), loss: 'binary_crossentropy' });
      return m;
    },
    data: () => [T.tensor([[3, 5, 7, 0, 0], [1, 2, 3, 4, 5], [9, 9, 0, 0, 0], [4, 11, 19, 2, 0]], { dtype: 'int32' }), T.tensor([[1], [0], [1], [0]])],
    fused: [...BN, ...LSTM, 'sigmoidCrossEntropy', 'sgdUpdate'],
    readbacks: 1,
  },
};

/**
 * Build on `backend` with a fixed seed, take one step; the loss and the parameters after it. With
 * `count`, more steps follow and are counted (see `counted`).
 */
async function step(backend: string, name: string, count?: string):
  Promise<{ loss: number; grads: Float64Array[]; on: string[]; fused: string[] }> {
  T.setBackend(backend);
  const offered = FUSED.filter((k) => T.getBackend(backend)[k] !== undefined);
  const spies = offered.map((k) => jest.spyOn(T.getBackend(backend), k));
  try {
    T.setSeed(7);
    resetLayerNames(); // layer names carry a global counter: both runs must name their layers alike
    const { build, data } = builders[name];
    const model = build();
    const [x, y] = data();
    const params = model.parameters();
    const before = params.map((p) => Float64Array.from(p.data.dataSync()));
    const loss = await model.trainOnBatch(x, y);
    const fused: string[] = offered.filter((_, i) => spies[i].mock.calls.length > 0);
    const grads = params.map((p, k) => Float64Array.from(p.data.dataSync(), (v, i) => before[k][i] - v)); // lr = 1
    if (count) {
      const device = backend === 'cpu' ? null : (T.getBackend(backend) as GpuBackend).device;
      await model.trainOnBatch(x, y); // its parameters are read by nobody: the next steps find no cached values
      const [readbacks, uploads] = [device?.readbacks ?? 0, device?.uploads ?? 0];
      const ms: number[] = [];
      for (let s = 0; s < TIMED_STEPS; s++) {
        const started = performance.now();
        await model.trainOnBatch(x, y);
        ms.push(performance.now() - started);
      }
      counted[count] = {
        readbacks: ((device?.readbacks ?? 0) - readbacks) / TIMED_STEPS, uploads: ((device?.uploads ?? 0) - uploads) / TIMED_STEPS,
        ms: Math.round(ms.sort((a, b) => a - b)[TIMED_STEPS >> 1] * 10) / 10,
      };
    }
    return { loss, grads, on: [...new Set(params.map((p) => p.data.backend))], fused };
  } finally {
    for (const spy of spies) spy.mockRestore();
    T.setBackend('cpu');
  }
}

for (const mode of modes) {
  const support = modeSupport(mode);
  if (!support.ok && !required) {
    // A mode or tool this machine lacks is reported as skipped, with the reason in the test's name (never silently passed).
    test.skip(`${mode}: skipped — ${support.reason}`, () => undefined);
    continue;
  }
  describe(`one training step of the article's models, gpu mode ${mode} vs the cpu backend`, () => {
    const backend = `gpu-models-${mode}`;
    beforeAll(() => registerGpuBackend({ mode, log: false }, backend));
    for (const name of Object.keys(builders)) test(name, async () => {
      const cpu = await step('cpu', name, `cpu backend: ${name}`);
      const gpu = await step(backend, name, `${mode}: ${name}`);
      expect(Number.isFinite(cpu.loss)).toBe(true);
      expect(gpu.on).toEqual([backend]);               // the gpu run's parameters really live on the device
      expect(cpu.fused.sort()).toEqual([...builders[name].fused].sort()); // both backends run the same kernels
      expect(gpu.fused.sort()).toEqual([...builders[name].fused].sort());
      expect(Math.abs(gpu.loss - cpu.loss)).toBeLessThanOrEqual(LOSS_TOL * Math.max(1, Math.abs(cpu.loss)));
      expect(gpu.grads.length).toBe(cpu.grads.length);
      const bad: string[] = [];
      let nonzero = 0;
      cpu.grads.forEach((g, k) => g.forEach((v, i) => {
        if (v !== 0) nonzero++;
        if (!(Math.abs(gpu.grads[k][i] - v) <= GRAD_ATOL + GRAD_RTOL * Math.abs(v))) bad.push(`param ${k}[${i}]: gpu ${gpu.grads[k][i]} vs cpu ${v}`);
      }));
      expect(bad.slice(0, 5)).toEqual([]);
      expect(nonzero).toBeGreaterThan(10); // the step really moved the weights
      expect(counted[`${mode}: ${name}`].readbacks).toBeLessThanOrEqual(builders[name].readbacks); // the step stays on the device
    }, 120_000);
  });
}
