/**
 * The device paths of @gradlab/layers' fused ops, op by op, against the same ops on the cpu backend
 * (where they run their typed-array loops): LayerNorm, BatchNorm with a mask, the softmax and sigmoid
 * crossentropies, and the LSTM (the sequence op with each of its options, and the unrolled cell op).
 * Each case builds its inputs on each backend from the same seed, computes y = op(inputs) and the
 * gradients of Σ y·r (r fixed random weights), and compares both; it also checks that the gpu run
 * called the fused kernels it should (so the loops were not silently used). Modes as kernels.test.ts.
 * Tolerances: 1e-4 + 1e-3·|v| (float32 sums on the device, float64 in the loops).
 */
import * as T from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import { F, Variable } from '@gradlab/autograd';
import { layers, losses, resetLayerNames } from '@gradlab/layers';
import { registerGpuBackend, modeSupport } from '@gradlab/gpu';
import type { GpuMode } from '@gradlab/gpu';

const modes = (process.env.GRADLAB_GPU_TEST_MODES ?? 'cpu,webasm').split(',').map((m) => m.trim()) as GpuMode[];
const required = process.env.GRADLAB_GPU_TEST_REQUIRE === '1';
const ATOL = 1e-4, RTOL = 1e-3;

afterAll(() => T.setBackend('cpu'));

type Kernel = keyof T.FusedKernels;
interface Case {
  /** Inputs made on the active backend (same seed on each); those marked `grad` get gradients. */
  inputs: () => { t: Tensor; grad: boolean }[];
  op: (...xs: Variable[]) => Variable;
  /** Fused kernels the gpu run must call (empty: the device path is made of plain backend ops). */
  kernels: Kernel[];
}

const lstmInput = () => [{ t: T.randn([3, 5, 4], { seed: 31 }), grad: true }];
const lengthsMask = () => T.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]], { dtype: 'int32' });
/** An LSTM layer built on the active backend with seeded weights, run on x. */
function lstm(args: Parameters<typeof layers.LSTM>[1], mask = false, state = false) {
  return (x: Variable) => {
    resetLayerNames();
    T.setSeed(3);
    const layer = layers.LSTM(3, args);
    const options = { mask: mask ? lengthsMask() : undefined };
    if (!state) return layer.apply(x, options) as Variable;
    const { output, h, c } = layer.callWithState(x, options);
    return output.reshape([3, -1]).add(h.sum().mul(0.5)).add(c.sum().mul(0.25)); // every output reaches the loss
  };
}

const cases: Record<string, Case> = {
  'LayerNorm on [2,3,6]': {
    inputs: () => [{ t: T.randn([2, 3, 6], { seed: 1 }).mul(3), grad: true }, { t: T.uniform([6], 0.5, 2, { seed: 2 }), grad: true }, { t: T.randn([6], { seed: 3 }), grad: true }],
    op: (x, g, b) => F.layerNorm(x, g, b, 1e-3),
    kernels: ['groupNormForward', 'groupNormBackward'],
  },
  'BatchNorm (training) with a row mask': {
    inputs: () => [{ t: T.randn([3, 4, 5], { seed: 4 }).add(2), grad: true }, { t: T.uniform([5], 0.5, 2, { seed: 5 }), grad: true }, { t: T.randn([5], { seed: 6 }), grad: true }],
    op: (x, g, b) => F.batchNorm(x, g, b, 1e-3, T.tensor([[1, 1, 0, 1], [1, 0, 0, 1], [1, 1, 1, 1]])).y,
    kernels: ['batchNormForward', 'batchNormBackward'],
  },
  'sparse crossentropy from logits [2,3,5] with labels [2,3,1]': {
    inputs: () => [{ t: T.randn([2, 3, 5], { seed: 7 }).mul(4), grad: true }, { t: T.tensor([[[0], [4], [2]], [[3], [3], [1]]], { dtype: 'int32' }), grad: false }],
    op: (z, y) => losses.sparseCategoricalCrossentropy(z, y, { fromLogits: true }),
    kernels: ['softmaxCrossEntropy'],
  },
  'binary crossentropy from logits, targets [6] against logits [6,1]': {
    inputs: () => [{ t: T.randn([6, 1], { seed: 8 }).mul(5), grad: true }, { t: T.tensor([1, 0, 0, 1, 1, 0]), grad: false }],
    op: (z, y) => losses.binaryCrossentropy(z, y, { fromLogits: true }),
    kernels: ['sigmoidCrossEntropy'],
  },
  'LSTM: last output': { inputs: lstmInput, op: lstm({}), kernels: ['lstmSequenceForward', 'lstmSequenceBackward'] },
  'LSTM: sequences, goBackwards, masked, with states': {
    inputs: lstmInput, op: lstm({ returnSequences: true, goBackwards: true }, true, true), kernels: ['lstmSequenceForward', 'lstmSequenceBackward'],
  },
  'LSTM: unrolled (the cell op), masked': {
    inputs: lstmInput, op: lstm({ returnSequences: true, unroll: true }, true), kernels: ['lstmCellForward', 'lstmCellBackward'],
  },
  'Bidirectional LSTM, masked (timeAligned and zeroOutputForMask)': {
    inputs: lstmInput,
    op: (x) => { resetLayerNames(); T.setSeed(4); return layers.Bidirectional(layers.LSTM(2, { returnSequences: true })).apply(x, { mask: lengthsMask() }) as Variable; },
    kernels: ['lstmSequenceForward', 'lstmSequenceBackward'],
  },
};

