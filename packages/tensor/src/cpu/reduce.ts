/**
 * CPU reductions: sum, mean, max, min, prod, argmax/argmin and the variance.
 *
 * Every kernel sees its input as three nested loops over a row-major block,
 *
 *     [outer, R, inner]      (R = the product of the reduced axes)
 *
 * and produces [outer, inner]: for each outer slice it walks the R rows of `inner` values and folds them
 * into an `inner`-long accumulator. Rows are read front to back, so memory is always walked in order.
 *   - reducing axis 0 of an [N, F] matrix (bias gradients, BatchNorm statistics) is outer = 1,
 *     R = N, inner = F: the rows are accumulated into an F-long buffer, with no transpose or copy;
 *   - reducing the last axis (softmax, LayerNorm) is inner = 1: one running value per row;
 *   - reduced axes that are not one consecutive run (axes [0, 2] of a 3-D tensor), or an input that is
 *     a strided view (other than a plain transpose), are first permuted to the end and copied
 *     (blockLayout), which gives inner = 1.
 * Sums are accumulated in float64 (JavaScript numbers), whatever the dtype.
 */
import type { Tensor } from '../tensor.js';
import type { ReduceOp } from '../backend.js';
import { allocate } from '../dtype.js';
import type { TypedArray } from '../dtype.js';
import { transpose } from '../views.js';
import { contiguousData, cpuTensor } from './elementwise.js';
import { addRowsWasm } from './wasm/sum-rows-f32.js';

/** A tensor's values arranged as [outer, reduced, inner] row-major blocks. */
interface BlockLayout { data: TypedArray; outer: number; reduced: number; inner: number }

/**
 * Find [outer, R, inner] for reducing `axes` of `x`, copying only when there is no other way:
 *  1. x is contiguous and the reduced axes form one consecutive run: the storage already has the layout;
 *  2. x is a transposed contiguous tensor (x.T of a matrix, say): read it in memory order instead, if
 *     that keeps the reduced axes in one run and the kept axes in their order (so the result's order
 *     is unchanged). x.T.sum(1) then walks the storage like x.sum(0), with no copy;
 *  3. otherwise move the reduced axes to the end (a view) and take a contiguous copy: [kept…, reduced…].
 */
function blockLayout(x: Tensor, axes: number[]): BlockLayout {
  const direct = runLayout(x, axes);
  if (direct) return direct;
  const order = x.shape.map((_, k) => k).sort((a, b) => x.strides[b] - x.strides[a]); // largest stride first
  const keptInOrder = order.filter((k) => !axes.includes(k) && x.shape[k] !== 1);
  if (keptInOrder.every((k, i) => i === 0 || keptInOrder[i - 1] < k)) {
    const inMemoryOrder = runLayout(transpose(x, order), axes.map((a) => order.indexOf(a)));
    if (inMemoryOrder) return inMemoryOrder;
  }
  const kept = x.shape.map((_, k) => k).filter((k) => !axes.includes(k));
  const moved = transpose(x, [...kept, ...axes]);
  const sizeOfAxes = (list: number[]) => list.reduce((p, k) => p * x.shape[k], 1);
  return { data: contiguousData(moved), outer: sizeOfAxes(kept), reduced: sizeOfAxes(axes), inner: 1 };
}

/** The layout without a copy, when x is contiguous and its reduced axes (size-1 axes aside) are one run. */
function runLayout(x: Tensor, axes: readonly number[]): BlockLayout | null {
  if (!x.isContiguous()) return null;
  const dims = x.shape.map((d, k) => ({ d, reduced: axes.includes(k) })).filter(({ d }) => d !== 1);
  const first = dims.findIndex((a) => a.reduced);
  const last = dims.length - 1 - [...dims].reverse().findIndex((a) => a.reduced);
  const product = (from: number, to: number) => dims.slice(from, to).reduce((p, a) => p * a.d, 1);
  if (first === -1) return { data: contiguousData(x), outer: x.size, reduced: 1, inner: 1 };
  if (!dims.slice(first, last + 1).every((a) => a.reduced)) return null;
  return { data: contiguousData(x), outer: product(0, first), reduced: product(first, last + 1), inner: product(last + 1, dims.length) };
}

/** x's shape with the reduced axes kept as size 1: the shape every kernel here returns. */
function keptShape(x: Tensor, axes: readonly number[]): number[] {
  return x.shape.map((d, k) => (axes.includes(k) ? 1 : d));
}

/**
 * sum Σ x,  mean Σ x / R,  prod Π x,  max,  min   over `axes`.
 * max and min propagate NaN (as NumPy does): once an accumulator holds NaN it keeps it.
 * The caller (ops/reduce.ts) has already refused max/min over an empty axis.
 */
