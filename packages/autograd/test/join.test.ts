import { F, gradcheck, variable } from '@gradlab/autograd';
import { normal } from './helpers';

describe('join: gradcheck', () => {
  it('concat along each axis, with inputs of different sizes', () => {
    gradcheck((a, b) => F.concat([a, b], 0), [normal([2, 3], 1), normal([4, 3], 2)]);
    gradcheck((a, b, c) => F.concat([a, b, c], -1), [normal([2, 1], 3), normal([2, 3], 4), normal([2, 2], 5)]);
    gradcheck((a) => F.concat([a, a.exp()], 1), [normal([2, 2], 6)]); // the same input twice
  });
  it('stack along a new first, middle and last axis', () => {
    for (const axis of [0, 1, -1]) gradcheck((a, b) => F.stack([a, b], axis), [normal([2, 3], 7), normal([2, 3], 8)]);
  });
  it('split into equal parts and into given sizes, recombined', () => {
    gradcheck((a) => { const [p, q] = a.split(2, 1); return p.mul(q); }, [normal([3, 4], 9)]);
    gradcheck((a) => { const [p, q, r] = F.split(a, [1, -1, 2], 0); return F.concat([r, p.exp(), q.square()], 0); }, [normal([5, 2], 10)]);
  });
  it('pad with zeros and with a constant', () => {
    gradcheck((a) => a.pad([[1, 2], [0, 3]]), [normal([2, 3], 11)]);
    gradcheck((a) => F.pad(a, [[2, 0]], -1).exp(), [normal([3], 12)]);
  });
});

describe('join: values by hand', () => {
  it('concat cuts the gradient back into pieces', () => {
    const a = variable([1, 2], { requiresGrad: true }), b = variable([3], { requiresGrad: true });
    F.concat([a, b]).mul(variable([10, 20, 30])).sum().backward();
    expect(a.grad!.toArray()).toEqual([10, 20]);
    expect(b.grad!.toArray()).toEqual([30]);
  });
  it('an unused piece of a split gets zero gradient', () => {
    const x = variable([1, 2, 3, 4], { requiresGrad: true });
    const [, second] = x.split([1, 3]);
    second.sum().backward();
    expect(x.grad!.toArray()).toEqual([0, 1, 1, 1]);
  });
  it('pad: the border is constant, only the interior has a gradient', () => {
    const x = variable([[1, 2]], { requiresGrad: true });
    const y = x.pad([[1, 1], [1, 0]], 7);
    expect(y.toArray()).toEqual([[7, 7, 7], [7, 1, 2], [7, 7, 7]]);
    y.mul(variable([[1, 2, 3], [4, 5, 6], [7, 8, 9]])).sum().backward();
    expect(x.grad!.toArray()).toEqual([[5, 6]]);
  });
  it('stack refuses different shapes, naming them', () => {
    expect(() => F.stack([normal([2], 1), normal([3], 2)])).toThrow('stack: input 1 has shape [3], expected [2] like input 0');
  });
});
