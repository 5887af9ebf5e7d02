/**
 * Indexing with tensors: gather (an Embedding layer's lookup) and where (pick by a mask). Indices and
 * masks are integers, not functions of anything we differentiate, so they get no gradient; they are
 * passed as plain Tensors.
 */
import { formatShape, gather as gatherTensor, normalizeAxis, scatterAdd, where as whereTensor } from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import { defineOp } from '../engine.js';
import { Variable } from '../variable.js';
import { lift, liftPair } from './operand.js';
import type { Operand } from './operand.js';
import { sumToShape } from './binary.js';

/**
 * gather:  y[i…, j…, k…] = x[i…, indices[j…], k…]   (out shape: x.shape[:axis] + indices.shape + x.shape[axis+1:])
 * Each y element is a copy of one x element, so ∂L/∂x adds up dy at every place an x row was copied
 * to: a scatter-ADD into zeros of x's shape (a row picked twice gets both gradients).
 */
const gatherOp = defineOp<{ indices: Tensor; axis: number }>('gather', {
  forward: (ctx, [x], { indices, axis }) => gatherTensor(x, indices, axis),
  backward: (ctx, dy, { indices, axis }) => [scatterAdd(ctx.inputShapes[0], indices, dy, axis)],
});
export function gather(x: Operand, indices: Tensor | Variable, axis = 0): Variable {
  const v = lift(x);
  const idx = indices instanceof Variable ? indices.data : indices;
  return gatherOp([v], { indices: idx, axis: normalizeAxis('gather', axis, v.rank) });
}
/** PyTorch's name (and argument order) for gather with 1-D indices. */
export function indexSelect(x: Operand, axis: number, indices: Tensor | Variable): Variable {
  const idx = indices instanceof Variable ? indices.data : indices;
  if (idx.rank !== 1) throw new Error(`indexSelect: indices must be 1-D, got shape ${formatShape(idx.shape)}`);
  return gather(x, idx, axis);
}

/**
 * where:  y = cond ? a : b   (all three broadcast together; cond true where non-zero)
 *   ∂y/∂a = [cond],  ∂y/∂b = [not cond]: the gradient goes to whichever input was picked.
 */
const whereOp = defineOp<Tensor>('where', {
  forward: (ctx, [a, b], cond) => whereTensor(cond, a, b),
  backward: (ctx, dy, cond) => [
    ctx.needs(0) ? sumToShape(whereTensor(cond, dy, 0), ctx.inputShapes[0]) : null,
    ctx.needs(1) ? sumToShape(whereTensor(cond, 0, dy), ctx.inputShapes[1]) : null,
  ],
});
export function where(cond: Tensor | Variable, a: Operand, b: Operand): Variable {
  return whereOp(liftPair(a, b), cond instanceof Variable ? cond.data : cond);
}
