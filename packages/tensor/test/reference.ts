/**
 * Naive references shared by the property tests (views, broadcast, reduce, join, indexing): random shapes
 * and values from the seeded Random, and plain row-major index arithmetic written out by hand, so that
 * every library result is checked against code that does not use the library's strides machinery.
 */
import { Random, tensor } from '@gradlab/tensor';
import type { DType, Tensor } from '@gradlab/tensor';

/** Number of elements of a shape. */
export function count(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

/** Row-major flat position of an n-d index:  ((i0·d1 + i1)·d2 + i2)… */
export function flatIndex(index: readonly number[], shape: readonly number[]): number {
  let p = 0;
  for (let k = 0; k < shape.length; k++) p = p * shape[k] + index[k];
  return p;
}

/** The n-d index of row-major position p (the inverse of flatIndex). */
export function unflatIndex(p: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length);
  for (let k = shape.length - 1; k >= 0; k--) { index[k] = p % shape[k]; p = Math.floor(p / shape[k]); }
  return index;
}

/** Every n-d index of `shape`, in row-major order. */
export function allIndices(shape: readonly number[]): number[][] {
  return Array.from({ length: count(shape) }, (_, p) => unflatIndex(p, shape));
}

/** A random shape: rank in [minRank, maxRank], each dimension in [minDim, maxDim]. */
export function randomShape(rng: Random, maxRank = 4, maxDim = 4, minRank = 0, minDim = 1): number[] {
  const rank = minRank + rng.int(maxRank - minRank + 1);
  return Array.from({ length: rank }, () => minDim + rng.int(maxDim - minDim + 1));
}

/** Random values: normal(0, 1) floats, or integers in [-5, 5) for int32. Returns the values too. */
export function randomTensor(rng: Random, shape: readonly number[], dtype: DType = 'float32'): { t: Tensor; values: number[] } {
  const values = Array.from({ length: count(shape) }, () => (dtype === 'int32' ? rng.int(10) - 5 : rng.normal()));
  const t = tensor(dtype === 'float32' ? new Float32Array(values) : dtype === 'float64' ? new Float64Array(values) : new Int32Array(values), { shape });
  // report the values as stored (float32 rounds them)
  return { t, values: Array.from(t.dataSync()) };
}

/** A random subset of 0…rank-1, sorted. */
export function randomAxes(rng: Random, rank: number): number[] {
  return Array.from({ length: rank }, (_, k) => k).filter(() => rng.next() < 0.5);
}

/** Throw with a useful message unless |a − e| ≤ atol + rtol·|e| elementwise (NaN matches NaN). */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-5, atol = 1e-6, what = ''): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (a === e) continue; // covers ±Infinity
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      throw new Error(`${what}: element ${i} is ${a}, expected ${e}`);
    }
  }
}
