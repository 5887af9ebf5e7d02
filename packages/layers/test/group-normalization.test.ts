import { Variable, gradcheck } from '@gradlab/autograd';
import { Tensor, randn, tensor } from '@gradlab/tensor';
import { GroupNormalization, LayerNormalization, layers, models, optimizers } from '@gradlab/layers';
import { layerFromConfig } from '../src/models/save';

/** Largest absolute difference between two tensors' values. */
function maxDiff(a: Tensor, b: Tensor): number {
  const x = a.dataSync(), y = b.dataSync();
  expect(x.length).toBe(y.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

/**
 * Naive float64 group norm, from the definition with plain loops: x flat [B, S, C] (S positions),
 * channels c in group floor(c / (C/G)); statistics per (example, group) over its positions and channels.
 */
function naiveGroupNorm(x: Tensor, gamma: number[], beta: number[], groups: number, eps: number): Tensor {
  const shape = x.shape, C = shape[shape.length - 1], B = shape[0];
  const S = x.size / (B * C), K = C / groups;
  const v = Array.from(x.dataSync());
  const at = (b: number, s: number, c: number) => (b * S + s) * C + c;
  const out = new Array<number>(v.length);
  for (let b = 0; b < B; b++) {
    for (let g = 0; g < groups; g++) {
      const members: number[] = [];
      for (let s = 0; s < S; s++) for (let c = g * K; c < (g + 1) * K; c++) members.push(at(b, s, c));
      const mean = members.reduce((t, i) => t + v[i], 0) / members.length;
      const variance = members.reduce((t, i) => t + (v[i] - mean) ** 2, 0) / members.length;
      for (const i of members) {
        const c = i % C;
        out[i] = gamma[c] * (v[i] - mean) / Math.sqrt(variance + eps) + beta[c];
      }
    }
  }
  return tensor(out, { dtype: 'float64' }).reshape(shape);
}

/** A built layer with γ and β set to the given values, in float64 for exact comparisons. */
function groupNorm(groups: number, channels: number, gamma: Tensor, beta: Tensor, fused: boolean, rank = 4): GroupNormalization {
  const layer = new GroupNormalization({ groups, fused });
  layer.build([null, ...new Array<number | null>(rank - 2).fill(3), channels]);
  layer.gamma!.data = gamma;
  layer.beta!.data = beta;
  return layer;
}

describe('group norm, composite and fused', () => {
  const x = randn([2, 3, 5, 6], { seed: 1, dtype: 'float64' }).mul(2).add(1);
  const gamma = randn([6], { seed: 2, dtype: 'float64' });
  const beta = randn([6], { seed: 3, dtype: 'float64' });

  it('forward matches a naive float64 reference ([B,H,W,C] with 3 groups, [B,C] with 2)', () => {
    for (const fused of [false, true]) {
      const y = groupNorm(3, 6, gamma, beta, fused).apply(new Variable(x));
      expect(maxDiff(y.data, naiveGroupNorm(x, gamma.toArray() as number[], beta.toArray() as number[], 3, 1e-3))).toBeLessThan(1e-12);
      const x2 = x.reshape([10, 18]).slice([[0, 10], [0, 6]]).contiguous();
      const y2 = groupNorm(2, 6, gamma, beta, fused, 2).apply(new Variable(x2));
      expect(maxDiff(y2.data, naiveGroupNorm(x2, gamma.toArray() as number[], beta.toArray() as number[], 2, 1e-3))).toBeLessThan(1e-12);
    }
  });

  it('fused backward equals the composite backward', () => {
    const dy = randn([2, 3, 5, 6], { seed: 9, dtype: 'float64' });
    const grads = [false, true].map((fused) => {
      const layer = groupNorm(3, 6, gamma, beta, fused);
      const vx = new Variable(x, { requiresGrad: true });
      layer.apply(vx).backward(dy);
      return [vx.grad!, layer.gamma!.grad!, layer.beta!.grad!];
    });
    for (let k = 0; k < 3; k++) expect(maxDiff(grads[0][k], grads[1][k])).toBeLessThan(1e-10);
  });

  it('passes gradcheck for x, γ and β (fused and composite, 3-D and 2-D input)', () => {
    const x3 = randn([2, 3, 4], { seed: 4, dtype: 'float64' });
    const g4 = randn([4], { seed: 5, dtype: 'float64' }), b4 = randn([4], { seed: 6, dtype: 'float64' });
    const x2 = randn([3, 4], { seed: 7, dtype: 'float64' });
    for (const fused of [false, true]) {
      const layer = groupNorm(2, 4, g4, b4, fused, 3);
      const fn = (a: Variable, g: Variable, b: Variable) => { layer.gamma = g; layer.beta = b; return layer.call(a, {}); };
      expect(gradcheck(fn, [x3, g4, b4]).ok).toBe(true);
      expect(gradcheck(fn, [x2, g4, b4]).ok).toBe(true);
    }
  });
});

describe('the two ends of the family', () => {
  it('groups = 1 is LayerNormalization over the channels of [B, C]', () => {
    const x = randn([5, 8], { seed: 11, dtype: 'float64' }).mul(3);
    const gamma = randn([8], { seed: 12, dtype: 'float64' }), beta = randn([8], { seed: 13, dtype: 'float64' });
    const ln = new LayerNormalization();
    ln.build([null, 8]);
    ln.gamma!.data = gamma;
    ln.beta!.data = beta;
    for (const fused of [false, true]) {
      const gn = groupNorm(1, 8, gamma, beta, fused, 2);
      expect(maxDiff(gn.apply(new Variable(x)).data, ln.apply(new Variable(x)).data)).toBeLessThan(1e-12);
    }
  });

  it('groups = C (groups: -1) is InstanceNormalization: each channel of each example over its positions', () => {
    const x = randn([2, 4, 3, 5], { seed: 14, dtype: 'float64' });
    const v = x.toArray() as number[][][][];
    // Instance norm by hand, without γ and β: (x − mean over h, w) / √(var over h, w + ε) per (b, c).
    const expected = v.map((img) => {
      const stats = Array.from({ length: 5 }, (_, c) => {
        const values = img.flatMap((row) => row.map((px) => px[c]));
        const mean = values.reduce((s, t) => s + t, 0) / values.length;
        const variance = values.reduce((s, t) => s + (t - mean) ** 2, 0) / values.length;
        return { mean, invstd: 1 / Math.sqrt(variance + 1e-3) };
      });
      return img.map((row) => row.map((px) => px.map((t, c) => (t - stats[c].mean) * stats[c].invstd)));
    });
    for (const fused of [false, true]) {
      const layer = new GroupNormalization({ groups: -1, fused });
      const y = layer.apply(new Variable(x));
      expect(layer.groupCount).toBe(5);
      expect(maxDiff(y.data, tensor(expected, { dtype: 'float64' }))).toBeLessThan(1e-12);
    }
  });
});

describe('GroupNormalization layer', () => {
  it('has Keras 3 defaults, γ and β per channel, no moving statistics', () => {
    const gn = layers.GroupNormalization();
    gn.build([null, 7, 64]);
    expect([gn.groups, gn.epsilon, gn.center, gn.scale, gn.groupCount]).toEqual([32, 1e-3, true, true, 32]);
    expect(gn.countParams()).toEqual({ trainable: 128, nonTrainable: 0, total: 128 });
    const bare = new GroupNormalization({ groups: 2, center: false, scale: false });
    bare.build([null, 4]);
    expect(bare.countParams().total).toBe(0);
  });

  it('an example is normalised the same alone, in a batch, in training and in inference', () => {
    const gn = new GroupNormalization({ groups: 4 });
    const batch = randn([6, 12], { seed: 21 });
    const inBatch = gn.apply(batch, { training: true }).data;
    const alone = gn.apply(batch.slice([[2, 3]]), { training: false }).data;
    expect(maxDiff(inBatch.slice([[2, 3]]).contiguous(), alone)).toBeLessThan(1e-6);
  });

  it('refuses channel counts that are not a multiple of the groups, too many groups, other axes', () => {
    expect(() => new GroupNormalization({ groups: 4 }).build([null, 10])).toThrow(/10 channels .* not a multiple of 4 groups/);
    expect(() => new GroupNormalization({ groups: 16 }).build([null, 8])).toThrow(/16 groups cannot be more than the 8 channels/);
    expect(() => new GroupNormalization({ axis: 1 })).toThrow(/only axis -1/);
    expect(() => new GroupNormalization({ groups: 0 })).toThrow(/groups must be a positive integer or -1/);
    const gn = new GroupNormalization({ groups: 2, name: 'gn' });
    gn.build([null, 4]);
    expect(() => gn.apply(randn([3, 6]))).toThrow(/gn \(GroupNormalization\).*\[3,6\] has 6 features.*expects 4/);
  });

  it('is rebuilt from its config (models.load) and trains in a Sequential', async () => {
    const gn = new GroupNormalization({ groups: 2, epsilon: 1e-5, name: 'gn_saved' });
    const copy = layerFromConfig({ className: 'GroupNormalization', config: gn.getConfig() }) as GroupNormalization;
    expect([copy.name, copy.groups, copy.epsilon]).toEqual(['gn_saved', 2, 1e-5]);

    const model = new models.Sequential();
    model.add(layers.Dense(8, { inputShape: [3] }));
    model.add(layers.GroupNormalization({ groups: 4 }));
    model.add(layers.Dense(1, { activation: 'sigmoid' }));
    model.compile({ optimizer: new optimizers.Adam({ lr: 0.02 }), loss: 'binary_crossentropy' });
    // Normalising pairs of channels removes each example's scale, so learn a sign: y = [x₀ + x₁ − x₂ > 0].
    const x = randn([32, 3], { seed: 31 });
    const v = x.toArray() as number[][];
    const y = tensor(v.map((r) => [r[0] + r[1] - r[2] > 0 ? 1 : 0]));
    const first = await model.trainOnBatch(x, y);
    let last = first;
    for (let i = 0; i < 60; i++) last = await model.trainOnBatch(x, y);
    expect(last).toBeLessThan(first * 0.5);
  });
});
