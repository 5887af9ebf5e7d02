/**
 * Copying between strided views with a plain loop: the last axis in an inner loop, the others counted
 * like an odometer. It replaces ndarray-ops on the CPU backend's paths, because ndarray and
 * ndarray-ops compile their loops with `new Function`, which a page under a Content-Security-Policy
 * without 'unsafe-eval' refuses (docs/formats.md, "Browsers").
 */
import type { TypedArray } from '../dtype.js';

/** A view of `data`: element [i0, i1, …] is at offset + Σ i_k · strides[k]. */
export interface StridedView { data: TypedArray; strides: readonly number[]; offset: number }

/** to[i] = from[i] for every index i of `shape` (typed-array assignment converts between dtypes). */
export function copyStrided(shape: readonly number[], to: StridedView, from: StridedView): void {
  const rank = shape.length;
  if (rank === 0) { to.data[to.offset] = from.data[from.offset]; return; }
  if (shape.some((d) => d === 0)) return;
  const n = shape[rank - 1];
  const toStep = to.strides[rank - 1];
  const fromStep = from.strides[rank - 1];
  const index = new Array<number>(rank - 1).fill(0);
  let rows = 1;
  for (let k = 0; k < rank - 1; k++) rows *= shape[k];
  let t = to.offset;
  let f = from.offset;
  for (let row = 0; row < rows; row++) {
    for (let i = 0; i < n; i++) to.data[t + i * toStep] = from.data[f + i * fromStep];
    for (let k = rank - 2; k >= 0; k--) { // next row: bump the last outer axis, carrying into earlier ones
      index[k]++;
      t += to.strides[k];
      f += from.strides[k];
      if (index[k] < shape[k]) break;
      t -= to.strides[k] * shape[k];
      f -= from.strides[k] * shape[k];
      index[k] = 0;
    }
  }
}
