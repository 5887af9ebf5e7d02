/**
 * Element types. float32 is the working type; float64 exists so that gradcheck can be exact;
 * int32 holds labels, indices and the 0/1 results of comparisons.
 */
import { noteAllocated, takeRecycled } from './recycling.js';

export type DType = 'float32' | 'float64' | 'int32';
export type TypedArray = Float32Array | Float64Array | Int32Array;

const DTYPES: readonly DType[] = ['float32', 'float64', 'int32'];

export function isDType(x: unknown): x is DType {
  return typeof x === 'string' && (DTYPES as readonly string[]).includes(x);
}

/** Bytes per element of each dtype. */
export function bytesPerElement(dtype: DType): number { return dtype === 'float64' ? 8 : 4; }

/** The bytes still allowed inside withAllocationBudget, and who set the limit (for the error). */
let budget: { left: number; limit: number; owner: string } | null = null;

/**
 * Run `fn` (synchronous) allowing it at most `bytes` of new tensor storage in all. Loading a model
 * builds its layers this way: the weights file says how many bytes the model holds, so a model.json
 * that declares a Dense layer of 10^12 units fails here, naming `owner`, before the memory is taken.
 */
export function withAllocationBudget<T>(bytes: number, owner: string, fn: () => T): T {
  const outer = budget;
  budget = { left: bytes, limit: bytes, owner };
  try {
    return fn();
  } finally {
    budget = outer;
  }
}

/** A zero-filled typed array of `size` elements of `dtype`: fresh, or recycled from a finished step (recycling.ts). */
export function allocate(dtype: DType, size: number): TypedArray {
  if (!Number.isSafeInteger(size) || size < 0) throw new Error(`allocate: size must be a non-negative integer, got ${size} (${dtype})`);
  if (budget) {
    const bytes = size * bytesPerElement(dtype);
    if (bytes > budget.left) {
      throw new Error(`${budget.owner}: refusing to allocate ${size} ${dtype} elements (${bytes} bytes): ` +
        `beyond the limit of ${budget.limit} bytes set for it`);
    }
    budget.left -= bytes;
  }
  const recycled = takeRecycled(dtype, size);
  if (recycled !== undefined) return recycled;
  const array = dtype === 'float32' ? new Float32Array(size) : dtype === 'float64' ? new Float64Array(size) : new Int32Array(size);
  noteAllocated(array);
  return array;
}

/** The dtype a typed array stores. */
export function dtypeOf(array: TypedArray): DType {
  if (array instanceof Float32Array) return 'float32';
  if (array instanceof Float64Array) return 'float64';
  return 'int32';
}

/**
 * The dtype of a binary op's result, as NumPy promotes: int32 < float32 < float64.
 * (int32 with float32 gives float32, not float64 as NumPy would: float32 is the working type.)
 */
export function promoteTypes(a: DType, b: DType): DType {
  if (a === 'float64' || b === 'float64') return 'float64';
  if (a === 'float32' || b === 'float32') return 'float32';
  return 'int32';
}

export function isFloat(dtype: DType): boolean {
  return dtype !== 'int32';
}
