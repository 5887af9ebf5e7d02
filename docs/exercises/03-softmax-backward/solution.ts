/** Exercise 03, a reference solution: dx_k = Σ_i dy_i y_i (δ_ik − y_k) = y_k (dy_k − Σ_i dy_i y_i). */
import type { Tensor } from 'gradlab';

export function softmaxBackward(y: Tensor, dy: Tensor): Tensor {
  return y.mul(dy.sub(dy.mul(y).sum(-1, true)));
}
