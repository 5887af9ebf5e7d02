/** Making tensors: from JavaScript values, filled, ranges, identity, and seeded random numbers. */
import { Tensor } from './tensor.js';
import { allocate, dtypeOf, isDType } from './dtype.js';
import type { DType, TypedArray } from './dtype.js';
import { checkShape, formatShape, sizeOf } from './shape.js';
import { getBackend } from './backend.js';
import { globalRandom, Random } from './random.js';

/** Nested arrays of numbers, as written in code: [[1, 2], [3, 4]]. */
export type NestedArray = number | boolean | readonly NestedArray[];

export interface CreateOptions { dtype?: DType }
export interface RandomOptions extends CreateOptions {
  /** A generator to draw from (default: the global one, reseeded by setSeed). */
  rng?: Random;
  /** A seed for a private generator, for one-off reproducible draws. */
  seed?: number;
}

/** Wrap a flat typed array (not copied) as a tensor of the given shape on the active backend. */
export function fromTypedArray(data: TypedArray, shape: readonly number[] = [data.length]): Tensor {
  checkShape('fromTypedArray', shape);
  if (sizeOf(shape) !== data.length) {
    throw new Error(`fromTypedArray: ${data.length} values do not fill shape ${formatShape(shape)} (${sizeOf(shape)} elements)`);
  }
  return new Tensor(getBackend().upload(data), shape);
}

/**
 * A tensor from nested arrays, a typed array or a number. The shape is read from the nesting (or given
 * for flat data); ragged nesting throws.
 */
