/**
 * Exercise 05 — BatchNorm's backward in closed form (what a fused kernel computes).
 *
 * Exercise 04's graph keeps every intermediate and walks ~10 nodes back. Derive the whole backward at
 * once instead (docs/layers.md has the derivation; try it first). With N rows, g = dy [N, F],
 * invstd = 1/√(σ² + ε) and x̂ as in exercise 04, you should arrive at
 *   dβ = Σ_rows g     dγ = Σ_rows g·x̂     dx = γ·invstd·(g − dβ/N − x̂·dγ/N)
 * Return dx [N, F], dgamma [F] and dbeta [F]. You recompute μ, σ² and x̂ from x here; a layer would
 * have saved x̂ and invstd from the forward.
 *
 * Read after: packages/tensor/src/cpu/normalization.ts (batchNormBackward).
 */
import type { Tensor } from 'gradlab';

export function batchNormBackward(x: Tensor, gamma: Tensor, dy: Tensor, epsilon: number): { dx: Tensor; dgamma: Tensor; dbeta: Tensor } {
  throw new Error('exercise 05: batchNormBackward is not written yet (docs/exercises/05-batchnorm-closed-form/exercise.ts)');
}
