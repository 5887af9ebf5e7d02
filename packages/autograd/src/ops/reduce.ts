/**
 * Reductions: fold x along some axes.
 *
 * Every backward here starts the same way: the gradient dy has the reduced shape, and each element
 * of it belongs to a whole group of x's elements (the ones folded into it). `keptShape` puts the
 * reduced axes back with size 1, so that dy broadcasts over its group.
 */
import { logSumExp as logSumExpTensor, normalizeAxes } from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import { defineOp } from '../engine.js';
import type { Variable } from '../variable.js';
import { lift } from './operand.js';
import type { Operand } from './operand.js';
import { mul, sub } from './binary.js';
import { square } from './unary.js';
import { softmaxOf } from './softmax.js';

export type Axes = number | readonly number[] | undefined;

interface ReduceAttrs { axes: number[]; keepDims: boolean }

/** x's shape with the reduced axes kept as size 1: [N, F] reduced over axis 0 → [1, F]. */
function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, k) => (axes.includes(k) ? 1 : d));
}

/** How many elements fold into each result: the product of the reduced dimensions. */
function groupSize(shape: readonly number[], axes: readonly number[]): number {
  return axes.reduce((n, k) => n * shape[k], 1);
}

/** A result computed with the reduced axes kept (size 1): drop them unless the caller keeps them. */
function finish(kept: Tensor, axes: readonly number[], keepDims: boolean): Tensor {
  return keepDims ? kept : kept.reshape(kept.shape.filter((_, k) => !axes.includes(k)));
}

/**
 * The attrs of a reduction of `v`: its axes normalised and sorted (undefined: all of them; a scalar has
 * none), checked here, with the op's name in the message.
 */
function attrs(op: string, v: Variable, axes: Axes, keepDims: boolean): ReduceAttrs {
  return { axes: normalizeAxes(op, axes, v.rank).filter((k) => k < v.rank), keepDims };
}

/** sum:  y = Σ_group x    ∂y/∂x = 1 for every x in the group: dy is copied (broadcast) back over it */
const sumOp = defineOp<ReduceAttrs>('sum', {
  forward: (ctx, [x], { axes, keepDims }) => x.sum(axes, keepDims),
  backward: (ctx, dy, { axes }) => {
    const shape = ctx.inputShapes[0];
    return [dy.reshape(keptShape(shape, axes)).broadcastTo(shape)];
  },
});
export function sum(x: Operand, axes?: Axes, keepDims = false): Variable {
  const v = lift(x);
  return sumOp([v], attrs('sum', v, axes, keepDims));
}

/** mean:  y = (1/N) Σ_group x  — a sum scaled by 1/N, so composed from sum and mul (∂y/∂x = 1/N). */
export function mean(x: Operand, axes?: Axes, keepDims = false): Variable {
  const v = lift(x);
  const { axes: list } = attrs('mean', v, axes, keepDims);
  return mul(sum(v, list, keepDims), 1 / groupSize(v.shape, list));
}

/**
 * max / min:  y = max_group x    ∂y/∂x = 1 at the position of the maximum, 0 elsewhere.
 * Ties: when several elements share the maximum, the gradient is split equally between them
 * (each gets dy / count). Any split adding up to dy is a valid subgradient; the equal split is
 * symmetric (it does not depend on the order of the elements) and is what TensorFlow does.
 */
function extremeOp(name: 'max' | 'min') {
  return defineOp<ReduceAttrs>(name, {
    forward: (ctx, [x], { axes, keepDims }) => {
      const kept = name === 'max' ? x.max(axes, true) : x.min(axes, true);
      ctx.save(x, kept);
      return finish(kept, axes, keepDims);
    },
    backward: (ctx, dy, { axes }) => {
      const [x, kept] = ctx.saved;
      const winners = x.eq(kept); // 1 where x reached the extreme, int32
      const count = winners.sum(axes, true);
      return [dy.reshape(kept.shape).mul(winners).div(count)];
    },
  });
}
const maxOp = extremeOp('max');
const minOp = extremeOp('min');
export function max(x: Operand, axes?: Axes, keepDims = false): Variable {
  const v = lift(x);
  return maxOp([v], attrs('max', v, axes, keepDims));
}
export function min(x: Operand, axes?: Axes, keepDims = false): Variable {
  const v = lift(x);
  return minOp([v], attrs('min', v, axes, keepDims));
}

/**
 * variance:  y = Σ_group (x − μ)² / (N − correction),  μ = mean_group x.
 * Composed (mean, sub, square, sum, mul), so its gradient comes from theirs:
 *   ∂y/∂x_i = 2 (x_i − μ) / (N − correction)
 * (the path through μ contributes Σ_j 2(x_j − μ)·(−1/N) = 0, and the composition computes that zero).
 */
export function variance(x: Operand, axes?: Axes, keepDims = false, correction = 0): Variable {
  const v = lift(x);
  if (!(correction >= 0)) throw new Error(`variance: correction must be >= 0, got ${correction}`);
  const { axes: list } = attrs('variance', v, axes, keepDims);
  const deviation = sub(v, mean(v, list, true));
  return mul(sum(square(deviation), list, keepDims), 1 / (groupSize(v.shape, list) - correction));
}

/**
 * logSumExp:  y = ln Σ_group eˣ    ∂y/∂x_i = eˣⁱ / Σ eˣ   (the softmax of the group)
 * The forward is the tensor package's, which shifts by the max so that nothing overflows. The backward
 * computes the softmax the same stable way, not as e^(x − y): y ≈ 1000.69 rounded to float32 is off
 * by 6e-5, and e^(x − y) would carry that error.
 */
const logSumExpOp = defineOp<ReduceAttrs>('logSumExp', {
  forward: (ctx, [x], { axes, keepDims }) => {
    ctx.save(x);
    return logSumExpTensor(x, axes, keepDims);
  },
  backward: (ctx, dy, { axes }) => {
    const x = ctx.saved[0];
    return [dy.reshape(keptShape(x.shape, axes)).mul(softmaxOf(x, axes))];
  },
});
export function logSumExp(x: Operand, axes?: Axes, keepDims = false): Variable {
  const v = lift(x);
  return logSumExpOp([v], attrs('logSumExp', v, axes, keepDims));
}
