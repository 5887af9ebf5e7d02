import { tensor } from '@gradlab/tensor';
import { F, gradcheck, variable } from '@gradlab/autograd';
import { normal } from './helpers';
import { expectClose } from './helpers';

describe('softmax and logSoftmax: gradcheck', () => {
  const x = normal([3, 4, 2], 1);
  for (const axis of [0, 1, -1]) {
    it(`along axis ${axis}`, () => {
      gradcheck((v) => v.softmax(axis), [x]);
      gradcheck((v) => F.logSoftmax(v, axis), [x]);
    });
  }
  it('with large logits (the stable forms)', () => {
    gradcheck((v) => v.softmax().add(v.logSoftmax()), [normal([2, 5], 2).mul(50)], { atol: 1e-4 });
  });
  it('cross-entropy composed from logSoftmax and gather', () => {
    const labels = tensor([2, 0, 1], { dtype: 'int32' });
    gradcheck((logits) => logits.logSoftmax(-1).gather(labels.reshape([3, 1]), 1).mean().neg(), [normal([3, 4], 3)]);
  });
});

describe('softmax and logSoftmax: values by hand', () => {
  it('softmax of [0, ln 3] is [1/4, 3/4]; Σ softmax is constant so its gradient is 0', () => {
    const x = variable([0, Math.log(3)], { requiresGrad: true, dtype: 'float64' });
    const y = x.softmax();
    expectClose(y.toArray(), [0.25, 0.75], 12);
    y.sum().backward();
    expectClose(x.grad!.toArray(), [0, 0], 12);
  });
  it('∂y₀/∂x = y₀(δ − y): [y₀(1 − y₀), −y₀y₁] = [3/16, −3/16]', () => {
    const x = variable([0, Math.log(3)], { requiresGrad: true, dtype: 'float64' });
    x.softmax().slice([0]).backward();
    expectClose(x.grad!.toArray(), [3 / 16, -3 / 16], 12);
  });
  it('logSoftmax: dx = dy − softmax·Σdy; cross-entropy gradient = softmax − onehot', () => {
    // L = −logSoftmax(x)[1] at x = [0, ln 3]: dL/dx = softmax − e₁ = [1/4, −1/4]
    const x = variable([0, Math.log(3)], { requiresGrad: true, dtype: 'float64' });
    x.logSoftmax().slice([1]).neg().backward();
    expectClose(x.grad!.toArray(), [0.25, -0.25], 12);
  });
  it('logSoftmax of huge logits is exact in float32', () => {
    // x = [1000, 1000]: logSoftmax = [−ln 2, −ln 2]
    const y = variable([1000, 1000]).logSoftmax();
    expectClose(y.toArray(), [-Math.LN2, -Math.LN2], 6);
  });
});
