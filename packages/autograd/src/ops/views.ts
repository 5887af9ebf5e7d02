/**
 * Views: the same numbers, arranged differently. Nothing is computed, so each backward just puts the
 * gradient back into the input's arrangement: reshape it back, transpose it back, sum a broadcast
 * back, or — for a slice — place it where the slice came from, with zeros everywhere else (the
 * elements the slice left out did not affect the output, so their gradient is 0).
 */
import { Tensor, normalizeAxis, pad, slice as sliceTensor, zeros } from '@gradlab/tensor';
import type { SliceSpec } from '@gradlab/tensor';
import { defineOp } from '../engine.js';
import type { Variable } from '../variable.js';
import { lift } from './operand.js';
import type { Operand } from './operand.js';
import { sumToShape } from './binary.js';

/** reshape:  same values in a new shape    dx = dy reshaped back */
const reshapeOp = defineOp<readonly number[]>('reshape', {
  forward: (ctx, [x], shape) => x.reshape(shape),
  backward: (ctx, dy) => [dy.reshape(ctx.inputShapes[0])],
});
/** One dimension may be -1 (inferred). */
export const reshape = (x: Operand, shape: readonly number[]): Variable => reshapeOp([lift(x)], shape);
export const flatten = (x: Operand): Variable => reshape(x, [-1]);

/** Drop axes of size 1 (all, or the ones named): a reshape. */
export function squeeze(x: Operand, axes?: number | readonly number[]): Variable {
  const v = lift(x);
  return reshape(v, v.data.squeeze(axes).shape);
}
/** Insert an axis of size 1: a reshape. */
export function unsqueeze(x: Operand, axis: number): Variable {
  const v = lift(x);
  return reshape(v, v.data.unsqueeze(axis).shape);
}

/**
 * transpose:  y = x with axes permuted, y[i_perm] = x[i]
 * dx = dy permuted back by the inverse permutation (axis perm[k] of x became axis k of y).
 */
const transposeOp = defineOp<number[]>('transpose', {
  forward: (ctx, [x], perm) => x.transpose(perm),
  backward: (ctx, dy, perm) => {
    const inverse = new Array<number>(perm.length);
    perm.forEach((axis, k) => { inverse[axis] = k; });
    return [dy.transpose(inverse)];
  },
});
/** Permute the axes (default: reverse them). */
export function transpose(x: Operand, perm?: readonly number[]): Variable {
  const v = lift(x);
  const order = perm ? perm.map((a) => normalizeAxis('transpose', a, v.rank)) : v.shape.map((_, k) => v.rank - 1 - k);
  return transposeOp([v], order);
}
/** Matrix transpose: swap the last two axes. */
export function T(x: Operand): Variable {
  const v = lift(x);
  const perm = v.shape.map((_, k) => k);
  if (v.rank >= 2) [perm[v.rank - 2], perm[v.rank - 1]] = [perm[v.rank - 1], perm[v.rank - 2]];
  return transposeOp([v], perm);
}

/** broadcastTo:  y = x stretched to `shape`    dx = dy summed back to x's shape (see sumToShape) */
const broadcastToOp = defineOp<readonly number[]>('broadcastTo', {
  forward: (ctx, [x], shape) => x.broadcastTo(shape),
  backward: (ctx, dy) => [sumToShape(dy, ctx.inputShapes[0])],
});
export const broadcastTo = (x: Operand, shape: readonly number[]): Variable => broadcastToOp([lift(x)], shape);

/**
 * slice:  y = x[a:b:c, i, …]  (NumPy basic slicing, see the tensor package's slice)
 * Each element of y is one element of x, so dx is dy placed back where it was read, and 0 elsewhere.
 */
const sliceOp = defineOp<readonly SliceSpec[]>('slice', {
  forward: (ctx, [x], specs) => x.slice(specs),
  backward: (ctx, dy, specs) => [unslice(dy, ctx.inputShapes[0], specs)],
});
export const slice = (x: Operand, specs: readonly SliceSpec[]): Variable => sliceOp([lift(x)], specs);

/**
 * Where a slice spec reads along an axis of size `dim`: the first index, the step, the count, and
 * whether an integer index dropped the axis. Found by asking the tensor package's slice itself, on a
 * bare 1-D probe (shape [dim], stride 1, offset 0, no data): the view's offset is the first index, its
 * stride is the step and its length the count. So this can never disagree with the forward.
 */
function placement(dim: number, spec: SliceSpec): { start: number; step: number; count: number; dropsAxis: boolean } {
  const probe = sliceTensor(new Tensor(zeros([0]).storage, [dim]), [spec]);
  if (probe.rank === 0) return { start: probe.offset, step: 1, count: 1, dropsAxis: true };
  return { start: probe.offset, step: probe.strides[0], count: probe.shape[0], dropsAxis: false };
}

/**
 * The gradient of a slice: zeros of the input's shape with dy written where the slice read.
 * Built from views and zero padding, so it runs on any backend:
 *   1. an axis an integer index dropped comes back as an axis of size 1;
 *   2. a negative step read the axis backwards: reverse dy along it (then the step is positive);
 *   3. a step s > 1 read every s-th element: spread dy out with s − 1 zeros between neighbours
 *      ([g0, g1] → [g0, 0, 0, g1] for s = 3);
 *   4. finally pad each axis with zeros: `start` before, whatever is left after.
 */
function unslice(dy: Tensor, shape: readonly number[], specs: readonly SliceSpec[]): Tensor {
  if (dy.size === 0) return zeros(shape, dy.dtype);
  const placements = shape.map((dim, k) => placement(dim, k < specs.length ? specs[k] : null));
  let g = dy;
  placements.forEach((p, k) => { if (p.dropsAxis) g = g.unsqueeze(k); });
  const paddings: [number, number][] = [];
  for (let k = 0; k < shape.length; k++) {
    let { start, step } = placements[k];
    const count = placements[k].count;
    if (step < 0) {
      g = g.slice(shape.map((_, j) => (j === k ? [null, null, -1] : null)));
      start += (count - 1) * step; // the last index read is the lowest one
      step = -step;
    }
    if (step > 1) g = spreadOut(g, k, step);
    const span = (count - 1) * step + 1;
    paddings.push([start, shape[k] - start - span]);
  }
  return pad(g, paddings);
}

/** Along axis k, put `step − 1` zeros after each entry but the last: count entries → (count−1)·step + 1. */
function spreadOut(g: Tensor, k: number, step: number): Tensor {
  const count = g.shape[k];
  const column = g.unsqueeze(k + 1); // [..., count, 1, ...]
  const widened = pad(column, column.shape.map((_, j): [number, number] => (j === k + 1 ? [0, step - 1] : [0, 0])));
  const merged = [...g.shape];
  merged[k] = count * step; // [..., count, step, ...] read row by row: each entry, then its zeros
  return widened.reshape(merged).slice(merged.map((_, j) => (j === k ? [0, (count - 1) * step + 1] : null)));
}