export function reduce(op: ReduceOp, x: Tensor, axes: number[]): Tensor {
  const { data, outer, reduced: R, inner } = blockLayout(x, axes);
  const out = allocate(x.dtype, outer * inner);
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    const base = o * R * inner;
    // Start from the identity of the op (max/min: from the first row, then fold the rest).
    let r = 0;
    if (op === 'max' || op === 'min') { for (let j = 0; j < inner; j++) acc[j] = data[base + j]; r = 1; }
    else acc.fill(op === 'prod' ? 1 : 0);
    // The switch sits outside the loops so that each loop is one tight, monomorphic line.
    switch (op) {
      case 'sum': case 'mean':
        if (!(data instanceof Float32Array && addRowsWasm(data, base, R, inner, acc))) addRows(data, base, R, inner, acc);
        break;
      case 'prod':
        for (; r < R; r++) { const row = base + r * inner; for (let j = 0; j < inner; j++) acc[j] *= data[row + j]; }
        break;
      case 'max':
        for (; r < R; r++) {
          const row = base + r * inner;
          for (let j = 0; j < inner; j++) { const v = data[row + j]; if (v > acc[j] || v !== v) acc[j] = v; }
        }
        break;
      case 'min':
        for (; r < R; r++) {
          const row = base + r * inner;
          for (let j = 0; j < inner; j++) { const v = data[row + j]; if (v < acc[j] || v !== v) acc[j] = v; }
        }
        break;
      default: throw new Error(`cpu: unknown reduce op '${op as string}'`);
    }
    const scale = op === 'mean' ? 1 / R : 1;
    for (let j = 0; j < inner; j++) out[o * inner + j] = op === 'mean' ? acc[j] * scale : acc[j];
  }
  return cpuTensor(out, keptShape(x, axes));
}

/**
 * acc[j] += data[base + r·inner + j] for every row r < R, in the order r = 0, 1, 2, … (so the sums are
 * bit for bit those of the one-row loop). Four rows per step: each acc[j] is read and written once per
 * four additions instead of once per addition, which took the bias gradient's sum over [32, 62, 62, 32]
 * from 5.6 to 2.2 ms (4 M floats, one-row loop against this one, same process). The additions into s stay
 * one chain, in row order; only the loads and stores of acc are saved.
 *
 * Float32 sums go first to the WebAssembly kernel (wasm/sum-rows-f32.ts: the same additions two columns
 * at a time, 1.2 ms on that sum); this loop is the fallback (no SIMD, GRADLAB_SUM=js) and the loop for
 * float64 and int32.
 */
function addRows(data: TypedArray, base: number, R: number, inner: number, acc: Float64Array): void {
  const i2 = 2 * inner, i3 = 3 * inner;
  let r = 0;
  for (; r + 4 <= R; r += 4) {
    for (let j = 0, k = base + r * inner; j < inner; j++, k++) {
      let s = acc[j];
      s += data[k]; s += data[k + inner]; s += data[k + i2]; s += data[k + i3];
      acc[j] = s;
    }
  }
  for (; r < R; r++) for (let j = 0, k = base + r * inner; j < inner; j++, k++) acc[j] += data[k];
}

/**
 * The position along `axis` of the largest (argmax) or smallest (argmin) value; ties go to the first
 * occurrence and a NaN counts as the extreme value (both as NumPy). int32, axis kept with size 1.
 */
export function argReduce(op: 'argmax' | 'argmin', x: Tensor, axis: number): Tensor {
  const { data, outer, reduced: R, inner } = blockLayout(x, [axis]);
  const out = new Int32Array(outer * inner);
  const best = new Float64Array(inner);
  const bestAt = new Int32Array(inner);
  const sign = op === 'argmax' ? 1 : -1; // argmin(x) is argmax(−x)
  for (let o = 0; o < outer; o++) {
    const base = o * R * inner;
    for (let j = 0; j < inner; j++) { best[j] = sign * data[base + j]; bestAt[j] = 0; }
    for (let r = 1; r < R; r++) {
      const row = base + r * inner;
      for (let j = 0; j < inner; j++) {
        const v = sign * data[row + j];
        // strict > keeps the first of equal values; a first NaN wins and is never displaced
        if (v > best[j] || (v !== v && best[j] === best[j])) { best[j] = v; bestAt[j] = r; }
      }
    }
    out.set(bestAt, o * inner);
  }
  return cpuTensor(out, keptShape(x, [axis]));
}

/**
 * Variance over `axes`, dividing by R − correction (correction 0: the biased/population variance).
 *
 * Two passes:  m = Σ x / R,  then  var = Σ (x − m)² / (R − correction).
 * Never E[x²] − E[x]²: with values near 1e4 both terms are near 1e8 and their difference, the
 * variance, is lost to rounding (catastrophic cancellation); the deviations x − m are small and exact.
 */
export function variance(x: Tensor, axes: number[], correction: number): Tensor {
  const { data, outer, reduced: R, inner } = blockLayout(x, axes);
  const out = allocate(x.dtype, outer * inner);
  const mean = new Float64Array(inner);
  const acc = new Float64Array(inner);
  const divisor = Math.max(R - correction, 0); // 0 gives NaN or Infinity, as NumPy does (with a warning)
  for (let o = 0; o < outer; o++) {
    const base = o * R * inner;
    mean.fill(0);
    if (!(data instanceof Float32Array && addRowsWasm(data, base, R, inner, mean))) addRows(data, base, R, inner, mean);
    for (let j = 0; j < inner; j++) mean[j] /= R;
    acc.fill(0);
    for (let r = 0; r < R; r++) {
      const row = base + r * inner;
      for (let j = 0; j < inner; j++) { const d = data[row + j] - mean[j]; acc[j] += d * d; }
    }
    for (let j = 0; j < inner; j++) out[o * inner + j] = acc[j] / divisor;
  }
  return cpuTensor(out, keptShape(x, axes));
}
