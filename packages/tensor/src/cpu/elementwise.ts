/**
 * CPU loops for elementwise maps. Each op's formula is written once (UNARY, BINARY) and compiled into
 * one plain typed-array loop per op and loop shape (compiledLoop); broadcasts other than the two
 * common row cases go through ndarray-ops, which compiles a strided loop per op in the same way and
 * reads broadcast axes with stride 0.
 */
import ops from 'ndarray-ops';
import ndarray from 'ndarray';
import { Tensor } from '../tensor.js';
import { allocate } from '../dtype.js';
import type { DType, TypedArray } from '../dtype.js';
import type { BinaryOp, UnaryOp } from '../backend.js';
import { CpuStorage } from '../storage.js';
import { broadcastStrides, contiguousStrides, sizeOf } from '../shape.js';

/**
 * The Math functions used per element, read once: a global lookup inside a hot loop is cheap in plain
 * Node but about 70× slower inside jest's sandbox, which would make the test suite crawl.
 */
const { abs, ceil, cos, exp, expm1, floor, log, log1p, max, pow, round, sign, sin, sqrt, tanh } = Math;

/** A new contiguous CPU tensor. */
export function cpuTensor(data: TypedArray, shape: readonly number[]): Tensor {
  return new Tensor(new CpuStorage(data), shape);
}

/** The values of a tensor as a flat row-major array (the storage itself when already contiguous). */
export function contiguousData(x: Tensor): TypedArray {
  const data = x.storage.read();
  if (x.isContiguous()) return x.offset === 0 && data.length === x.size ? data : data.subarray(x.offset, x.offset + x.size);
  return copyData(x, x.dtype);
}

function copyData(x: Tensor, dtype: DType): TypedArray {
  const out = allocate(dtype, x.size);
  if (x.size === 0) return out;
  if (x.rank === 0) { out[0] = x.storage.read()[x.offset]; return out; }
  ops.assign(ndarray(out, [...x.shape]), x.nd);
  return out;
}

export function copy(x: Tensor, dtype: DType = x.dtype): Tensor {
  if (x.isContiguous() && dtype !== x.dtype) {
    const out = allocate(dtype, x.size);
    out.set(contiguousData(x)); // typed-array set converts (float → int32 truncates toward zero)
    return cpuTensor(out, x.shape);
  }
  return cpuTensor(copyData(x, dtype), x.shape);
}

/** f(v) for each unary op, as JavaScript source (the gpu backend's UNARY table is its kernel twin). */
const UNARY: Record<UnaryOp, string> = {
  neg: '-v', exp: 'exp(v)', log: 'log(v)', sqrt: 'sqrt(v)', abs: 'abs(v)', tanh: 'tanh(v)', sigmoid: 'sigmoid(v)',
  // (v + |v|)/2 rather than v > 0 ? v : 0: no branch to mispredict on mixed signs (about 3× faster)
  relu: '(v + abs(v)) * 0.5',
  square: 'v * v', sign: 'sign(v)', reciprocal: '1 / v', floor: 'floor(v)', ceil: 'ceil(v)', round: 'round(v)',
  sin: 'sin(v)', cos: 'cos(v)', softplus: 'softplus(v)', log1p: 'log1p(v)', expm1: 'expm1(v)',
};

export function unary(op: UnaryOp, x: Tensor): Tensor {
  if (!Object.hasOwn(UNARY, op)) throw new Error(`cpu: unknown unary op '${op as string}'`);
  const a = contiguousData(x);
  const o = allocate(x.dtype, a.length);
  compiledLoop(`unary ${op}`, 'for (let i = 0; i < o.length; i++) { const v = a[i]; o[i] = FORMULA; }', UNARY[op])(a, null, o);
  return cpuTensor(o, x.shape);
}

/** σ(x) = 1/(1+e^−x); for x < 0 use e^x/(1+e^x) so that e^−x never overflows. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + exp(-x));
  const e = exp(x);
  return e / (1 + e);
}

/** log(1+eˣ) = max(x,0) + log1p(e^−|x|): exact for large |x|. */
export function softplus(x: number): number {
  return max(x, 0) + log1p(exp(-abs(x)));
}

