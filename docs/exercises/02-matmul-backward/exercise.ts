/**
 * Exercise 02 — matmul's backward.
 *
 * Y = A·B with A [M, K], B [K, N]: Y_ij = Σ_k A_ik B_kj. Given dY = ∂L/∂Y [M, N], return ∂L/∂A [M, K]
 * and ∂L/∂B [K, N]. Write out ∂L/∂A_ik = Σ_ij dY_ij ∂Y_ij/∂A_ik on paper first; the result is one
 * matmul each. Check the shapes: they must come out as A's and B's.
 *
 * Useful: t.matmul(u), t.T (the transpose of a matrix).
 * Read after: packages/autograd/src/ops/matmul.ts (batched and vector cases too).
 */
import type { Tensor } from 'gradlab';

export function matmulBackward(a: Tensor, b: Tensor, dy: Tensor): { da: Tensor; db: Tensor } {
  throw new Error('exercise 02: matmulBackward is not written yet (docs/exercises/02-matmul-backward/exercise.ts)');
}
