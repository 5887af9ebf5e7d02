import { tensor, zeros } from '@gradlab/tensor';
import { defineOp, gradcheck, checkGradients, variable } from '@gradlab/autograd';
import type { Variable } from '@gradlab/autograd';
import { normal } from './helpers';

/** exp with a wrong derivative on purpose: dy·eˣ·1.01 (1% off) */
const sloppyExp = defineOp('sloppyExp', {
  forward: (ctx, [x]) => ctx.save(x.exp()),
  backward: (ctx, dy) => [dy.mul(ctx.saved[0]).mul(1.01)],
});
/** a "transpose" whose backward forgets to transpose back: right shape for square inputs, wrong places */
const forgetfulT = defineOp('forgetfulT', {
  forward: (ctx, [x]) => x.T,
  backward: (ctx, dy) => [dy],
});

describe('gradcheck', () => {
  it('passes a correct op and reports what it compared', () => {
    const report = gradcheck((x, y) => x.mul(y).exp(), [normal([2, 3], 1), normal([3], 2)]);
    expect(report.ok).toBe(true);
    expect(report.checked).toBe(6 + 3);
    expect(report.failures).toBe(0);
    expect(report.maxError).toBeLessThan(1e-6);
  });

  it('catches a derivative that is 1% off, naming the worst element', () => {
    const x = tensor([[0.1, 2], [0.3, -1]]); // the largest gradient e² is at [0,1]: the largest error
    const report = checkGradients((v) => sloppyExp([v], undefined), [x]);
    expect(report.ok).toBe(false);
    expect(report.failures).toBe(4);
    expect(report.worst!.input).toBe(0);
    expect(report.worst!.index).toEqual([0, 1]);
    expect(report.worst!.analytic / report.worst!.numeric).toBeCloseTo(1.01, 6);
    expect(() => gradcheck((v) => sloppyExp([v], undefined), [x]))
      .toThrow(/gradcheck: 4 of 4 gradient elements are wrong; worst: input 0 \[2,2\] element \[0,1\]: analytic .* numeric/);
  });

  it('catches a gradient sent to the wrong element, which Σ f would miss', () => {
    // With L = Σ f (r = 1) a misplaced gradient of a permutation still sums right: only a random r catches it.
    const x = normal([3, 3], 3);
    expect(checkGradients((v) => forgetfulT([v], undefined), [x], { projection: 'sum' }).ok).toBe(true);
    expect(checkGradients((v) => forgetfulT([v], undefined), [x]).ok).toBe(false);
  });

  it('casts float32 inputs to float64 and passes int32 inputs as constants', () => {
    let seen: Variable[] = [];
    const report = gradcheck((v, idx) => { seen = [v, idx]; return v.gather(idx.data, 0); },
      [tensor([1, 2, 3]), tensor([0, 2], { dtype: 'int32' })]);
    expect(seen[0].dtype).toBe('float64');
    expect(seen[1].dtype).toBe('int32');
    expect(seen[1].requiresGrad).toBe(false);
    expect(report.checked).toBe(3);
  });

  it('checks only the inputs named in wrt', () => {
    const report = gradcheck((a, b) => a.mul(b), [normal([2], 4), normal([2], 5)], { wrt: [1] });
    expect(report.checked).toBe(2);
    expect(() => checkGradients((a, b) => a.mul(b), [normal([2], 4), zeros([2], 'int32')], { wrt: [1] }))
      .toThrow('gradcheck: input 1 is not a float input');
  });

  it('refuses a function that leaves float64 (its numeric gradient would be noise)', () => {
    expect(() => gradcheck((v) => variable(v.data.astype('float32')), [normal([2], 6)]))
      .toThrow('gradcheck: the function returned float32');
  });
});
