/**
 * Shapes and strides: the arithmetic that maps an n-d index to a place in flat storage.
 *
 * A tensor of shape [d0, d1, …, dn-1] keeps its elements in one flat array. Element (i0, …, in-1)
 * lives at   offset + i0·s0 + i1·s1 + … + in-1·sn-1   where s are the strides. Contiguous (row-major)
 * strides are s_{n-1} = 1, s_k = s_{k+1}·d_{k+1}. Views (transpose, slice, broadcast) only change
 * shape, strides and offset; the storage is shared.
 */
export type Shape = readonly number[];

/** Number of elements: the product of the dimensions (1 for a scalar, shape []). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a contiguous tensor of this shape. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    strides[k] = stride;
    stride *= shape[k];
  }
  return strides;
}

/** Storage position of an n-d index:  offset + Σ index[k]·strides[k]. */
export function indexToPosition(index: ArrayLike<number>, strides: ArrayLike<number>, offset = 0): number {
  let position = offset;
  for (let k = 0; k < strides.length; k++) position += index[k] * strides[k];
  return position;
}

/**
 * The n-d index of the `ordinal`-th element in row-major order (the inverse of contiguous
 * indexToPosition). Writes into `outIndex` to avoid allocating in loops.
 */
export function ordinalToIndex(ordinal: number, shape: Shape, outIndex: number[]): number[] {
  for (let k = shape.length - 1; k >= 0; k--) {
    const d = shape[k];
    outIndex[k] = ordinal % d;
    ordinal = Math.floor(ordinal / d);
  }
  return outIndex;
}

/**
 * Broadcasting (NumPy's rule): align shapes on the right; two dimensions are compatible when they are
 * equal or one of them is 1; the result takes the larger. Throws naming the op and both shapes.
 */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let k = 0; k < rank; k++) {
    const da = a[a.length - rank + k] ?? 1;
    const db = b[b.length - rank + k] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`${op}: shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast ` +
        `(dimension ${k - rank}: ${da} vs ${db})`);
    }
    out[k] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Map an index into a broadcast result back to the index of a smaller input: dimensions the input
 * lacks are dropped, dimensions where it has size 1 read index 0.
 */
export function broadcastIndex(bigIndex: ArrayLike<number>, bigShape: Shape, shape: Shape, outIndex: number[]): number[] {
  const lead = bigShape.length - shape.length;
  for (let k = 0; k < shape.length; k++) outIndex[k] = shape[k] === 1 ? 0 : bigIndex[k + lead];
  return outIndex;
}

/**
 * Strides that read a tensor of `shape`/`strides` as if it had `targetShape` (which it must broadcast
 * to): broadcast dimensions get stride 0, so the same element is read again. Copies nothing.
 */
export function broadcastStrides(shape: Shape, strides: readonly number[], targetShape: Shape): number[] {
  const lead = targetShape.length - shape.length;
  const out = new Array<number>(targetShape.length).fill(0);
  for (let k = 0; k < shape.length; k++) out[k + lead] = shape[k] === 1 && targetShape[k + lead] !== 1 ? 0 : strides[k];
  return out;
}

/** Turn a possibly negative axis into 0…rank-1, or throw naming the op. */
export function normalizeAxis(op: string, axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1)) {
    throw new Error(`${op}: axis ${axis} is out of range for a tensor of rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Normalise an axis list (undefined = all axes), sorted, without duplicates. */
export function normalizeAxes(op: string, axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, k) => k);
  const list = typeof axes === 'number' ? [axes] : axes;
  const out = list.map((a) => normalizeAxis(op, a, rank));
  if (new Set(out).size !== out.length) throw new Error(`${op}: repeated axis in [${list.join(',')}]`);
  return out.sort((x, y) => x - y);
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, k) => d === b[k]);
}

/** `[32,64,64,3]`: how shapes appear in every error message. */
export function formatShape(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

/** Throw unless every dimension is a non-negative integer. */
export function checkShape(op: string, shape: Shape): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`${op}: invalid shape ${formatShape(shape)}`);
  }
}
