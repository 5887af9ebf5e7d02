import { tensor } from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import { Variable, defineOp, gradcheck, toDot, F } from '@gradlab/autograd';

/**
 * An op with two outputs, written for this test: (s, d) = (a + b, a·b). Its backward must receive both
 * output gradients at once: ∂L/∂a = ds + dd·b, ∂L/∂b = ds + dd·a (either gradient may be missing).
 */
const sumAndProduct = defineOp('sumAndProduct', {
  forward(ctx, [a, b]): Tensor[] {
    ctx.save(a, b);
    return [a.add(b), a.mul(b)];
  },
  backward(ctx, [ds, dd]: (Tensor | null)[]) {
    const [a, b] = ctx.saved;
    const zero = a.mul(0);
    const s = ds ?? zero, d = dd ?? zero;
    return [s.add(d.mul(b)), s.add(d.mul(a))];
  },
});

describe('ops with several outputs', () => {
  const a0 = tensor([1.5, -2, 0.25], { dtype: 'float64' }), b0 = tensor([3, 0.5, -1], { dtype: 'float64' });

  it('give one Variable per output, made by one node, with its output index', () => {
    const [s, d] = sumAndProduct([new Variable(a0, { requiresGrad: true }), new Variable(b0)], undefined);
    expect(s.gradFn).toBe(d.gradFn);
    expect([s.outputIndex, d.outputIndex]).toEqual([0, 1]);
    expect(s.toArray()).toEqual([4.5, -1.5, -0.75]);
    expect(d.toArray()).toEqual([4.5, -1, -0.25]);
    expect(toDot(s.add(d))).toContain('sumAndProduct[1]');
  });

  it('run backward once, with the gradients of both outputs added up first', () => {
    const a = new Variable(a0, { requiresGrad: true }), b = new Variable(b0, { requiresGrad: true });
    const [s, d] = sumAndProduct([a, b], undefined);
    // L = Σ 2s + Σ 3d + Σ s  (s used twice): ∂L/∂a = 3 + 3b, ∂L/∂b = 3 + 3a
    s.mul(2).add(d.mul(3)).add(s).sum().backward();
    expect(a.grad!.toArray()).toEqual((b0.toArray() as number[]).map((v) => 3 + 3 * v));
    expect(b.grad!.toArray()).toEqual((a0.toArray() as number[]).map((v) => 3 + 3 * v));
  });

  it('pass null for an output nothing used, and pass gradcheck through either output', () => {
    const a = new Variable(a0, { requiresGrad: true }), b = new Variable(b0, { requiresGrad: true });
    sumAndProduct([a, b], undefined)[1].sum().backward(); // only d: ∂/∂a = b
    expect(a.grad!.toArray()).toEqual(b0.toArray());
    for (const k of [0, 1]) expect(gradcheck((x, y) => sumAndProduct([x, y], undefined)[k], [a0, b0]).ok).toBe(true);
    expect(gradcheck((x, y) => { const [s, d] = sumAndProduct([x, y], undefined); return F.concat([s, d], 0); }, [a0, b0]).ok).toBe(true);
  });

  it('BatchNorm is one: y and the batch statistics from one node, no gradient through the statistics', () => {
    const x = new Variable(tensor([[1, 2], [3, 6], [5, 1]], { dtype: 'float64' }), { requiresGrad: true });
    const g = new Variable(tensor([1, 2], { dtype: 'float64' }), { requiresGrad: true });
    const b = new Variable(tensor([0, 1], { dtype: 'float64' }), { requiresGrad: true });
    const { y, mean, variance } = F.batchNorm(x, g, b, 1e-3);
    expect(Array.from(mean.dataSync())).toEqual([3, 3]);
    expect(Array.from(variance.dataSync()).map((v) => +v.toFixed(12))).toEqual([8 / 3, 14 / 3].map((v) => +v.toFixed(12)));
    expect(y.gradFn!.outputCount).toBe(3);
  });
});
