import { F, gradcheck, variable } from '@gradlab/autograd';
import { normal, between, awayFromZero } from './helpers';
import { expectClose } from './helpers';

describe('unary ops: gradcheck', () => {
  const x = normal([2, 3], 1);
  it('neg, exp, tanh, sigmoid, square, softplus (smooth everywhere)', () => {
    gradcheck((v) => v.neg(), [x]);
    gradcheck((v) => v.exp(), [x]);
    gradcheck((v) => v.tanh(), [x]);
    gradcheck((v) => v.sigmoid(), [x]);
    gradcheck((v) => v.square(), [x]);
    gradcheck((v) => v.softplus(), [x]);
  });
  it('log and sqrt on positive values', () => {
    const p = between([2, 3], 0.2, 3, 2);
    gradcheck((v) => v.log(), [p]);
    gradcheck((v) => v.sqrt(), [p]);
  });
  it('abs and relu away from their kink at 0; clip away from its bounds', () => {
    const z = awayFromZero([3, 4], 3);
    gradcheck((v) => v.abs(), [z]);
    gradcheck((v) => v.relu(), [z]);
    gradcheck((v) => v.clip(-0.1, 0.1), [z]); // |z| ≥ 0.2: all outside, gradient 0
    gradcheck((v) => v.clip(-5, 5), [z]);     // all inside, gradient 1
    gradcheck((v) => F.clip(v, -0.5, 0.5), [normal([20], 4).mul(0.7)]);
  });
  it('large inputs: sigmoid and softplus stay finite', () => {
    gradcheck((v) => v.sigmoid().add(v.softplus()), [normal([6], 5).mul(30)]);
  });
  it('a composition: tanh(x)·σ(x) + log(1 + x²)', () => {
    gradcheck((v) => v.tanh().mul(v.sigmoid()).add(v.square().add(1).log()), [normal([5], 6)]);
  });
});

describe('unary ops: values by hand', () => {
  it('derivatives at chosen points', () => {
    const x = variable([0, 1, 4], { requiresGrad: true, dtype: 'float64' });
    // exp: e^x = [1, e, e⁴]
    x.exp().sum().backward();
    expectClose(x.grad!.toArray(), [1, Math.E, Math.exp(4)], 10);
    x.zeroGrad();
    // sqrt at 1 and 4: 1/(2√x) = [1/2, 1/4]  (x = 0 left out: infinite slope)
    x.slice([[1, 3]]).sqrt().sum().backward();
    expectClose(x.grad!.toArray(), [0, 0.5, 0.25], 12);
    x.zeroGrad();
    // tanh at 0: 1 − tanh²0 = 1;  sigmoid at 0: σ(0)(1 − σ(0)) = 1/4;  softplus at 0: σ(0) = 1/2
    x.slice([[0, 1]]).tanh().add(x.slice([[0, 1]]).sigmoid()).add(x.slice([[0, 1]]).softplus()).sum().backward();
    expectClose(x.grad!.toArray(), [1.75, 0, 0], 12);
  });
  it('abs and relu have slope 0 at 0; clip passes the gradient at its bounds', () => {
    const x = variable([-2, 0, 3], { requiresGrad: true });
    x.abs().sum().backward();
    expect(x.grad!.toArray()).toEqual([-1, 0, 1]);
    x.zeroGrad();
    x.relu().sum().backward();
    expect(x.grad!.toArray()).toEqual([0, 0, 1]);
    x.zeroGrad();
    x.clip(0, 3).sum().backward(); // 0 and 3 are the bounds themselves: inside
    expect(x.grad!.toArray()).toEqual([0, 1, 1]);
  });
});
