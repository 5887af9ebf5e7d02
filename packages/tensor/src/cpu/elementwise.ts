/**
 * CPU loops for elementwise maps. Contiguous inputs run a flat typed-array loop (one line per op,
 * the switch outside the loop so each loop stays monomorphic); other broadcasts first copy each input
 * to the output's shape (broadcast axes read with stride 0, strided.ts) and then run the flat loop.
 * No loop here is compiled at run time: the CPU path needs no eval (a strict CSP allows it).
 */
import { Tensor } from '../tensor.js';
import { allocate } from '../dtype.js';
import type { DType, TypedArray } from '../dtype.js';
import type { BinaryOp, UnaryOp } from '../backend.js';
import { CpuStorage } from '../storage.js';
import { broadcastStrides, contiguousStrides, shapesEqual, sizeOf } from '../shape.js';
import { mulAddComposite } from '../ops/elementwise.js';
import { copyStrided } from './strided.js';
import { reluGradWasm } from './wasm/relu-grad-f32.js';
import { perColumnMulAddWasm } from './wasm/mul-add-f32.js';

/**
 * The Math functions used per element, read once: a global lookup inside a hot loop is cheap in plain
 * Node but about 70× slower inside jest's sandbox, which would make the test suite crawl.
 */
const { abs, ceil, cos, exp, expm1, floor, fround, log, log1p, max, pow, round, sign, sin, sqrt, tanh } = Math;

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
  copyStrided(x.shape, { data: out, strides: contiguousStrides(x.shape), offset: 0 }, { data: x.storage.read(), strides: x.strides, offset: x.offset });
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