/** f(x, y) for each binary op, as JavaScript source; comparisons give 1 or 0. */
const BINARY: Record<BinaryOp, string> = {
  add: 'x + y', sub: 'x - y', mul: 'x * y', div: 'x / y', pow: 'pow(x, y)', maximum: 'maxOf(x, y)', minimum: 'minOf(x, y)',
  eq: 'x === y ? 1 : 0', ne: 'x !== y ? 1 : 0', lt: 'x < y ? 1 : 0', le: 'x <= y ? 1 : 0', gt: 'x > y ? 1 : 0', ge: 'x >= y ? 1 : 0',
};

/**
 * The loops a binary formula runs in, over contiguous a, b and output o:
 *   same       b as long as a
 *   scalar     b one value (read once, outside the loop)
 *   perColumn  b one value per column: a row of C values repeated down the rows ([..., C] op [C])
 *   perRow     b one value per row, constant along the last axis ([..., C] op [..., 1])
 */
const BINARY_LOOPS = {
  same: 'for (let i = 0; i < o.length; i++) { const x = a[i], y = b[i]; o[i] = FORMULA; }',
  scalar: 'const y = b[0]; for (let i = 0; i < o.length; i++) { const x = a[i]; o[i] = FORMULA; }',
  perColumn: 'const C = b.length; for (let i = 0; i < o.length;) for (let j = 0; j < C; j++, i++) { const x = a[i], y = b[j]; o[i] = FORMULA; }',
  perRow: 'const C = o.length / b.length; for (let r = 0, i = 0; r < b.length; r++) { const y = b[r]; for (let j = 0; j < C; j++, i++) { const x = a[i]; o[i] = FORMULA; } }',
};

function binaryLoop(op: BinaryOp, shape: keyof typeof BINARY_LOOPS, a: TypedArray, b: TypedArray, o: TypedArray): void {
  if (!Object.hasOwn(BINARY, op)) throw new Error(`cpu: unknown binary op '${op as string}'`);
  compiledLoop(`binary ${op} ${shape}`, BINARY_LOOPS[shape], BINARY[op])(a, b, o);
}

/** Flat loop over two equally long arrays, or an array and a scalar (b.length === 1). */
function flatBinary(op: BinaryOp, a: TypedArray, b: TypedArray, o: TypedArray): void {
  binaryLoop(op, b.length === 1 && o.length !== 1 ? 'scalar' : 'same', a, b, o);
}

/** maximum/minimum propagate NaN (as NumPy's do), so a NaN is never hidden by a clip. */
function maxOf(x: number, y: number): number { return x > y || Number.isNaN(x) ? x : y; }
function minOf(x: number, y: number): number { return x < y || Number.isNaN(x) ? x : y; }

/** ndarray-ops's name for each binary op (it writes dest = a op b over any strides). */
const NDARRAY_OPS: Record<BinaryOp, string> = {
  add: 'add', sub: 'sub', mul: 'mul', div: 'div', pow: 'pow', maximum: 'max', minimum: 'min',
  eq: 'eq', ne: 'neq', lt: 'lt', le: 'leq', gt: 'gt', ge: 'geq',
};

export function binary(op: BinaryOp, a: Tensor, b: Tensor, outShape: number[], dtype: DType): Tensor {
  const size = sizeOf(outShape);
  const o = allocate(dtype, size);
  if (size === 0) return cpuTensor(o, outShape);
  const sameShape = a.size === size && b.size === size;
  if ((sameShape || (a.size === size && b.size === 1)) && a.isContiguous() && b.isContiguous()) {
    flatBinary(op, contiguousData(a), contiguousData(b), o);
  } else if (outShape.length === 0) {
    flatBinary(op, contiguousData(a), contiguousData(b), o);
  } else if (a.size === size && a.isContiguous() && b.isContiguous() && ARITHMETIC.has(op) && rowBroadcast(op, contiguousData(a), b, outShape, o)) {
    // done: the common [..., C] op [C] (bias, BatchNorm's scale) or [..., C] op [..., 1] (softmax's max)
  } else {
    const view = (x: Tensor) => ndarray(x.storage.read(), outShape, broadcastStrides(x.shape, x.strides, outShape), x.offset);
    const kernel = (ops as unknown as Record<string, (...args: unknown[]) => void>)[NDARRAY_OPS[op]];
    kernel(ndarray(o, outShape, contiguousStrides(outShape)), view(a), view(b));
  }
  return cpuTensor(o, outShape);
}

