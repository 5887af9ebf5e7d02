import { randn, tensor, uniform } from '@gradlab/tensor';
import { F, Variable, gradcheck } from '@gradlab/autograd';

/** Largest absolute difference between two arrays of values. */
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));

describe('fused cross-entropies from logits against their composite references', () => {
  const labels = tensor([[0, 4, 2], [3, 3, 1]], { dtype: 'int32' });
  const logits = () => randn([2, 3, 5], { seed: 1, dtype: 'float64' }).mul(4);

  test('softmaxCrossEntropy: same per-row losses and gradients as logSumExp − the label\'s logit; gradcheck', () => {
    const a = new Variable(logits(), { requiresGrad: true }), b = new Variable(logits(), { requiresGrad: true });
    const fused = F.softmaxCrossEntropy(a, labels), composite = F.softmaxCrossEntropyComposite(b, labels);
    expect(fused.shape).toEqual([2, 3]);
    expect(maxDiff(fused.data.dataSync(), composite.data.dataSync())).toBeLessThan(1e-12);
    const w = randn([2, 3], { seed: 2, dtype: 'float64' });
    fused.mul(w).sum().backward();
    composite.mul(w).sum().backward();
    expect(maxDiff(a.grad!.dataSync(), b.grad!.dataSync())).toBeLessThan(1e-12);
    expect(gradcheck((z) => F.softmaxCrossEntropy(z, labels), [logits()]).ok).toBe(true);
  });

  test('softmaxCrossEntropy stays finite for logits of ±1000 (the composite\'s logSumExp does too)', () => {
    const z = new Variable(tensor([[1000, -1000, 0]], { dtype: 'float64' }));
    expect(Array.from(F.softmaxCrossEntropy(z, tensor([1], { dtype: 'int32' })).data.dataSync())).toEqual([2000]);
  });

  test('sigmoidCrossEntropy: same elementwise losses and gradients as relu(z) − z·t + softplus(−|z|); gradcheck', () => {
    const t = uniform([2, 3, 5], 0, 1, { seed: 3, dtype: 'float64' });
    const a = new Variable(logits(), { requiresGrad: true }), b = new Variable(logits(), { requiresGrad: true });
    const fused = F.sigmoidCrossEntropy(a, t), composite = F.sigmoidCrossEntropyComposite(b, t);
    expect(maxDiff(fused.data.dataSync(), composite.data.dataSync())).toBeLessThan(1e-12);
    fused.sum().backward();
    composite.sum().backward();
    expect(maxDiff(a.grad!.dataSync(), b.grad!.dataSync())).toBeLessThan(1e-12);
    expect(gradcheck((z) => F.sigmoidCrossEntropy(z, t), [logits()]).ok).toBe(true);
    // −t·log σ(z) − (1 − t)·log(1 − σ(z)), written out for one value: z = 2, t = 0.25
    const s = 1 / (1 + Math.exp(-2));
    expect(F.sigmoidCrossEntropy(new Variable(tensor([2], { dtype: 'float64' })), tensor([0.25], { dtype: 'float64' })).data.item())
      .toBeCloseTo(-0.25 * Math.log(s) - 0.75 * Math.log(1 - s), 12);
  });
});

describe('group norm and layer norm: fused against composite, and gradcheck', () => {
  test('GroupNorm [2,3,4,6] in 3 groups and LayerNorm [2,5,6] (one group per row)', () => {
    const gamma = uniform([6], 0.5, 2, { seed: 5, dtype: 'float64' }), beta = randn([6], { seed: 6, dtype: 'float64' });
    const cases: [number[], (x: Variable, g: Variable, b: Variable) => Variable, (x: Variable, g: Variable, b: Variable) => Variable][] = [
      [[2, 3, 4, 6], (x, g, b) => F.groupNorm(x, g, b, 3, 1e-3), (x, g, b) => F.groupNormComposite(x, g, b, 3, 1e-3)],
      [[2, 5, 6], (x, g, b) => F.layerNorm(x, g, b, 1e-3), (x, g, b) => F.layerNormComposite(x, g, b, 1e-3)],
    ];
    for (const [shape, fused, composite] of cases) {
      const x = randn(shape, { seed: 7, dtype: 'float64' }).mul(3).add(1);
      const run = (f: typeof fused) => {
        const vs = [x, gamma, beta].map((t) => new Variable(t, { requiresGrad: true }));
        const y = f(vs[0], vs[1], vs[2]);
        y.mul(randn(shape, { seed: 8, dtype: 'float64' })).sum().backward();
        return [y.data, ...vs.map((v) => v.grad!)];
      };
      const [a, b] = [run(fused), run(composite)];
      a.forEach((t, k) => expect(maxDiff(t.dataSync(), b[k].dataSync())).toBeLessThan(1e-10));
      expect(gradcheck(fused, [x, gamma, beta]).ok).toBe(true);
    }
  });
});