export function unary(op: UnaryOp, x: Tensor): Tensor {
  const a = contiguousData(x);
  const n = a.length;
  const o = allocate(x.dtype, n);
  switch (op) {
    case 'neg': for (let i = 0; i < n; i++) o[i] = -a[i]; break;
    case 'exp': for (let i = 0; i < n; i++) o[i] = exp(a[i]); break;
    case 'log': for (let i = 0; i < n; i++) o[i] = log(a[i]); break;
    case 'sqrt': for (let i = 0; i < n; i++) o[i] = sqrt(a[i]); break;
    case 'abs': for (let i = 0; i < n; i++) o[i] = abs(a[i]); break;
    case 'tanh': for (let i = 0; i < n; i++) o[i] = tanh(a[i]); break;
    case 'sigmoid': for (let i = 0; i < n; i++) o[i] = sigmoid(a[i]); break;
    // (v + |v|)/2 rather than v > 0 ? v : 0: no branch to mispredict on mixed signs (about 3× faster)
    case 'relu': for (let i = 0; i < n; i++) o[i] = (a[i] + abs(a[i])) * 0.5; break;
    case 'square': for (let i = 0; i < n; i++) o[i] = a[i] * a[i]; break;
    case 'sign': for (let i = 0; i < n; i++) o[i] = sign(a[i]); break;
    case 'reciprocal': for (let i = 0; i < n; i++) o[i] = 1 / a[i]; break;
    case 'floor': for (let i = 0; i < n; i++) o[i] = floor(a[i]); break;
    case 'ceil': for (let i = 0; i < n; i++) o[i] = ceil(a[i]); break;
    case 'round': for (let i = 0; i < n; i++) o[i] = round(a[i]); break;
    case 'sin': for (let i = 0; i < n; i++) o[i] = sin(a[i]); break;
    case 'cos': for (let i = 0; i < n; i++) o[i] = cos(a[i]); break;
    case 'softplus': for (let i = 0; i < n; i++) o[i] = softplus(a[i]); break;
    case 'log1p': for (let i = 0; i < n; i++) o[i] = log1p(a[i]); break;
    case 'expm1': for (let i = 0; i < n; i++) o[i] = expm1(a[i]); break;
    default: throw new Error(`cpu: unknown unary op '${op as string}'`);
  }
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

/** Flat loop over two equally long arrays, or an array and a scalar (b.length === 1). */
function flatBinary(op: BinaryOp, a: TypedArray, b: TypedArray, o: TypedArray): void {
  const n = o.length;
  if (b.length === 1 && n !== 1) {
    const s = b[0];
    switch (op) {
      case 'add': for (let i = 0; i < n; i++) o[i] = a[i] + s; return;
      case 'sub': for (let i = 0; i < n; i++) o[i] = a[i] - s; return;
      case 'mul': for (let i = 0; i < n; i++) o[i] = a[i] * s; return;
      case 'div': for (let i = 0; i < n; i++) o[i] = a[i] / s; return;
      default: break; // the rest take the general loop with a length-1 b read at index 0
    }
  }
  const bStep = b.length === 1 ? 0 : 1;
  switch (op) {
    case 'add': for (let i = 0; i < n; i++) o[i] = a[i] + b[i * bStep]; break;
    case 'sub': for (let i = 0; i < n; i++) o[i] = a[i] - b[i * bStep]; break;
    case 'mul': for (let i = 0; i < n; i++) o[i] = a[i] * b[i * bStep]; break;
    case 'div': for (let i = 0; i < n; i++) o[i] = a[i] / b[i * bStep]; break;
    case 'pow': for (let i = 0; i < n; i++) o[i] = pow(a[i], b[i * bStep]); break;
    case 'maximum': for (let i = 0; i < n; i++) o[i] = maxOf(a[i], b[i * bStep]); break;
    case 'minimum': for (let i = 0; i < n; i++) o[i] = minOf(a[i], b[i * bStep]); break;
    case 'eq': for (let i = 0; i < n; i++) o[i] = a[i] === b[i * bStep] ? 1 : 0; break;
    case 'ne': for (let i = 0; i < n; i++) o[i] = a[i] !== b[i * bStep] ? 1 : 0; break;
    case 'lt': for (let i = 0; i < n; i++) o[i] = a[i] < b[i * bStep] ? 1 : 0; break;
    case 'le': for (let i = 0; i < n; i++) o[i] = a[i] <= b[i * bStep] ? 1 : 0; break;
    case 'gt': for (let i = 0; i < n; i++) o[i] = a[i] > b[i * bStep] ? 1 : 0; break;
    case 'ge': for (let i = 0; i < n; i++) o[i] = a[i] >= b[i * bStep] ? 1 : 0; break;
    case 'reluGrad': for (let i = 0; i < n; i++) o[i] = b[i * bStep] > 0 ? a[i] : 0; break;
    default: throw new Error(`cpu: unknown binary op '${op as string}'`);
  }
}

/** maximum/minimum propagate NaN (as NumPy's do), so a NaN is never hidden by a clip. */
function maxOf(x: number, y: number): number { return x > y || Number.isNaN(x) ? x : y; }
function minOf(x: number, y: number): number { return x < y || Number.isNaN(x) ? x : y; }

/** x's values repeated to `outShape` (broadcast axes read with stride 0), contiguous, in x's dtype. */
function broadcastData(x: Tensor, outShape: number[], size: number): TypedArray {
  const out = allocate(x.dtype, size);
  copyStrided(outShape, { data: out, strides: contiguousStrides(outShape), offset: 0 },
    { data: x.storage.read(), strides: broadcastStrides(x.shape, x.strides, outShape), offset: x.offset });
  return out;
}

export function binary(op: BinaryOp, a: Tensor, b: Tensor, outShape: number[], dtype: DType): Tensor {
  const size = sizeOf(outShape);
  const o = allocate(dtype, size);
  if (size === 0) return cpuTensor(o, outShape);
  const sameShape = a.size === size && b.size === size;
  if (op === 'reluGrad' && sameShape && a.isContiguous() && b.isContiguous() && reluGradMasked(contiguousData(a), contiguousData(b), o)) {
    // done: the branch-free loop below
  } else if ((sameShape || (a.size === size && b.size === 1)) && a.isContiguous() && b.isContiguous()) {
    flatBinary(op, contiguousData(a), contiguousData(b), o);
  } else if (outShape.length === 0) {
    flatBinary(op, contiguousData(a), contiguousData(b), o);
  } else if (a.size === size && a.isContiguous() && b.isContiguous() && ARITHMETIC.has(op) && rowBroadcast(op, contiguousData(a), b, outShape, o)) {
    // done: the common [..., C] op [C] (bias, BatchNorm's scale) or [..., C] op [..., 1] (softmax's max)
  } else {
    flatBinary(op, broadcastData(a, outShape, size), broadcastData(b, outShape, size), o);
  }
  return cpuTensor(o, outShape);
}

/**
 * reluGrad without a branch: o = dy where x > 0, else +0, by AND-ing dy's bits with a mask that is all
 * ones where x > 0 (-(true) = -1) and all zeros elsewhere, x NaN included. The plain `x > 0 ? dy : 0`
 * mispredicts on every other element of a ReLU's input (its signs are a coin toss): 6× slower here.
 * Needs dy and the output of the same float type; returns false (nothing done) otherwise.
 */
function reluGradMasked(dy: TypedArray, x: TypedArray, o: TypedArray): boolean {
  if (!((dy instanceof Float32Array && o instanceof Float32Array) || (dy instanceof Float64Array && o instanceof Float64Array))) return false;
  const d = new Int32Array(dy.buffer, dy.byteOffset, dy.length * (dy.BYTES_PER_ELEMENT / 4));
  const out = new Int32Array(o.buffer, o.byteOffset, d.length);
  const n = x.length;
  if (dy instanceof Float32Array && x instanceof Float32Array && o instanceof Float32Array && reluGradWasm(dy, x, o)) return true;
  if (dy instanceof Float32Array) {
    // Where WebAssembly SIMD is missing (wasm/relu-grad-f32.ts does this 4 at a time, ~2.5 ms on 4 M
    // floats with the copies): four elements per step, one loop test and index update per four (5.9 → 4.7 ms).
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      out[i] = d[i] & -(x[i] > 0);
      out[i + 1] = d[i + 1] & -(x[i + 1] > 0);
      out[i + 2] = d[i + 2] & -(x[i + 2] > 0);
      out[i + 3] = d[i + 3] & -(x[i + 3] > 0);
    }
    for (; i < n; i++) out[i] = d[i] & -(x[i] > 0);
  } else for (let i = 0, j = 0; i < n; i++, j += 2) { const m = -(x[i] > 0); out[j] = d[j] & m; out[j + 1] = d[j + 1] & m; }
  return true;
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
  for (let r = 0, i = 0; r < rows; r++) {
    if (perColumn) {
      switch (op) {
        case 'add': for (let j = 0; j < C; j++, i++) o[i] = a[i] + b[j]; break;
        case 'sub': for (let j = 0; j < C; j++, i++) o[i] = a[i] - b[j]; break;
        case 'mul': for (let j = 0; j < C; j++, i++) o[i] = a[i] * b[j]; break;
        default: for (let j = 0; j < C; j++, i++) o[i] = a[i] / b[j]; break;
      }
    } else {
      const s = b[r];
      switch (op) {
        case 'add': for (let j = 0; j < C; j++, i++) o[i] = a[i] + s; break;
        case 'sub': for (let j = 0; j < C; j++, i++) o[i] = a[i] - s; break;
        case 'mul': for (let j = 0; j < C; j++, i++) o[i] = a[i] * s; break;
        default: for (let j = 0; j < C; j++, i++) o[i] = a[i] / s; break;
      }
    }
  }
  return true;
}

