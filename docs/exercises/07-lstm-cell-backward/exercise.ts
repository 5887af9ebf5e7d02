/**
 * Exercise 07 — one LSTM step's backward (gate order i, f, c̃, o, as Keras).
 *
 * Forward, with xz = x_t·W + b [B, 4u] (computed for all steps at once by the layer), h_prev and c_prev
 * [B, u] and U [u, 4u]:
 *   z = xz + h_prev·U      i = σ(z_i)  f = σ(z_f)  c̃ = tanh(z_c)  o = σ(z_o)   (z_k: the k-th u columns)
 *   c = f ⊙ c_prev + i ⊙ c̃        h = o ⊙ tanh(c)
 * Given dh = ∂L/∂h and dc = ∂L/∂c (the gradient reaching c from the next step), return ∂L/∂xz,
 * ∂L/∂h_prev, ∂L/∂c_prev and ∂L/∂U. Careful: c reaches L twice, directly (dc) and through h.
 * σ' = σ(1 − σ), tanh' = 1 − tanh². Recompute the forward first; exercise 02 gives the last two.
 *
 * Useful: t.slice([null, [start, end]]), concat([...], 1) from gradlab, t.sigmoid(), t.tanh().
 * Read after: docs/lstm.md, packages/autograd/src/ops/recurrent.ts, packages/tensor/src/cpu/recurrent.ts.
 */
import type { Tensor } from 'gradlab';

export interface LstmCellGrads { dxz: Tensor; dhPrev: Tensor; dcPrev: Tensor; dU: Tensor }

export function lstmCellBackward(xz: Tensor, hPrev: Tensor, cPrev: Tensor, U: Tensor, dh: Tensor, dc: Tensor): LstmCellGrads {
  throw new Error('exercise 07: lstmCellBackward is not written yet (docs/exercises/07-lstm-cell-backward/exercise.ts)');
}