/** y and the gradients of Σ y·r on `backend`, and which fused kernels were called. */
function run(backend: string, c: Case): { y: Float64Array; grads: Float64Array[]; called: Kernel[] } {
  T.setBackend(backend);
  const b = T.getBackend(backend);
  const names: Kernel[] = ['batchNormForward', 'batchNormBackward', 'groupNormForward', 'groupNormBackward', 'softmaxCrossEntropy',
    'sigmoidCrossEntropy', 'lstmCellForward', 'lstmCellBackward', 'lstmSequenceForward', 'lstmSequenceBackward'];
  const spies = names.map((k) => jest.spyOn(b, k));
  try {
    const vars = c.inputs().map(({ t, grad }) => new Variable(t, { requiresGrad: grad }));
    const y = c.op(...vars);
    const r = T.randn(y.shape, { seed: 99 });
    y.mul(new Variable(r)).sum().backward();
    return {
      y: Float64Array.from(y.data.dataSync()),
      grads: vars.filter((v) => v.requiresGrad).map((v) => Float64Array.from(v.grad!.dataSync())),
      called: names.filter((_, i) => spies[i].mock.calls.length > 0),
    };
  } finally {
    for (const spy of spies) spy.mockRestore();
    T.setBackend('cpu');
  }
}

function expectClose(actual: Float64Array, expected: Float64Array, what: string): void {
  expect(actual.length).toBe(expected.length);
  const bad: string[] = [];
  expected.forEach((v, i) => { if (!(Math.abs(actual[i] - v) <= ATOL + RTOL * Math.abs(v))) bad.push(`${what}[${i}]: ${actual[i]} vs ${v}`); });
  expect(bad.slice(0, 5)).toEqual([]);
}

for (const mode of modes) {
  const support = modeSupport(mode);
  if (!support.ok && !required) {
    // A mode or tool this machine lacks is reported as skipped, with the reason in the test's name (never silently passed).
    test.skip(`${mode}: skipped — ${support.reason}`, () => undefined);
    continue;
  }
  describe(`layers' fused ops on gpu mode ${mode} against the cpu backend`, () => {
    const backend = `gpu-layers-${mode}`;
    beforeAll(() => registerGpuBackend({ mode, log: false }, backend));
    for (const [name, c] of Object.entries(cases)) test(name, () => {
      const cpu = run('cpu', c);
      const gpu = run(backend, c);
      expect(cpu.called.sort()).toEqual([...c.kernels].sort()); // both backends run the same kernels
      expect(gpu.called.sort()).toEqual([...c.kernels].sort());
      expectClose(gpu.y, cpu.y, 'y');
      expect(gpu.grads.length).toBe(cpu.grads.length);
      gpu.grads.forEach((g, k) => expectClose(g, cpu.grads[k], `grad ${k}`));
      expect(cpu.grads.some((g) => g.some((v) => v !== 0))).toBe(true);
    }, 120_000);

    test('a label outside [0, C) on the device gives a NaN loss (labels on the device are not read back to be checked)', () => {
      T.setBackend(backend);
      try {
        const z = new Variable(T.randn([3, 4], { seed: 9 }));
        const bad = losses.sparseCategoricalCrossentropy(z, T.tensor([1, 4, 0], { dtype: 'int32' }), { fromLogits: true });
        expect(Number.isNaN(bad.data.item())).toBe(true);
        const good = losses.sparseCategoricalCrossentropy(z, T.tensor([1, 3, 0], { dtype: 'int32' }), { fromLogits: true });
        expect(Number.isFinite(good.data.item())).toBe(true);
        // the same labels as a cpu tensor still go to the device (the logits' backend): NaN there too;
        // fit checks labels on the host where data enters, the same on every backend (models/check-batch.ts)
        const host = losses.sparseCategoricalCrossentropy(z, T.tensor([1, 4, 0], { dtype: 'int32' }).contiguousOn('cpu'), { fromLogits: true });
        expect(Number.isNaN(host.data.item())).toBe(true);
      } finally {
        T.setBackend('cpu');
      }
    });
  });
}