/**
 * x·scale + shift. The common case, x contiguous with scale and shift one value per column ([C], as
 * BatchNorm's) or x's own shape, is one loop; the product is rounded to the output's type before the
 * sum (Math.fround for float32), so the result equals x.mul(scale).add(shift) bit for bit. Other
 * broadcasts run that composite.
 */
export function mulAdd(x: Tensor, scaleT: Tensor, shiftT: Tensor, outShape: number[], dtype: DType): Tensor {
  const size = sizeOf(outShape), C = outShape[outShape.length - 1] ?? 1;
  const fits = (t: Tensor) => t.dtype === dtype && t.isContiguous() && (t.size === size ? shapesEqual(t.shape, outShape) : t.size === C && t.shape[t.rank - 1] === C);
  if (!(x.size === size && x.dtype === dtype && x.isContiguous() && fits(scaleT) && fits(shiftT) && dtype !== 'int32')) {
    return mulAddComposite(x, scaleT, shiftT, dtype);
  }
  const xs = contiguousData(x), s = contiguousData(scaleT), t = contiguousData(shiftT);
  const o = allocate(dtype, size);
  const perColumn = s.length === C && t.length === C && size !== C;
  if (perColumn) perColumnMulAdd(xs, s, t, o, C);
  else {
    // one of them has x's shape: index each by its own rule
    const at = (a: TypedArray, j: number) => (a.length === size ? j : j % C);
    for (let j = 0; j < size; j++) {
      const p = xs[j] * s[at(s, j)];
      o[j] = (dtype === 'float32' ? fround(p) : p) + t[at(t, j)];
    }
  }
  return cpuTensor(o, outShape);
}

/**
 * o = x·s + t with s, t one value per column of x [rows, C]. The product is stored before the shift is
 * added to it, so it is rounded to o's type first (float32 or float64) with no branch on the dtype.
 * Four rows a step with the column's s and t read once for them: on the image model's [123 008, 32]
 * (issue 13) the one-row nested loop took 12.3 ms, this 6.0 (medians of 9, load ~1.3). Float32 runs on
 * WebAssembly SIMD (wasm/mul-add-f32.ts, the same bits) unless small or GRADLAB_MUL_ADD=js.
 */
function perColumnMulAdd(xs: TypedArray, s: TypedArray, t: TypedArray, o: TypedArray, C: number): void {
  if (o instanceof Float32Array && perColumnMulAddWasm(xs as Float32Array, s as Float32Array, t as Float32Array, o, C)) return;
  const n = o.length;
  let base = 0;
  for (; base + 4 * C <= n; base += 4 * C) {
    for (let c = 0; c < C; c++) {
      const sc = s[c], tc = t[c], i0 = base + c, i1 = i0 + C, i2 = i1 + C, i3 = i2 + C;
      o[i0] = xs[i0] * sc; o[i1] = xs[i1] * sc; o[i2] = xs[i2] * sc; o[i3] = xs[i3] * sc;
      o[i0] += tc; o[i1] += tc; o[i2] += tc; o[i3] += tc;
    }
  }
  for (; base < n; base += C) for (let c = 0, i = base; c < C; c++, i++) { o[i] = xs[i] * s[c]; o[i] += t[c]; }
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
