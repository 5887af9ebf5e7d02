/**
 * Elementwise ops with NumPy broadcasting. The front end: it checks shapes, works out the result's
 * shape and dtype, and hands the loop to the active backend (cpu/elementwise.ts on the CPU).
 *
 * dtypes: a binary op promotes (int32 < float32 < float64); div and pow always give floats; the
 * comparisons give int32 0/1; maths functions of int32 tensors (exp, log, …) compute in float32.
 */
import { Tensor } from '../tensor.js';
import type { TensorLike } from '../tensor.js';
import { getBackend, COMPARISONS } from '../backend.js';
import type { BinaryOp, UnaryOp } from '../backend.js';
import { promoteTypes } from '../dtype.js';
import type { DType } from '../dtype.js';
import { broadcastShapes } from '../shape.js';
import { full } from '../creation.js';

/** Unary ops that map integers to integers; the rest need floats. */
const INTEGER_CLOSED: ReadonlySet<UnaryOp> = new Set(['neg', 'abs', 'relu', 'square', 'sign', 'floor', 'ceil', 'round']);

export function unary(op: UnaryOp, x: Tensor): Tensor {
  const input = x.dtype === 'int32' && !INTEGER_CLOSED.has(op) ? x.astype('float32') : x;
  return getBackend(input.backend).unary(op, input);
}

/** A plain number becomes a rank-0 tensor of the other operand's dtype (float32 if it is fractional). */
function lift(value: TensorLike, other: Tensor): Tensor {
  if (value instanceof Tensor) return value;
  if (typeof value !== 'number') throw new Error(`elementwise: expected a Tensor or a number, got ${typeof value}`);
  const dtype: DType = other.dtype === 'int32' && !Number.isInteger(value) ? 'float32' : other.dtype;
  return full([], value, dtype);
}

export function binary(op: BinaryOp, aLike: TensorLike, bLike: TensorLike): Tensor {
  if (!(aLike instanceof Tensor) && !(bLike instanceof Tensor)) throw new Error(`${op}: at least one operand must be a Tensor`);
  const a = lift(aLike, bLike instanceof Tensor ? bLike : (aLike as Tensor));
  const b = lift(bLike, a);
  const shape = broadcastShapes(op, a.shape, b.shape);
  let dtype = promoteTypes(a.dtype, b.dtype);
  if (COMPARISONS.has(op)) dtype = 'int32';
  else if ((op === 'div' || op === 'pow') && dtype === 'int32') dtype = 'float32';
  return getBackend(a.backend).binary(op, a, b, shape, dtype);
}

/** cond ? a : b elementwise, with all three broadcast together. `cond` is true where non-zero. */
export function where(cond: Tensor, aLike: TensorLike, bLike: TensorLike): Tensor {
  const a = lift(aLike, bLike instanceof Tensor ? bLike : cond.dtype === 'int32' ? full([], 0) : cond);
  const b = lift(bLike, a);
  const shape = broadcastShapes('where', broadcastShapes('where', cond.shape, a.shape), b.shape);
  return getBackend(a.backend).where(cond, a, b, shape, promoteTypes(a.dtype, b.dtype));
}

/** x·scale + shift, broadcast together (NumPy's rules), in one pass where the backend can. */
export function mulAdd(x: Tensor, scaleLike: TensorLike, shiftLike: TensorLike): Tensor {
  const scale = lift(scaleLike, x), shift = lift(shiftLike, x);
  const shape = broadcastShapes('mulAdd', broadcastShapes('mulAdd', x.shape, scale.shape), shift.shape);
  let dtype = promoteTypes(promoteTypes(x.dtype, scale.dtype), shift.dtype);
  if (dtype === 'int32') dtype = 'float32';
  return getBackend(x.backend).mulAdd(x, scale, shift, shape, dtype);
}

/** mulAdd as two ops: the reference every backend's kernel must equal (and what a backend may run). */
export function mulAddComposite(x: Tensor, scale: Tensor, shift: Tensor, dtype: DType): Tensor {
  return binary('add', binary('mul', x.astype(dtype), scale.astype(dtype)), shift.astype(dtype));
}

export const add = (a: TensorLike, b: TensorLike): Tensor => binary('add', a, b);
export const sub = (a: TensorLike, b: TensorLike): Tensor => binary('sub', a, b);
export const mul = (a: TensorLike, b: TensorLike): Tensor => binary('mul', a, b);
export const div = (a: TensorLike, b: TensorLike): Tensor => binary('div', a, b);
export const pow = (a: TensorLike, b: TensorLike): Tensor => binary('pow', a, b);
export const maximum = (a: TensorLike, b: TensorLike): Tensor => binary('maximum', a, b);
export const minimum = (a: TensorLike, b: TensorLike): Tensor => binary('minimum', a, b);
export const eq = (a: TensorLike, b: TensorLike): Tensor => binary('eq', a, b);
export const ne = (a: TensorLike, b: TensorLike): Tensor => binary('ne', a, b);
export const lt = (a: TensorLike, b: TensorLike): Tensor => binary('lt', a, b);
export const le = (a: TensorLike, b: TensorLike): Tensor => binary('le', a, b);
export const gt = (a: TensorLike, b: TensorLike): Tensor => binary('gt', a, b);
export const ge = (a: TensorLike, b: TensorLike): Tensor => binary('ge', a, b);
/** relu's backward: dy where x > 0, else 0 (0 at x = 0 and where x is NaN, as PyTorch's threshold_backward). */
export const reluGrad = (dy: TensorLike, x: TensorLike): Tensor => binary('reluGrad', dy, x);

export const neg = (x: Tensor): Tensor => unary('neg', x);
export const exp = (x: Tensor): Tensor => unary('exp', x);
export const log = (x: Tensor): Tensor => unary('log', x);
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
export const abs = (x: Tensor): Tensor => unary('abs', x);
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
/** σ(x) = 1 / (1 + e^(−x)), computed without overflow for large |x|. */
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
export const relu = (x: Tensor): Tensor => unary('relu', x);
export const square = (x: Tensor): Tensor => unary('square', x);
export const sign = (x: Tensor): Tensor => unary('sign', x);
export const reciprocal = (x: Tensor): Tensor => unary('reciprocal', x);
export const floor = (x: Tensor): Tensor => unary('floor', x);
export const ceil = (x: Tensor): Tensor => unary('ceil', x);
export const round = (x: Tensor): Tensor => unary('round', x);
export const sin = (x: Tensor): Tensor => unary('sin', x);
export const cos = (x: Tensor): Tensor => unary('cos', x);
/** softplus(x) = log(1 + eˣ), stable for large |x|. */
export const softplus = (x: Tensor): Tensor => unary('softplus', x);
export const log1p = (x: Tensor): Tensor => unary('log1p', x);
export const expm1 = (x: Tensor): Tensor => unary('expm1', x);

/** Limit values to [min, max]. */
export function clip(x: Tensor, min: number, max: number): Tensor {
  if (min > max) throw new Error(`clip: min ${min} is greater than max ${max}`);
  return minimum(maximum(x, min), max);
}
