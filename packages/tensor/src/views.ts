/**
 * Views: new shapes, strides and offsets over the same storage. Nothing here copies data, except
 * reshape of a non-contiguous tensor, which has to (and says so by calling contiguous()).
 */
import { Tensor } from './tensor.js';
import { checkShape, contiguousStrides, formatShape, normalizeAxes, normalizeAxis, sizeOf } from './shape.js';

/** Reshape; one dimension may be -1 and is inferred. Copies only when the data is not contiguous. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const target = [...shape];
  const unknown = target.indexOf(-1);
  if (unknown !== -1) {
    if (target.indexOf(-1, unknown + 1) !== -1) throw new Error(`reshape: more than one -1 in ${formatShape(shape)}`);
    const known = sizeOf(target.filter((_, k) => k !== unknown));
    if (known === 0 || x.size % known !== 0) {
      throw new Error(`reshape: cannot reshape ${formatShape(x.shape)} (${x.size} elements) to ${formatShape(shape)}`);
    }
    target[unknown] = x.size / known;
  }
  checkShape('reshape', target);
  if (sizeOf(target) !== x.size) {
    throw new Error(`reshape: cannot reshape ${formatShape(x.shape)} (${x.size} elements) to ${formatShape(shape)} (${sizeOf(target)} elements)`);
  }
  const source = x.isContiguous() ? x : x.contiguous();
  return new Tensor(source.storage, target, contiguousStrides(target), source.offset);
}

/** Permute the axes: result axis k is input axis perm[k]. Default: reverse them (a matrix transpose). */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const rank = x.rank;
  const order = perm ? perm.map((a) => normalizeAxis('transpose', a, rank)) : x.shape.map((_, k) => rank - 1 - k);
  if (order.length !== rank || new Set(order).size !== rank) {
    throw new Error(`transpose: permutation [${perm?.join(',')}] does not fit a tensor of shape ${formatShape(x.shape)}`);
  }
  return new Tensor(x.storage, order.map((a) => x.shape[a]), order.map((a) => x.strides[a]), x.offset);
}

/** One axis of a slice: an index (the axis is dropped), null (all of it) or [start, stop, step]. */
export type SliceSpec = number | null | readonly [start?: number | null, stop?: number | null, step?: number];

/**
 * NumPy-style basic slicing, x[a:b:c, i, :]. Negative starts and stops count from the end; a negative
 * step walks backwards (the stride becomes negative). Missing trailing specs mean "all".
 */
export function slice(x: Tensor, specs: readonly SliceSpec[]): Tensor {
  if (specs.length > x.rank) {
    throw new Error(`slice: ${specs.length} slice specs for a tensor of shape ${formatShape(x.shape)}`);
  }
  const shape: number[] = [];
  const strides: number[] = [];
  let offset = x.offset;
  for (let k = 0; k < x.rank; k++) {
    const dim = x.shape[k];
    const spec = k < specs.length ? specs[k] : null;
    if (typeof spec === 'number') {
      const i = spec < 0 ? spec + dim : spec;
      if (!Number.isInteger(i) || i < 0 || i >= dim) {
        throw new Error(`slice: index ${spec} is out of range for axis ${k} of size ${dim} (shape ${formatShape(x.shape)})`);
      }
      offset += i * x.strides[k];
      continue;
    }
    const [startArg, stopArg, stepArg] = spec ?? [];
    const step = stepArg ?? 1;
    if (!Number.isInteger(step) || step === 0) throw new Error(`slice: step must be a non-zero integer, got ${step}`);
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    const resolve = (v: number) => (v < 0 ? v + dim : v);
    let start: number, stop: number;
    if (step > 0) {
      start = startArg == null ? 0 : clamp(resolve(startArg), 0, dim);
      stop = stopArg == null ? dim : clamp(resolve(stopArg), 0, dim);
    } else {
      start = startArg == null ? dim - 1 : clamp(resolve(startArg), -1, dim - 1);
      stop = stopArg == null ? -1 : clamp(resolve(stopArg), -1, dim - 1);
    }
    const length = Math.max(0, Math.ceil((stop - start) / step));
    shape.push(length);
    strides.push(x.strides[k] * step);
    if (length > 0) offset += start * x.strides[k];
  }
  return new Tensor(x.storage, shape, strides, offset);
}

/** Drop axes of size 1 (all of them, or the ones named; naming an axis of another size throws). */
export function squeeze(x: Tensor, axes?: number | readonly number[]): Tensor {
  const drop = axes === undefined
    ? x.shape.map((d, k) => (d === 1 ? k : -1)).filter((k) => k >= 0)
    : normalizeAxes('squeeze', axes, x.rank);
  for (const a of drop) {
    if (x.shape[a] !== 1) throw new Error(`squeeze: axis ${a} of shape ${formatShape(x.shape)} has size ${x.shape[a]}, not 1`);
  }
  const keep = x.shape.map((_, k) => k).filter((k) => !drop.includes(k));
  return new Tensor(x.storage, keep.map((k) => x.shape[k]), keep.map((k) => x.strides[k]), x.offset);
}

/** Insert an axis of size 1 at `axis` (which may be rank, to append). */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normalizeAxis('unsqueeze', axis, x.rank + 1);
  const shape = [...x.shape];
  const strides = [...x.strides];
  shape.splice(a, 0, 1);
  strides.splice(a, 0, a < x.rank ? x.strides[a] * x.shape[a] : 1);
  return new Tensor(x.storage, shape, strides, x.offset);
}

/**
 * Broadcast to a larger shape without copying: new leading axes and axes of size 1 get stride 0.
 * (PyTorch calls this expand, NumPy broadcast_to.)
 */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  const lead = shape.length - x.rank;
  const fail = () => new Error(`broadcastTo: cannot broadcast ${formatShape(x.shape)} to ${formatShape(shape)}`);
  if (lead < 0) throw fail();
  const strides = new Array<number>(shape.length).fill(0);
  for (let k = 0; k < x.rank; k++) {
    const from = x.shape[k];
    const to = shape[k + lead];
    if (from === to) strides[k + lead] = x.strides[k];
    else if (from === 1) strides[k + lead] = 0;
    else throw fail();
  }
  return new Tensor(x.storage, [...shape], strides, x.offset);
}
