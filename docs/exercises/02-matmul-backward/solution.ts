/** Exercise 02, a reference solution: ∂L/∂A = dY·Bᵀ, ∂L/∂B = Aᵀ·dY. */
import type { Tensor } from 'gradlab';

export function matmulBackward(a: Tensor, b: Tensor, dy: Tensor): { da: Tensor; db: Tensor } {
  return { da: dy.matmul(b.T), db: a.T.matmul(dy) };
}
