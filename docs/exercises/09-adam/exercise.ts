/**
 * Exercise 09 — one Adam step (Kingma & Ba), in Keras's form, which gradlab follows.
 *
 * At step t (from 1), with the gradient g and the running moments m and v (zeros before step 1):
 *   m ← β1·m + (1 − β1)·g                 the running mean of g
 *   v ← β2·v + (1 − β2)·g²                the running mean of g²
 *   α = lr · √(1 − β2ᵗ) / (1 − β1ᵗ)       both bias corrections folded into the step size
 *   w ← w − α · m / (√v + ε)
 * Return the new w, m and v (new tensors: leave the arguments as they are). The check runs your step
 * for several steps beside gradlab's optimizers.Adam training the same weights on the same gradients.
 * Why bias correction? Without it, m after step 1 is (1 − β1)·g: a tenth of the gradient.
 *
 * Read after: packages/layers/src/optimizers/adam.ts and packages/tensor/src/cpu/optimizers.ts.
 */
import type { Tensor } from 'gradlab';

export interface AdamHyper { lr: number; beta1: number; beta2: number; epsilon: number }

export function adamStep(w: Tensor, g: Tensor, m: Tensor, v: Tensor, t: number, hyper: AdamHyper): { w: Tensor; m: Tensor; v: Tensor } {
  throw new Error('exercise 09: adamStep is not written yet (docs/exercises/09-adam/exercise.ts)');
}
