import { F, gradcheck, variable } from '@gradlab/autograd';
import { normal } from './helpers';
import { expectClose } from './helpers';

describe('reductions: gradcheck', () => {
  const x = normal([2, 3, 4], 1);
  const cases: Array<[string, number | number[] | undefined, boolean]> = [
    ['all axes', undefined, false], ['axis 0', 0, false], ['axis -1 kept', -1, true], ['axes [0, 2]', [0, 2], false], ['axes [1, 2] kept', [1, 2], true],
  ];
  for (const [tag, axes, keep] of cases) {
    it(`sum, mean, max, min, variance, logSumExp over ${tag}`, () => {
      gradcheck((v) => v.sum(axes, keep), [x]);
      gradcheck((v) => v.mean(axes, keep), [x]);
      gradcheck((v) => v.max(axes, keep), [x]); // random values: no ties
      gradcheck((v) => v.min(axes, keep), [x]);
      gradcheck((v) => v.variance(axes, keep), [x]);
      gradcheck((v) => v.variance(axes, keep, 1), [x]);
      gradcheck((v) => v.logSumExp(axes, keep), [x]);
    });
  }
  it('of a scalar and through a composition (normalise by the mean)', () => {
    gradcheck((v) => v.sum(), [normal([], 2)]);
    gradcheck((v) => v.sub(v.mean(1, true)).div(v.variance(1, true).add(1e-3).sqrt()), [normal([3, 5], 3)]);
  });
});

describe('reductions: values by hand', () => {
  it('sum and mean spread the gradient evenly: 1 and 1/N', () => {
    const x = variable([[1, 2, 3], [4, 5, 6]], { requiresGrad: true });
    x.sum(1).mul(variable([1, 10])).sum().backward(); // row 0 weighs 1, row 1 weighs 10
    expect(x.grad!.toArray()).toEqual([[1, 1, 1], [10, 10, 10]]);
    x.zeroGrad();
    x.mean().backward();
    expectClose(x.grad!.toArray(), [[1 / 6, 1 / 6, 1 / 6], [1 / 6, 1 / 6, 1 / 6]]);
  });
  it('max sends the gradient to the maximum and splits it on a tie', () => {
    // rows: [1, 3, 3] has a tie (½ each), [7, 2, 5] a single maximum
    const x = variable([[1, 3, 3], [7, 2, 5]], { requiresGrad: true });
    x.max(1).sum().backward();
    expect(x.grad!.toArray()).toEqual([[0, 0.5, 0.5], [1, 0, 0]]);
    x.zeroGrad();
    x.min().backward(); // the minimum over everything is the single 1
    expect(x.grad!.toArray()).toEqual([[1, 0, 0], [0, 0, 0]]);
  });
  it('variance: ∂/∂x_i = 2(x_i − μ)/(N − correction)', () => {
    // x = [1, 2, 6]: μ = 3, deviations [−2, −1, 3]; biased: 2·dev/3, unbiased: 2·dev/2 = dev
    const x = variable([1, 2, 6], { requiresGrad: true, dtype: 'float64' });
    const v = x.variance();
    expectClose(v.item(), 14 / 3, 12);
    v.backward();
    expectClose(x.grad!.toArray(), [-4 / 3, -2 / 3, 2], 12);
    x.zeroGrad();
    x.variance(0, false, 1).backward();
    expectClose(x.grad!.toArray(), [-2, -1, 3], 12);
  });
  it('logSumExp: the gradient is the softmax; huge values do not overflow', () => {
    // x = [0, ln 3]: Σ eˣ = 4, so ∂/∂x = [1/4, 3/4]
    const x = variable([0, Math.log(3)], { requiresGrad: true, dtype: 'float64' });
    x.logSumExp().backward();
    expectClose(x.grad!.toArray(), [0.25, 0.75], 12);
    const big = variable([1000, 1000], { requiresGrad: true });
    const y = big.logSumExp();
    expectClose(y.item(), 1000 + Math.LN2, 3);
    y.backward();
    expect(big.grad!.toArray()).toEqual([0.5, 0.5]);
  });
  it('F.mean accepts a plain tensor input (a constant)', () => {
    expect(F.mean(normal([4], 1)).requiresGrad).toBe(false);
  });
});
