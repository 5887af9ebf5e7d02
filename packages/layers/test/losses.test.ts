import { Variable, F, gradcheck } from '@gradlab/autograd';
import { Tensor, tensor, randn, uniform } from '@gradlab/tensor';
import {
  sparseCategoricalCrossentropy, categoricalCrossentropy, binaryCrossentropy, meanSquaredError, getLoss, lossFromName,
  SparseCategoricalCrossentropy, EPSILON,
} from '../src/losses.js';

// ---- naive float64 references, written straight from Keras's definitions ----------------------

const rows2 = (t: Tensor): number[][] => t.toArray() as number[][];
const clip = (p: number): number => Math.min(1 - EPSILON, Math.max(EPSILON, p));
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
function softmax(z: number[]): number[] {
  const e = z.map(Math.exp); // moderate logits only: no shift needed here
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
/** Keras (probabilities): clip, log, then softmax crossentropy on the logs = −log(c_y / Σ c). */
const refSparse = (p: number[][], y: number[], logits: boolean): number =>
  mean(p.map((row, r) => {
    if (logits) return -Math.log(softmax(row)[y[r]]);
    const c = row.map(clip);
    return -Math.log(c[y[r]] / c.reduce((a, b) => a + b, 0));
  }));
/** Keras (probabilities): rescale rows to sum 1, clip, −Σ t log. */
const refCategorical = (p: number[][], t: number[][], logits: boolean): number =>
  mean(p.map((row, r) => {
    const q = logits ? softmax(row) : row.map((v) => clip(v / row.reduce((a, b) => a + b, 0)));
    return -t[r].reduce((s, tj, j) => s + tj * Math.log(q[j]), 0);
  }));
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const refBinary = (p: number[], t: number[], logits: boolean): number =>
  mean(p.map((v, i) => {
    const c = logits ? sigmoid(v) : clip(v);
    return -(t[i] * Math.log(c) + (1 - t[i]) * Math.log(1 - c));
  }));

const f64 = (t: Tensor): Tensor => t.astype('float64');
const variable = (t: Tensor): Variable => new Variable(t, { requiresGrad: true });

describe('values documented by Keras (derived by hand in the comments)', () => {
  // Keras docs: y_true [1, 2], y_pred [[.05, .95, 0], [.1, .8, .1]] → 1.177
  //   row 0: −log(.95 / (1 + 1e-7)) = 0.0513 (the 0 is clipped to 1e-7); row 1: −log(.1) = 2.3026; mean 1.1769
  const probs = tensor([[0.05, 0.95, 0], [0.1, 0.8, 0.1]]);
  test('sparse categorical crossentropy', () => {
    const loss = sparseCategoricalCrossentropy(new Variable(probs), tensor([1, 2], { dtype: 'int32' }));
    expect(loss.item()).toBeCloseTo((-Math.log(0.95 / (1 + 1e-7)) - Math.log(0.1)) / 2, 5);
    expect(loss.item()).toBeCloseTo(1.177, 3);
  });
  test('categorical crossentropy on one-hot targets gives the same', () => {
    const loss = categoricalCrossentropy(new Variable(probs), tensor([[0, 1, 0], [0, 0, 1]]));
    expect(loss.item()).toBeCloseTo(1.177, 3);
  });
  test('binary crossentropy', () => {
    // Keras docs: y_true [[0,1],[0,0]], y_pred [[.6,.4],[.4,.6]] → per-row [0.916, 0.714], mean 0.815
    //   row 0: (−log .4 − log .4)/2 = 0.9163; row 1: (−log .6 − log .4)/2 = 0.7136
    const loss = binaryCrossentropy(new Variable(tensor([[0.6, 0.4], [0.4, 0.6]])), tensor([[0, 1], [0, 0]]));
    expect(loss.item()).toBeCloseTo((2 * -Math.log(0.4) + -Math.log(0.6) - Math.log(0.4)) / 4, 5);
    expect(loss.item()).toBeCloseTo(0.815, 3);
  });
  test('a uniform prediction over C classes costs log C', () => {
    const loss = sparseCategoricalCrossentropy(new Variable(tensor([[0.25, 0.25, 0.25, 0.25]])), tensor([3], { dtype: 'int32' }));
    expect(loss.item()).toBeCloseTo(Math.log(4), 6);
  });
  test('a confident wrong probability is clipped: −log(1e-7) ≈ 16.118, not Infinity', () => {
    const loss = binaryCrossentropy(new Variable(tensor([0], { dtype: 'float64' })), tensor([1], { dtype: 'float64' }));
    expect(loss.item()).toBeCloseTo(-Math.log(1e-7), 6);
  });
  test('mean squared error: ((1−0)² + (2−4)²)/2 = 2.5', () => {
    expect(meanSquaredError(new Variable(tensor([[1], [2]])), tensor([[0], [4]])).item()).toBeCloseTo(2.5, 6);
  });
});

describe('against the naive references on random data', () => {
  const z = randn([6, 5], { seed: 1, dtype: 'float64' });
  const p = f64(uniform([6, 5], 0.05, 1, { seed: 2 }));
  const labels = tensor([0, 4, 2, 2, 1, 3], { dtype: 'int32' });
  const soft = f64(uniform([6, 5], 0, 1, { seed: 3 }));
  test.each([false, true])('sparse (fromLogits %s)', (logits) => {
    const x = logits ? z : p;
    expect(sparseCategoricalCrossentropy(new Variable(x), labels, { fromLogits: logits }).item())
      .toBeCloseTo(refSparse(rows2(x), labels.toArray() as number[], logits), 10);
  });
  test.each([false, true])('categorical with soft targets (fromLogits %s)', (logits) => {
    const x = logits ? z : p;
    expect(categoricalCrossentropy(new Variable(x), soft, { fromLogits: logits }).item())
      .toBeCloseTo(refCategorical(rows2(x), rows2(soft), logits), 10);
  });
  test.each([false, true])('binary (fromLogits %s)', (logits) => {
    const x = logits ? z : f64(uniform([6, 5], 0.01, 0.99, { seed: 4 }));
    const t = f64(uniform([6, 5], 0, 1, { seed: 5 }));
    expect(binaryCrossentropy(new Variable(x), t, { fromLogits: logits }).item())
      .toBeCloseTo(refBinary((x.toArray() as number[][]).flat(), (t.toArray() as number[][]).flat(), logits), 10);
  });
  test('labels as floats holding integers, or with a trailing axis of 1, are accepted', () => {
    const a = sparseCategoricalCrossentropy(new Variable(z), labels).item();
    expect(sparseCategoricalCrossentropy(new Variable(z), labels.astype('float32').reshape([6, 1])).item()).toBeCloseTo(a, 12);
  });
});

describe('gradients (gradcheck, float64)', () => {
  const labels = tensor([1, 0, 2, 2], { dtype: 'int32' });
  const z = randn([4, 3], { seed: 7, dtype: 'float64' });
  const p = f64(uniform([4, 3], 0.05, 0.9, { seed: 8 }));
  const t = f64(uniform([4, 3], 0, 1, { seed: 9 }));
  const bits = tensor([[1, 0, 1], [0, 0, 1], [1, 1, 0], [0, 1, 0]], { dtype: 'float64' });
  test('sparse, on probabilities and on logits', () => {
    gradcheck((x) => sparseCategoricalCrossentropy(x, labels), [p]);
    gradcheck((x) => sparseCategoricalCrossentropy(x, labels, { fromLogits: true }), [z]);
  });
  test('categorical, on probabilities (through the row rescaling) and on logits', () => {
    gradcheck((x, y) => categoricalCrossentropy(x, y), [p, t], { wrt: [0] });
    gradcheck((x, y) => categoricalCrossentropy(x, y, { fromLogits: true }), [z, t], { wrt: [0] });
  });
  test('binary, on probabilities and on logits', () => {
    gradcheck((x, y) => binaryCrossentropy(x, y), [p, bits], { wrt: [0] });
    gradcheck((x, y) => binaryCrossentropy(x, y, { fromLogits: true }), [z.mul(3), bits], { wrt: [0] });
  });
  test('mean squared error, both arguments', () => {
    gradcheck((x, y) => meanSquaredError(x, y), [z, t]);
  });
  test('where the clip is active the gradient is 0 (as TensorFlow clip_by_value)', () => {
    const x = variable(tensor([[1e-9, 0.5, 0.5 - 1e-9]], { dtype: 'float64' }));
    sparseCategoricalCrossentropy(x, tensor([1], { dtype: 'int32' })).backward();
    expect((x.grad!.toArray() as number[][])[0][0]).toBe(0);
  });
});

describe('fromLogits is the stable form of softmax/sigmoid followed by the loss', () => {
  const z = randn([5, 4], { seed: 11, dtype: 'float64' });
  const labels = tensor([3, 1, 0, 2, 2], { dtype: 'int32' });
  test('same value and same gradient as the composed softmax → crossentropy, for moderate logits', () => {
    const a = variable(z), b = variable(z);
    const fused = sparseCategoricalCrossentropy(a, labels, { fromLogits: true });
    const composed = sparseCategoricalCrossentropy(F.softmax(b, -1), labels);
    expect(fused.item()).toBeCloseTo(composed.item(), 9);
    fused.backward(); composed.backward();
    const ga = (a.grad!.toArray() as number[][]).flat(), gb = (b.grad!.toArray() as number[][]).flat();
    ga.forEach((g, i) => expect(g).toBeCloseTo(gb[i], 8));
  });
  test('huge logits stay finite: loss of [1000, 0] for label 1 is exactly 1000, gradient softmax − onehot', () => {
    const x = variable(tensor([[1000, 0]], { dtype: 'float64' }));
    const loss = sparseCategoricalCrossentropy(x, tensor([1], { dtype: 'int32' }), { fromLogits: true });
    expect(loss.item()).toBe(1000);
    loss.backward();
    expect(x.grad!.toArray()).toEqual([[1, -1]]);
    const b = variable(tensor([-1000, 1000], { dtype: 'float64' }));
    const bl = binaryCrossentropy(b, tensor([1, 0], { dtype: 'float64' }), { fromLogits: true });
    expect(bl.item()).toBe(1000); // (max(−1000,0) + 1000 + log(1+e^−1000) + 1000 + log(1+e^−1000)) / 2
    bl.backward();
    expect(b.grad!.toArray()).toEqual([-0.5, 0.5]);
  });
});

describe('shapes, dtypes, errors and names', () => {
  test('float32 predictions give a float32 loss and float32 gradients', () => {
    const x = variable(uniform([3, 4], 0.1, 1, { seed: 1 }));
    const loss = sparseCategoricalCrossentropy(x, tensor([0, 1, 3], { dtype: 'int32' }));
    expect(loss.dtype).toBe('float32');
    loss.backward();
    expect(x.grad!.dtype).toBe('float32');
  });
  test('sequences: [batch, time, C] with [batch, time] labels average over every step', () => {
    const z = randn([2, 3, 4], { seed: 2, dtype: 'float64' });
    const y = tensor([[0, 1, 2], [3, 0, 1]], { dtype: 'int32' });
    const flat = sparseCategoricalCrossentropy(new Variable(z.reshape([6, 4])), y.reshape([6]), { fromLogits: true }).item();
    expect(sparseCategoricalCrossentropy(new Variable(z), y, { fromLogits: true }).item()).toBeCloseTo(flat, 12);
  });
  test('errors name the loss and the shapes', () => {
    const x = new Variable(tensor([[0.5, 0.5], [0.2, 0.8]]));
    expect(() => sparseCategoricalCrossentropy(x, tensor([0, 2], { dtype: 'int32' }))).toThrow(/softmaxCrossEntropy: label 2 .*\[0, 2\).*\[2,2\]/); // the CPU kernel refuses it; fit checks labels first (check-batch)
    expect(() => sparseCategoricalCrossentropy(x, tensor([0, 1, 1], { dtype: 'int32' }))).toThrow(/labels \[3\] do not match predictions \[2,2\]/);
    expect(() => categoricalCrossentropy(x, tensor([0, 1]))).toThrow(/categorical_crossentropy: targets \[2\] do not match predictions \[2,2\]/);
    expect(() => binaryCrossentropy(x, tensor([[1, 0, 1]]))).toThrow(/binary_crossentropy: targets \[1,3\] do not match predictions \[2,2\]/);
    expect(() => getLoss('hinge')).toThrow(/unknown loss 'hinge'/);
  });
  test('string aliases and the Keras-style classes', () => {
    expect(getLoss('mse').kind).toBe('mean_squared_error');
    expect(getLoss('mean_squared_error').kind).toBe('mean_squared_error');
    expect(getLoss('sparse_categorical_crossentropy').fromLogits).toBe(false);
    expect(SparseCategoricalCrossentropy({ fromLogits: true }).fromLogits).toBe(true);
    const z = randn([3, 2], { seed: 4 });
    const y = tensor([1, 0, 1], { dtype: 'int32' });
    expect(lossFromName('sparse_categorical_crossentropy', { fromLogits: true }).call(new Variable(z), y).item())
      .toBeCloseTo(sparseCategoricalCrossentropy(new Variable(z), y, { fromLogits: true }).item(), 6);
    const custom = getLoss(function myLoss(p: Variable) { return p.sum(); });
    expect(custom.kind).toBeNull();
    expect(custom.name).toBe('myLoss');
  });
});
