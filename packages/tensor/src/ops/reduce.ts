/**
 * Reductions: fold a tensor along some axes. The front end: it normalises the axes (negative axes count
 * from the end; undefined means all of them), picks the result dtype, asks the active backend for the
 * reduction (which keeps the reduced axes with size 1, handy for broadcasting the result back) and then
 * drops those axes unless keepDims.
 *
 * dtypes: sum, prod, max and min keep the input's dtype (an int32 sum stays int32); mean and variance
 * of int32 give float32.
 */
import type { Tensor } from '../tensor.js';
import { getBackend } from '../backend.js';
import type { ReduceOp } from '../backend.js';
import { formatShape, normalizeAxes, normalizeAxis } from '../shape.js';
import { exp, log, abs, where } from './elementwise.js';

export type Axes = number | readonly number[] | undefined;

/** Sorted, normalised axes; a rank-0 tensor has no axes to reduce (axis 0 / -1 of a scalar are accepted). */
function reducedAxes(op: string, x: Tensor, axes: Axes): number[] {
  return normalizeAxes(op, axes, x.rank).filter((k) => k < x.rank);
}

/** Drop the size-1 axes a backend kept, unless the caller wants them. */
function finish(kept: Tensor, x: Tensor, axes: readonly number[], keepDims: boolean): Tensor {
  return keepDims ? kept : kept.reshape(x.shape.filter((_, k) => !axes.includes(k)));
}

/** max and min have no value for an empty set of numbers (sum gives 0, prod 1, mean NaN). */
function refuseEmpty(op: string, x: Tensor, axes: readonly number[]): void {
  if (axes.some((k) => x.shape[k] === 0)) {
    throw new Error(`${op}: cannot reduce over an empty axis (shape ${formatShape(x.shape)}, axes [${axes.join(',')}])`);
  }
}

function reduceWith(op: ReduceOp, x: Tensor, axes: Axes, keepDims: boolean): Tensor {
  const list = reducedAxes(op, x, axes);
  if (op === 'max' || op === 'min') refuseEmpty(op, x, list);
  const input = op === 'mean' && x.dtype === 'int32' ? x.astype('float32') : x;
  return finish(getBackend(input.backend).reduce(op, input, list), x, list, keepDims);
}

/** sum(x, axes) = Σ x over the axes */
export function sum(x: Tensor, axes?: Axes, keepDims = false): Tensor { return reduceWith('sum', x, axes, keepDims); }
/** mean(x, axes) = Σ x / N, N = the number of elements summed */
export function mean(x: Tensor, axes?: Axes, keepDims = false): Tensor { return reduceWith('mean', x, axes, keepDims); }
/** The largest value over the axes (NaN if any value is NaN). */
export function max(x: Tensor, axes?: Axes, keepDims = false): Tensor { return reduceWith('max', x, axes, keepDims); }
/** The smallest value over the axes (NaN if any value is NaN). */
export function min(x: Tensor, axes?: Axes, keepDims = false): Tensor { return reduceWith('min', x, axes, keepDims); }
/** prod(x, axes) = Π x over the axes */
export function prod(x: Tensor, axes?: Axes, keepDims = false): Tensor { return reduceWith('prod', x, axes, keepDims); }

/**
 * Index of the extreme value along one axis (int32). With no axis, the index into the flattened tensor
 * (a scalar, as NumPy's argmax(x)); keepDims then keeps every axis with size 1.
 */
function argReduceWith(op: 'argmax' | 'argmin', x: Tensor, axis: number | undefined, keepDims: boolean): Tensor {
  if (axis === undefined) {
    if (x.size === 0) throw new Error(`${op}: cannot take the ${op} of an empty tensor (shape ${formatShape(x.shape)})`);
    const flat = getBackend(x.backend).argReduce(op, x.reshape([x.size]), 0);
    return flat.reshape(keepDims ? x.shape.map(() => 1) : []);
  }
  const a = normalizeAxis(op, axis, x.rank);
  if (x.rank === 0) return argReduceWith(op, x, undefined, keepDims); // a scalar: index 0
  refuseEmpty(op, x, [a]);
  return finish(getBackend(x.backend).argReduce(op, x, a), x, [a], keepDims);
}

export function argmax(x: Tensor, axis?: number, keepDims = false): Tensor { return argReduceWith('argmax', x, axis, keepDims); }
export function argmin(x: Tensor, axis?: number, keepDims = false): Tensor { return argReduceWith('argmin', x, axis, keepDims); }

/**
 * variance(x, axes) = Σ (x − mean)² / (N − correction)
 * correction 0 is the biased (population) variance that BatchNorm normalises with; 1 is the unbiased
 * sample variance (Bessel's correction). The backend computes it in two passes, never as E[x²] − E[x]².
 */
export function variance(x: Tensor, axes?: Axes, keepDims = false, correction = 0): Tensor {
  if (!(correction >= 0)) throw new Error(`variance: correction must be >= 0, got ${correction}`);
  const list = reducedAxes('variance', x, axes);
  const input = x.dtype === 'int32' ? x.astype('float32') : x;
  return finish(getBackend(input.backend).variance(input, list, correction), x, list, keepDims);
}

/**
 * logSumExp(x, axes) = log Σ exp(x)  computed as  m + log Σ exp(x − m),  m = max(x, axes).
 * Shifting by the max makes the largest exponent e⁰ = 1, so nothing overflows (exp(1000) would be
 * Infinity) and the sum is at least 1 (so the log never sees an underflowed 0). Where the max is
 * ±Infinity the shift would give ∞ − ∞ = NaN, so there m is replaced by 0.
 */
export function logSumExp(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const input = x.dtype === 'int32' ? x.astype('float32') : x;
  const list = reducedAxes('logSumExp', input, axes);
  refuseEmpty('logSumExp', input, list);
  const m = max(input, list, true);
  const shift = where(abs(m).lt(Infinity), m, 0);
  const result = log(sum(exp(input.sub(shift)), list, true)).add(shift);
  return finish(result, input, list, keepDims);
}
