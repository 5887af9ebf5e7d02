import type { SliceSpec } from '@gradlab/tensor';
import { F, gradcheck, variable } from '@gradlab/autograd';
import { normal } from './helpers';

// gradcheck weighs every output element with its own random weight, so a view whose backward put a
// gradient in the wrong place (or transposed it) fails.
describe('views: gradcheck', () => {
  const x = normal([2, 3, 4], 1);
  it('reshape, flatten, squeeze, unsqueeze', () => {
    gradcheck((v) => v.reshape([4, -1]), [x]);
    gradcheck((v) => v.flatten(), [x]);
    gradcheck((v) => v.reshape([2, 1, 3, 4]).squeeze(1), [x]);
    gradcheck((v) => v.unsqueeze(-1).squeeze(), [x]);
  });
  it('transpose (a permutation, the default reversal, T) and then a non-view op', () => {
    gradcheck((v) => v.transpose([1, 2, 0]).mul(normal([3, 4, 2], 2)), [x]);
    gradcheck((v) => v.transpose().reshape([-1]), [x]);
    gradcheck((v) => v.T.exp(), [x]);
  });
  it('broadcastTo and expand', () => {
    gradcheck((v) => v.broadcastTo([5, 3, 4]), [normal([3, 1], 3)]);
    gradcheck((v) => F.broadcastTo(v, [2, 2, 3]), [normal([3], 4)]);
    gradcheck((v) => v.expand([2, 3]), [normal([], 5)]);
  });

  const specs: Array<[string, SliceSpec[]]> = [
    ['a range', [[0, 1], [1, 3]]],
    ['an index (the axis is dropped)', [1, null, 2]],
    ['a negative index and a negative start', [-1, [-2]]],
    ['step 2', [null, [null, null, 2]]],
    ['step 3 from 1', [null, null, [1, null, 3]]],
    ['a negative step (reversed)', [[null, null, -1], [2, 0, -1]]],
    ['a negative step of 2', [null, null, [3, null, -2]]],
    ['everything at once', [[1, 2], [2, null, -2], [null, null, 2]]],
  ];
  for (const [tag, spec] of specs) {
    it(`slice: ${tag}`, () => { gradcheck((v) => v.slice(spec), [x]); });
  }
  it('slice: an empty result gives a zero gradient', () => {
    const v = variable(normal([2, 3], 6), { requiresGrad: true });
    v.slice([[1, 1]]).sum().add(v.sum()).backward();
    expect(v.grad!.toArray()).toEqual([[1, 1, 1], [1, 1, 1]]);
  });
});

describe('views: values by hand', () => {
  it('slice puts the gradient back where it read, zeros elsewhere', () => {
    // x[1:5:2] reads elements 1 and 3 of [0..5]
    const x = variable([0, 1, 2, 3, 4, 5], { requiresGrad: true });
    x.slice([[1, 5, 2]]).mul(variable([10, 20])).sum().backward();
    expect(x.grad!.toArray()).toEqual([0, 10, 0, 20, 0, 0]);
    x.zeroGrad();
    // x[4::-3] reads elements 4 and 1, in that order
    x.slice([[4, null, -3]]).mul(variable([10, 20])).sum().backward();
    expect(x.grad!.toArray()).toEqual([0, 20, 0, 0, 10, 0]);
  });
  it('transpose sends each gradient back to its own element', () => {
    const x = variable([[1, 2, 3], [4, 5, 6]], { requiresGrad: true });
    x.T.mul(variable([[1, 10], [100, 1000], [1e4, 1e5]])).sum().backward(); // weight of x[i][j] = w[j][i]
    expect(x.grad!.toArray()).toEqual([[1, 100, 1e4], [10, 1000, 1e5]]);
  });
  it('broadcastTo sums the gradient of the copies', () => {
    const x = variable([[1], [2]], { requiresGrad: true });
    x.broadcastTo([3, 2, 4]).sum().backward(); // each element copied 3·4 = 12 times
    expect(x.grad!.toArray()).toEqual([[12], [12]]);
  });
});
