/**
 * Exercise 03 — softmax's backward.
 *
 * y = softmax(x) along the last axis: y_i = exp(x_i) / Σ_j exp(x_j), one row at a time.
 * Given y (the forward's output, [N, C]) and dy = ∂L/∂y [N, C], return dx = ∂L/∂x [N, C].
 * The Jacobian of one row is ∂y_i/∂x_k = y_i(δ_ik − y_k); do not build it (C² numbers per row):
 * contract it with dy by hand and you get an expression in y, dy and one sum per row.
 *
 * Useful: t.mul(u), t.sub(u), t.sum(axis, keepDims) — keepDims makes [N, 1], which broadcasts.
 * Read after: packages/autograd/src/ops/softmax.ts.
 */
import type { Tensor } from 'gradlab';

export function softmaxBackward(y: Tensor, dy: Tensor): Tensor {
  throw new Error('exercise 03: softmaxBackward is not written yet (docs/exercises/03-softmax-backward/exercise.ts)');
}
