/**
 * softmax and logSoftmax along one axis, each as ONE op with a closed-form backward. Composing them
 * from exp, sum and div would also be correct, but it keeps more intermediate tensors alive and, for
 * logSoftmax, loses precision (log of a sum that underflowed); the closed forms are short and exact.
 */
import { normalizeAxis } from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import { defineOp } from '../engine.js';
import type { Variable } from '../variable.js';
import { lift } from './operand.js';
import type { Operand } from './operand.js';

/**
 * softmax:  y_i = e^(x_i) / Σ_j e^(x_j)    (computed as e^(x_i − m) / Σ_j e^(x_j − m), m = max x:
 *           the same value, but the largest exponent is e⁰ = 1, so nothing overflows)
 * Jacobian: ∂y_i/∂x_j = y_i (δ_ij − y_j), so
 *   dx_j = Σ_i dy_i y_i (δ_ij − y_j) = y_j (dy_j − Σ_i dy_i y_i),   i.e.  dx = y ⊙ (dy − Σ dy⊙y)
 * (never build the n×n Jacobian: one dot product per row is enough).
 */
const softmaxOp = defineOp<number>('softmax', {
  forward: (ctx, [x], axis) => ctx.save(softmaxOf(x, axis)),
  backward: (ctx, dy, axis) => {
    const y = ctx.saved[0];
    return [y.mul(dy.sub(dy.mul(y).sum(axis, true)))];
  },
});
export function softmax(x: Operand, axis = -1): Variable {
  const v = lift(x);
  return softmaxOp([v], normalizeAxis('softmax', axis, v.rank));
}

/** e^(x − m) / Σ e^(x − m) over `axes`, m = the max over them (a plain Tensor function; logSumExp's backward uses it too). */
export function softmaxOf(x: Tensor, axes: number | readonly number[]): Tensor {
  const e = x.sub(x.max(axes, true)).exp();
  return e.div(e.sum(axes, true));
}

/**
 * logSoftmax:  y_i = x_i − log Σ_j e^(x_j)  computed as  (x_i − m) − log Σ_j e^(x_j − m)
 * (subtracting the max first keeps y exact: x − logSumExp(x) would round the large logSumExp first,
 * and with logits near 1000 float32 keeps only 4 decimals of it).
 * ∂y_i/∂x_j = δ_ij − softmax_j, so
 *   dx_j = dy_j − softmax_j Σ_i dy_i,   i.e.  dx = dy − eʸ ⊙ Σ dy     (softmax = eʸ: no second exp of x)
 */
const logSoftmaxOp = defineOp<number>('logSoftmax', {
  forward: (ctx, [x], axis) => {
    const shifted = x.sub(x.max(axis, true));
    return ctx.save(shifted.sub(shifted.exp().sum(axis, true).log()));
  },
  backward: (ctx, dy, axis) => {
    const y = ctx.saved[0];
    return [dy.sub(y.exp().mul(dy.sum(axis, true)))];
  },
});
export function logSoftmax(x: Operand, axis = -1): Variable {
  const v = lift(x);
  return logSoftmaxOp([v], normalizeAxis('logSoftmax', axis, v.rank));
}