export function tensor(values: NestedArray | TypedArray, options: CreateOptions & { shape?: readonly number[] } = {}): Tensor {
  if (Array.isArray(options) || typeof options !== 'object' || options === null) {
    throw new Error(`tensor: the second argument is options ({ shape, dtype }), got ${JSON.stringify(options)}; for a shape write tensor(values, { shape: [...] })`);
  }
  if (options.dtype !== undefined && !isDType(options.dtype)) throw new Error(`tensor: unknown dtype '${options.dtype}'`);
  if (ArrayBuffer.isView(values)) {
    const typed = values as TypedArray;
    const dtype = options.dtype ?? dtypeOf(typed);
    const data = dtype === dtypeOf(typed) ? typed : copyInto(allocate(dtype, typed.length), typed);
    return fromTypedArray(data, options.shape ?? [typed.length]);
  }
  const shape = inferShape(values);
  const data = allocate(options.dtype ?? 'float32', sizeOf(shape));
  let n = 0;
  const fill = (v: NestedArray, depth: number): void => {
    if (depth === shape.length) {
      if (typeof v !== 'number' && typeof v !== 'boolean') throw new Error('tensor: ragged nested array');
      data[n++] = Number(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      throw new Error(`tensor: ragged nested array (expected ${shape[depth]} entries at depth ${depth})`);
    }
    for (const item of v) fill(item, depth + 1);
  };
  fill(values, 0);
  return fromTypedArray(data, options.shape ?? shape);
}

function inferShape(values: NestedArray): number[] {
  const shape: number[] = [];
  let v: NestedArray = values;
  while (Array.isArray(v)) {
    shape.push(v.length);
    if (v.length === 0) break;
    v = v[0];
  }
  return shape;
}

function copyInto(target: TypedArray, source: ArrayLike<number>): TypedArray {
  for (let i = 0; i < source.length; i++) target[i] = source[i];
  return target;
}

/** A rank-0 tensor. */
export function scalar(value: number, dtype: DType = 'float32'): Tensor {
  return full([], value, dtype);
}

export function full(shape: readonly number[], value: number, dtype: DType = 'float32'): Tensor {
  checkShape('full', shape);
  const data = allocate(dtype, sizeOf(shape));
  if (value !== 0) data.fill(value);
  return fromTypedArray(data, shape);
}
export function zeros(shape: readonly number[], dtype: DType = 'float32'): Tensor { return full(shape, 0, dtype); }
export function ones(shape: readonly number[], dtype: DType = 'float32'): Tensor { return full(shape, 1, dtype); }
/** A tensor of x's shape and dtype filled with `value`, on x's backend (as PyTorch's full_like keeps the device). */
export function fullLike(x: Tensor, value: number): Tensor {
  const data = allocate(x.dtype, x.size);
  if (value !== 0) data.fill(value);
  return new Tensor(getBackend(x.backend).upload(data), x.shape);
}
export function zerosLike(x: Tensor): Tensor { return fullLike(x, 0); }
export function onesLike(x: Tensor): Tensor { return fullLike(x, 1); }

/** start, start+step, … below stop (as NumPy's arange; arange(n) counts 0…n-1). */
export function arange(start: number, stop?: number, step = 1, dtype: DType = 'float32'): Tensor {
  if (stop === undefined) { stop = start; start = 0; }
  if (step === 0) throw new Error('arange: step must not be 0');
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const data = allocate(dtype, n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return fromTypedArray(data, [n]);
}

/** `num` evenly spaced values from start to stop, both included. */
export function linspace(start: number, stop: number, num: number, dtype: DType = 'float32'): Tensor {
  if (!Number.isInteger(num) || num < 0) throw new Error(`linspace: num must be a non-negative integer, got ${num}`);
  const data = allocate(dtype, num);
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  for (let i = 0; i < num; i++) data[i] = start + i * step;
  if (num > 1) data[num - 1] = stop;
  return fromTypedArray(data, [num]);
}

/** Identity matrix [n, m] (m defaults to n). */
export function eye(n: number, m = n, dtype: DType = 'float32'): Tensor {
  const data = allocate(dtype, n * m);
  for (let i = 0; i < Math.min(n, m); i++) data[i * m + i] = 1;
  return fromTypedArray(data, [n, m]);
}

function generator(options: RandomOptions): Random {
  if (options.rng) return options.rng;
  return options.seed !== undefined ? new Random(options.seed) : globalRandom;
}

function randomTensor(op: string, shape: readonly number[], options: RandomOptions, draw: (rng: Random) => number): Tensor {
  checkShape(op, shape);
  if (options.dtype !== undefined && !isDType(options.dtype)) throw new Error(`${op}: unknown dtype '${String(options.dtype)}' (gradlab has float32, float64, int32)`);
  const rng = generator(options);
  const data = allocate(options.dtype ?? 'float32', sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = draw(rng);
  return fromTypedArray(data, shape);
}

/** Uniform in [0, 1). */
export function rand(shape: readonly number[], options: RandomOptions = {}): Tensor {
  return randomTensor('rand', shape, options, (rng) => rng.next());
}
/** Normal with mean 0 and standard deviation 1 (or as given). */
export function randn(shape: readonly number[], options: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  const { mean = 0, std = 1 } = options;
  if (!Number.isFinite(mean)) throw new Error(`randn: mean must be a finite number, got ${mean}`);
  if (!(std >= 0 && Number.isFinite(std))) throw new Error(`randn: std must be a finite number >= 0, got ${std}`);
  return randomTensor('randn', shape, options, (rng) => rng.normal(mean, std));
}
/** Uniform in [low, high). */
export function uniform(shape: readonly number[], low = 0, high = 1, options: RandomOptions = {}): Tensor {
  if (!(Number.isFinite(low) && Number.isFinite(high) && low <= high)) {
    throw new Error(`uniform: needs finite low <= high, got low ${low} and high ${high}`);
  }
  return randomTensor('uniform', shape, options, (rng) => rng.uniform(low, high));
}
/** Integers uniform in [low, high), int32 by default. */
export function randint(shape: readonly number[], low: number, high: number, options: RandomOptions = {}): Tensor {
  if (!(Number.isSafeInteger(low) && Number.isSafeInteger(high) && low < high)) {
    throw new Error(`randint: needs integers low < high (the range [low, high) must hold a value), got low ${low} and high ${high}`);
  }
  return randomTensor('randint', shape, { dtype: 'int32', ...options }, (rng) => low + rng.int(high - low));
}
