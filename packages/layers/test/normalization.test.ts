import { F, Variable, gradcheck, noGrad } from '@gradlab/autograd';
import { Tensor, randn, tensor, fromTypedArray } from '@gradlab/tensor';
import { BatchNormalization, LayerNormalization } from '@gradlab/layers';
import { batchNormInference } from '../src/layers/normalization';

const { batchNormComposite, batchNorm: batchNormFused, layerNormComposite, layerNorm: layerNormFused } = F;

/** Largest absolute difference between two tensors' values. */
function maxDiff(a: Tensor, b: Tensor): number {
  const x = a.dataSync(), y = b.dataSync();
  expect(x.length).toBe(y.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

/** Naive float64 batch norm over the rows of [M, C], written from the formula with plain loops. */
function naiveBatchNorm(x: number[][], gamma: number[], beta: number[], eps: number, mask?: number[]) {
  const M = x.length, C = x[0].length;
  const w = mask ?? x.map(() => 1);
  const n = w.reduce((s, v) => s + v, 0);
  const mean = Array.from({ length: C }, (_, c) => x.reduce((s, row, r) => s + w[r] * row[c], 0) / n);
  const variance = Array.from({ length: C }, (_, c) => x.reduce((s, row, r) => s + w[r] * (row[c] - mean[c]) ** 2, 0) / n);
  const y = x.map((row) => row.map((v, c) => gamma[c] * (v - mean[c]) / Math.sqrt(variance[c] + eps) + beta[c]));
  return { y, mean, variance, M, C };
}

describe('batch norm, composite and fused', () => {
  const x = randn([6, 4], { seed: 1, dtype: 'float64' }).mul(3).add(2);
  const gamma = randn([4], { seed: 2, dtype: 'float64' });
  const beta = randn([4], { seed: 3, dtype: 'float64' });

  it('forward matches a naive float64 reference, with and without a mask', () => {
    const mask = tensor([1, 1, 0, 1, 0, 1], { dtype: 'float64' });
    for (const m of [null, mask]) {
      const ref = naiveBatchNorm(x.toArray() as number[][], gamma.toArray() as number[], beta.toArray() as number[], 1e-3,
        m ? (m.toArray() as number[]) : undefined);
      for (const impl of [batchNormComposite, batchNormFused]) {
        const { y, mean, variance } = impl(new Variable(x), new Variable(gamma), new Variable(beta), 1e-3, m);
        expect(maxDiff(y.data, tensor(ref.y, { dtype: 'float64' }))).toBeLessThan(1e-12);
        expect(maxDiff(mean, tensor(ref.mean, { dtype: 'float64' }))).toBeLessThan(1e-12);
        expect(maxDiff(variance, tensor(ref.variance, { dtype: 'float64' }))).toBeLessThan(1e-12);
      }
    }
  });

  it('fused backward equals the composite backward', () => {
    const dy = randn([6, 4], { seed: 9, dtype: 'float64' });
    const mask = tensor([1, 0, 1, 1, 1, 0], { dtype: 'float64' });
    for (const m of [null, mask]) {
      const grads = [batchNormComposite, batchNormFused].map((impl) => {
        const vx = new Variable(x, { requiresGrad: true });
        const vg = new Variable(gamma, { requiresGrad: true });
        const vb = new Variable(beta, { requiresGrad: true });
        impl(vx, vg, vb, 1e-3, m).y.backward(dy);
        return [vx.grad!, vg.grad!, vb.grad!];
      });
      for (let k = 0; k < 3; k++) expect(maxDiff(grads[0][k], grads[1][k])).toBeLessThan(1e-10);
    }
  });

  it('fused kernel: rows taken four at a time and the leftover rows agree with the references for every row count', () => {
    for (let M = 1; M <= 13; M++) {
      const xm = randn([M, 3], { seed: 20 + M, dtype: 'float64' }).mul(2).add(5);
      const g3 = randn([3], { seed: 40 + M, dtype: 'float64' }), b3 = randn([3], { seed: 60 + M, dtype: 'float64' });
      const dy = randn([M, 3], { seed: 80 + M, dtype: 'float64' });
      const ref = naiveBatchNorm(xm.toArray() as number[][], g3.toArray() as number[], b3.toArray() as number[], 1e-3);
      const grads = [batchNormComposite, batchNormFused].map((impl) => {
        const vx = new Variable(xm, { requiresGrad: true }), vg = new Variable(g3, { requiresGrad: true }), vb = new Variable(b3, { requiresGrad: true });
        const { y } = impl(vx, vg, vb, 1e-3, null);
        expect(maxDiff(y.data, tensor(ref.y, { dtype: 'float64' }))).toBeLessThan(1e-12);
        y.backward(dy);
        return [vx.grad!, vg.grad!, vb.grad!];
      });
      for (let k = 0; k < 3; k++) expect(maxDiff(grads[0][k], grads[1][k])).toBeLessThan(1e-10);
    }
  });

  it('passes gradcheck (fused and composite, masked and not, 3-D input)', () => {
    const x3 = randn([2, 3, 4], { seed: 4, dtype: 'float64' });
    const mask = tensor([[1, 1, 0], [1, 0, 0]], { dtype: 'float64' });
    for (const impl of [batchNormComposite, batchNormFused]) {
      for (const m of [null, mask]) {
        expect(gradcheck((a, g, b) => impl(a, g, b, 1e-3, m).y, [x3, gamma, beta]).ok).toBe(true);
      }
    }
  });
});

describe('BatchNormalization layer', () => {
  it('has Keras defaults and counts gamma/beta as trainable, moving stats as non-trainable', () => {
    const bn = new BatchNormalization();
    bn.build([null, 10, 7]);
    expect([bn.momentum, bn.epsilon]).toEqual([0.99, 1e-3]);
    expect(bn.countParams()).toEqual({ trainable: 14, nonTrainable: 14, total: 28 });
    expect(bn.namedParameters().map(([n]) => n)).toEqual(['gamma', 'beta']);
  });

  it('updates the moving averages with momentum and the biased batch variance', () => {
    const bn = new BatchNormalization({ momentum: 0.9 });
    const x = tensor([[1, 10], [3, 20], [5, 60]]);
    bn.apply(x, { training: true });
    // batch mean (3, 30); biased variance (8/3, 1400/3); moving = 0.9·initial + 0.1·batch
    expect(bn.movingMean.toArray()).toEqual([0.3, 3].map((v) => Math.fround(v)));
    const mv = bn.movingVariance.toArray() as number[];
    expect(mv[0]).toBeCloseTo(0.9 + 0.1 * 8 / 3, 5);
    expect(mv[1]).toBeCloseTo(0.9 + 0.1 * 1400 / 3, 3);
  });

  it('uses moving statistics in inference and leaves them alone', () => {
    const bn = new BatchNormalization();
    const x = randn([8, 3], { seed: 5 }).mul(4).add(1);
    for (let i = 0; i < 5; i++) bn.apply(x, { training: true });
    const before = bn.movingMean.toArray();
    const y = noGrad(() => bn.apply(x, { training: false }));
    expect(bn.movingMean.toArray()).toEqual(before);
    const mm = bn.movingMean.dataSync(), mv = bn.movingVariance.dataSync(), xs = x.dataSync(), ys = y.data.dataSync();
    for (let i = 0; i < xs.length; i++) {
      const c = i % 3;
      expect(ys[i]).toBeCloseTo((xs[i] - mm[c]) / Math.sqrt(mv[c] + 1e-3), 4);
    }
  });

  it('inference mode passes gradcheck', () => {
    const bn = new BatchNormalization();
    bn.build([null, 3]);
    for (let i = 0; i < 3; i++) bn.apply(randn([5, 3], { seed: i }), { training: true });
    const gamma = randn([3], { seed: 11, dtype: 'float64' });
    const fn = (x: Variable, g: Variable, b: Variable) =>
      batchNormInference(x, g, b, bn.movingMean.astype('float64'), bn.movingVariance.astype('float64'), 1e-3);
    expect(gradcheck(fn, [randn([4, 3], { seed: 12, dtype: 'float64' }), gamma, randn([3], { seed: 13, dtype: 'float64' })]).ok).toBe(true);
  });

  it('normalises [B,H,W,C] per channel over batch and space, and [B,T,F] over batch and time', () => {
    for (const shape of [[2, 3, 3, 4], [3, 5, 4]]) {
      const bn = new BatchNormalization();
      const y = bn.apply(randn(shape, { seed: 3 }).mul(5).add(7), { training: true });
      const flat = y.data.reshape([-1, 4]);
      for (const v of flat.mean(0).dataSync()) expect(Math.abs(v)).toBeLessThan(1e-5);
      for (const v of flat.variance(0).dataSync()) expect(v).toBeGreaterThan(0.99);
    }
  });

  it('keeps masked steps out of the statistics', () => {
    const bn = new BatchNormalization({ momentum: 0 }); // moving stats = the last batch's
    const real = [[[1], [2]], [[3], [4]]];
    const padded = tensor([[[1], [2], [1000]], [[3], [4], [-1000]]]);
    const mask = tensor([[1, 1, 0], [1, 1, 0]]);
    bn.apply(padded, { training: true, mask });
    const ref = naiveBatchNorm(real.flat(), [1], [0], 1e-3);
    expect(bn.movingMean.item()).toBeCloseTo(ref.mean[0], 5);
    expect(bn.movingVariance.item()).toBeCloseTo(ref.variance[0], 5);
  });

  it('trains on a single value per channel as Keras does: variance 0, so x̂ = 0 and y = β', () => {
    const bn = new BatchNormalization({ name: 'bn_one' });
    bn.build([null, 3]);
    bn.beta!.data = tensor([0.5, -1, 2]);
    expect(Array.from(bn.apply(tensor([[1, 2, 3]]), { training: true }).data.dataSync())).toEqual([0.5, -1, 2]);
    expect(Array.from(bn.movingVariance.dataSync()).map((v) => +v.toFixed(6))).toEqual([0.99, 0.99, 0.99]); // 0.99·1 + 0.01·0
  });

  it('names the shapes when features do not match', () => {
    const bn = new BatchNormalization({ name: 'bn_shape' });
    bn.build([null, 4]);
    expect(() => bn.apply(randn([2, 5]), { training: true })).toThrow('bn_shape (BatchNormalization): input [2,5] has 5 features, gamma [4] expects 4');
  });

  it('fused and composite layers train identically', () => {
    const x = randn([6, 3], { seed: 21 });
    const a = new BatchNormalization({ fused: true });
    const b = new BatchNormalization({ fused: false });
    const ya = a.apply(x, { training: true }), yb = b.apply(x, { training: true });
    expect(maxDiff(ya.data, yb.data)).toBeLessThan(1e-5);
    expect(maxDiff(a.movingVariance, b.movingVariance)).toBeLessThan(1e-6);
  });
});

describe('layer norm', () => {
  it('fused equals composite, forward and backward, and both pass gradcheck', () => {
    const x = randn([3, 2, 5], { seed: 31, dtype: 'float64' });
    const gamma = randn([5], { seed: 32, dtype: 'float64' });
    const beta = randn([5], { seed: 33, dtype: 'float64' });
    const dy = randn([3, 2, 5], { seed: 34, dtype: 'float64' });
    const grads = [layerNormComposite, layerNormFused].map((impl) => {
      const vs = [x, gamma, beta].map((t) => new Variable(t, { requiresGrad: true }));
      const y = impl(vs[0], vs[1], vs[2], 1e-3);
      y.backward(dy);
      return [y.data, ...vs.map((v) => v.grad!)];
    });
    for (let k = 0; k < 4; k++) expect(maxDiff(grads[0][k], grads[1][k])).toBeLessThan(1e-10);
    for (const impl of [layerNormComposite, layerNormFused]) {
      expect(gradcheck((a, g, b) => impl(a, g, b, 1e-3), [x, gamma, beta]).ok).toBe(true);
    }
  });

  it('normalises each row over its features, the same in training and inference', () => {
    const ln = new LayerNormalization();
    const x = fromTypedArray(new Float32Array([1, 2, 3, 4, 10, 20, 30, 40]), [2, 4]);
    const train = ln.apply(x, { training: true }).data, infer = ln.apply(x, { training: false }).data;
    expect(maxDiff(train, infer)).toBe(0);
    for (const v of train.mean(1).dataSync()) expect(Math.abs(v)).toBeLessThan(1e-6);
    // row [1,2,3,4]: mean 2.5, variance 1.25 → first element (1 − 2.5)/√(1.25 + 1e-3)
    expect(train.get(0, 0)).toBeCloseTo(-1.5 / Math.sqrt(1.251), 5);
  });
});