const ARITHMETIC: ReadonlySet<BinaryOp> = new Set(['add', 'sub', 'mul', 'div']);

/**
 * Two broadcasts that layers do on every step, as plain loops over rows of C (about 4× faster than
 * the general strided walk): b repeats along the leading axes (b is [C] or [1, …, C]: one value per
 * column), or b is constant along the last axis (b is [..., 1]: one value per row). Returns false
 * for any other broadcast.
 */
function rowBroadcast(op: BinaryOp, a: TypedArray, bt: Tensor, outShape: number[], o: TypedArray): boolean {
  const C = outShape[outShape.length - 1];
  const rows = o.length / C;
  const b = contiguousData(bt);
  let perColumn: boolean;
  const lead = outShape.length - bt.rank;
  if (b.length === C && bt.shape.every((d, k) => d === (k + lead === outShape.length - 1 ? C : 1))) perColumn = true;
  else if (b.length === rows && bt.rank === outShape.length && bt.shape[bt.rank - 1] === 1 && bt.shape.every((d, k) => k === bt.rank - 1 || d === outShape[k])) perColumn = false;
  else return false;
  binaryLoop(op, perColumn ? 'perColumn' : 'perRow', a, b, o);
  return true;
}

/** cond ? a : b over the broadcast shape: an odometer walk that advances three strided positions. */
export function where(cond: Tensor, a: Tensor, b: Tensor, outShape: number[], dtype: DType): Tensor {
  const size = sizeOf(outShape);
  const o = allocate(dtype, size);
  const rank = outShape.length;
  const cs = broadcastStrides(cond.shape, cond.strides, outShape);
  const as = broadcastStrides(a.shape, a.strides, outShape);
  const bs = broadcastStrides(b.shape, b.strides, outShape);
  const cd = cond.storage.read(), ad = a.storage.read(), bd = b.storage.read();
  const index = new Array<number>(rank).fill(0);
  let pc = cond.offset, pa = a.offset, pb = b.offset;
  for (let i = 0; i < size; i++) {
    o[i] = cd[pc] !== 0 ? ad[pa] : bd[pb];
    for (let k = rank - 1; k >= 0; k--) { // advance the odometer by one, carrying into earlier axes
      index[k]++; pc += cs[k]; pa += as[k]; pb += bs[k];
      if (index[k] < outShape[k]) break;
      pc -= cs[k] * outShape[k]; pa -= as[k] * outShape[k]; pb -= bs[k] * outShape[k];
      index[k] = 0;
    }
  }
  return cpuTensor(o, outShape);
}

/**
 * What a formula may call. They are handed to each compiled loop as arguments: a global looked up
 * inside a hot loop is cheap in plain Node but about 70× slower inside jest's sandbox.
 */
const HELPERS = { abs, ceil, cos, exp, expm1, floor, log, log1p, pow, round, sign, sin, sqrt, tanh, sigmoid, softplus, maxOf, minOf };
const loops = new Map<string, (a: TypedArray, b: TypedArray | null, o: TypedArray) => void>();

/**
 * The loop `shape` with `formula` written in place of FORMULA, as a function (a, b, o) compiled once per
 * name. Why not one loop calling f(a[i]) through a table of functions: that call site sees every op,
 * so V8 cannot inline it, and it ran 1.5× (exp) to 20× (floor) slower than a loop of its own per op.
 * (ndarray-ops, used for the other broadcasts, compiles its loops the same way.)
 */
function compiledLoop(name: string, shape: string, formula: string): (a: TypedArray, b: TypedArray | null, o: TypedArray) => void {
  let loop = loops.get(name);
  if (!loop) {
    const helpers = Object.keys(HELPERS) as (keyof typeof HELPERS)[];
    const source = `return function ${name.replace(/ /g, '_')}(a, b, o) { ${shape.replace('FORMULA', () => formula)} };`;
    loop = new Function(...helpers, source)(...helpers.map((h) => HELPERS[h])) as (a: TypedArray, b: TypedArray | null, o: TypedArray) => void;
    loops.set(name, loop);
  }
  return loop;
}
