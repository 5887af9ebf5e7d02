/**
 * Exercise 06 — BatchNorm's backward with a mask (padded sequences: the statistics skip padding rows).
 *
 * mask [N] holds 1 for a real row and 0 for padding. The statistics count real rows only:
 *   N' = Σ m    μ = Σ_r m_r·x_r / N'    σ² = Σ_r m_r·(x_r − μ)² / N'
 * but every row is normalised and output, padding too: x̂_r = (x_r − μ)·invstd, y_r = γ·x̂_r + β.
 * So β and γ get every row's gradient, while only real rows moved μ and σ²: start again from
 * exercise 05's derivation and see where m_r enters. Return dx, dgamma, dbeta as in exercise 05.
 *
 * Read after: packages/tensor/src/cpu/normalization.ts (batchNormBackward, its `w`).
 */
import type { Tensor } from 'gradlab';

export function batchNormMaskedBackward(x: Tensor, gamma: Tensor, dy: Tensor, mask: Tensor, epsilon: number): { dx: Tensor; dgamma: Tensor; dbeta: Tensor } {
  throw new Error('exercise 06: batchNormMaskedBackward is not written yet (docs/exercises/06-batchnorm-masked/exercise.ts)');
}
