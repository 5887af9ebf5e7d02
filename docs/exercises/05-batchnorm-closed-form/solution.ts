/** Exercise 05, a reference solution: the three sums of the closed form, with Tensor ops. */
import type { Tensor } from 'gradlab';

export function batchNormBackward(x: Tensor, gamma: Tensor, dy: Tensor, epsilon: number): { dx: Tensor; dgamma: Tensor; dbeta: Tensor } {
  const n = x.shape[0];
  const mean = x.mean(0, true);
  const invstd = x.sub(mean).square().mean(0, true).add(epsilon).sqrt().reciprocal();
  const xHat = x.sub(mean).mul(invstd);
  const dbeta = dy.sum(0);
  const dgamma = dy.mul(xHat).sum(0);
  // dβ/N and dγ/N are the mean of g and of g·x̂: the two directions along which normalising removes gradient
  const dx = gamma.mul(invstd).mul(dy.sub(dbeta.div(n)).sub(xHat.mul(dgamma.div(n))));
  return { dx, dgamma, dbeta };
}
