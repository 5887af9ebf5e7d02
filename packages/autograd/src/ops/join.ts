/**
 * Joining and cutting: concat, stack, split, pad. They move values without computing with them, so
 * every backward is the opposite move: concat's gradient is cut back into pieces, pad's gradient has
 * its border cut off, and split (a set of slices) gets its gradients put back by slice's backward.
 */
import { concat as concatTensors, pad as padTensor, split as splitTensor, formatShape, normalizeAxis, shapesEqual } from '@gradlab/tensor';
import { defineOp } from '../engine.js';
import type { Variable } from '../variable.js';
import { lift } from './operand.js';
import type { Operand } from './operand.js';
import { slice, unsqueeze } from './views.js';

/**
 * concat:  y = [x₀ | x₁ | …] along `axis`
 * Input i fills the rows start_i … start_i + n_i of that axis, so its gradient is that slice of dy.
 */
const concatOp = defineOp<number>('concat', {
  forward: (ctx, xs, axis) => concatTensors(xs, axis),
  backward: (ctx, dy, axis) => {
    let start = 0;
    return ctx.inputShapes.map((shape, i) => {
      const rows = [start, start + shape[axis]] as const;
      start += shape[axis];
      return ctx.needs(i) ? dy.slice(dy.shape.map((_, k) => (k === axis ? rows : null))) : null;
    });
  },
});
export function concat(xs: readonly Operand[], axis = 0): Variable {
  if (xs.length === 0) throw new Error('concat: needs at least one input');
  const vs = xs.map((x) => lift(x));
  return concatOp(vs, normalizeAxis('concat', axis, vs[0].rank));
}

/** stack: join along a NEW axis — concat of the inputs each given a size-1 axis there (composed). */
export function stack(xs: readonly Operand[], axis = 0): Variable {
  if (xs.length === 0) throw new Error('stack: needs at least one input');
  const vs = xs.map((x) => lift(x));
  const a = normalizeAxis('stack', axis, vs[0].rank + 1);
  vs.forEach((v, i) => {
    if (!shapesEqual(v.shape, vs[0].shape)) {
      throw new Error(`stack: input ${i} has shape ${formatShape(v.shape)}, expected ${formatShape(vs[0].shape)} like input 0`);
    }
  });
  return concat(vs.map((v) => unsqueeze(v, a)), a);
}

/**
 * split(x, n | sizes, axis): cut x into pieces along `axis` — each piece is a slice of x (composed),
 * so each carries its own node and its gradient goes back through slice's backward. Pieces the loss
 * does not use get no gradient, which correctly means zero for their part of x.
 */
export function split(x: Operand, sizesOrCount: number | readonly number[], axis = 0): Variable[] {
  const v = lift(x);
  const a = normalizeAxis('split', axis, v.rank);
  // the tensor package's split checks the sizes (and resolves a -1); its pieces tell us where to cut
  const pieces = splitTensor(v.data, sizesOrCount, a);
  let start = 0;
  return pieces.map((piece) => {
    const rows = [start, start + piece.shape[a]] as const;
    start += piece.shape[a];
    return slice(v, v.shape.map((_, k) => (k === a ? rows : null)));
  });
}

/**
 * pad:  y = x surrounded by `value` (before_k and after_k elements on each axis k)
 * The border is a constant, so only the interior depends on x: dx = dy with the border cut off.
 */
const padOp = defineOp<{ paddings: readonly (readonly [number, number])[]; value: number }>('pad', {
  forward: (ctx, [x], { paddings, value }) => padTensor(x, paddings, value),
  backward: (ctx, dy, { paddings }) => {
    const shape = ctx.inputShapes[0];
    return [dy.slice(paddings.map(([before], k) => [before, before + shape[k]] as const))];
  },
});
export function pad(x: Operand, paddings: readonly (readonly [number, number])[], value = 0): Variable {
  return padOp([lift(x)], { paddings, value });
}
