/** Exercise 06, a reference solution: exercise 05 with the statistics' terms weighted by m_r. */
import type { Tensor } from 'gradlab';

export function batchNormMaskedBackward(x: Tensor, gamma: Tensor, dy: Tensor, mask: Tensor, epsilon: number): { dx: Tensor; dgamma: Tensor; dbeta: Tensor } {
  const m = mask.astype(x.dtype).reshape([-1, 1]); // [N, 1]: broadcasts over the features
  const count = m.sum();
  const mean = x.mul(m).sum(0, true).div(count);
  const invstd = x.sub(mean).square().mul(m).sum(0, true).div(count).add(epsilon).sqrt().reciprocal();
  const xHat = x.sub(mean).mul(invstd);
  const dbeta = dy.sum(0); // every row's output contains β, padding rows too
  const dgamma = dy.mul(xHat).sum(0);
  // only real rows (m_r = 1) moved μ and σ², so only they feel the two correction terms
  const dx = gamma.mul(invstd).mul(dy.sub(m.mul(dbeta).div(count)).sub(m.mul(xHat).mul(dgamma).div(count)));
  return { dx, dgamma, dbeta };
}
