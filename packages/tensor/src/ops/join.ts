/**
 * Joining and cutting: concat, stack, split, pad.
 *
 * concat, stack and pad build their result on the CPU (these are copies, not arithmetic) and hand it to
 * the backend of the first input, unless that backend has a kernel for them (IndexingKernels in
 * backend.ts: a device does, so the values need not come back to the host); split only makes views. The row-major picture behind concat: along
 * `axis`, a tensor of shape [...before, n, ...after] is `outer` = Π before blocks of n·inner values
 * (inner = Π after), one after another. The result's block o is input 0's block o, then input 1's
 * block o, and so on, so concat is a loop of block copies (TypedArray.set).
 */
import { Tensor } from '../tensor.js';
import { getBackend } from '../backend.js';
import { allocate, promoteTypes } from '../dtype.js';
import type { DType, TypedArray } from '../dtype.js';
import { checkShape, contiguousStrides, formatShape, normalizeAxis, shapesEqual, sizeOf } from '../shape.js';
import { slice, unsqueeze } from '../views.js';
import { copyStrided } from '../cpu/strided.js';

/** A fresh tensor holding `data`, on the same backend as `like`. */
function onBackendOf(like: Tensor, data: TypedArray, shape: readonly number[]): Tensor {
  return new Tensor(getBackend(like.backend).upload(data), shape);
}

/**
 * concat([a, b, …], axis): join along an existing axis; every other dimension must agree.
 * [2,3] and [2,5] along axis 1 give [2,8]. dtypes promote (int32 < float32 < float64).
 */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new Error('concat: needs at least one tensor');
  const first = tensors[0];
  if (first.rank === 0) throw new Error('concat: cannot concatenate scalars (shape []); use stack');
  const a = normalizeAxis('concat', axis, first.rank);
  tensors.forEach((t, i) => {
    if (t.rank !== first.rank || t.shape.some((d, k) => k !== a && d !== first.shape[k])) {
      const pattern = first.shape.map((d, k) => (k === a ? '*' : String(d))).join(',');
      throw new Error(`concat: tensor ${i} has shape ${formatShape(t.shape)}, expected [${pattern}] ` +
        `matching ${formatShape(first.shape)} except on axis ${a}`);
    }
  });
  const outShape = [...first.shape];
  outShape[a] = tensors.reduce((n, t) => n + t.shape[a], 0);
  const dtype = tensors.map((t) => t.dtype).reduce(promoteTypes);
  const backend = getBackend(first.backend);
  if (backend.concat && dtype !== 'float64') return backend.concat(tensors, a, outShape, dtype);
  const out = allocate(dtype, sizeOf(outShape));
  const outer = sizeOf(first.shape.slice(0, a));
  const inner = sizeOf(first.shape.slice(a + 1));
  const outBlock = outShape[a] * inner;
  let start = 0; // where this input's part of each output block begins
  for (const t of tensors) {
    const data = t.valuesForKernel();
    const block = t.shape[a] * inner;
    for (let o = 0; o < outer; o++) out.set(data.subarray(o * block, (o + 1) * block), o * outBlock + start);
    start += block;
  }
  return onBackendOf(first, out, outShape);
}

/**
 * stack([a, b, …], axis): join along a new axis; every shape must be the same.
 * Three [2,3] tensors stacked on axis 0 give [3,2,3]; on axis -1, [2,3,3]. (concat of unsqueezed views.)
 */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new Error('stack: needs at least one tensor');
  const first = tensors[0];
  tensors.forEach((t, i) => {
    if (!shapesEqual(t.shape, first.shape)) {
      throw new Error(`stack: tensor ${i} has shape ${formatShape(t.shape)}, expected ${formatShape(first.shape)} like tensor 0`);
    }
  });
  const a = normalizeAxis('stack', axis, first.rank + 1);
  return concat(tensors.map((t) => unsqueeze(t, a)), a);
}

/**
 * split(x, n, axis): n equal parts (the axis size must divide by n).
 * split(x, [s0, s1, …], axis): parts of those sizes, which must add up to the axis size; one size may
 * be -1 and takes what is left. The parts are views of x: nothing is copied.
 */
export function split(x: Tensor, sizesOrCount: number | readonly number[], axis = 0): Tensor[] {
  const a = normalizeAxis('split', axis, x.rank);
  if (x.rank === 0) throw new Error('split: cannot split a scalar (shape [])');
  const dim = x.shape[a];
  let sizes: number[];
  if (typeof sizesOrCount === 'number') {
    const n = sizesOrCount;
    if (!Number.isInteger(n) || n <= 0 || dim % n !== 0) {
      throw new Error(`split: axis ${a} of shape ${formatShape(x.shape)} has size ${dim}, which does not split into ${n} equal parts`);
    }
    sizes = new Array<number>(n).fill(dim / n);
  } else {
    sizes = [...sizesOrCount];
    const unknown = sizes.indexOf(-1);
    if (unknown !== -1 && sizes.indexOf(-1, unknown + 1) === -1) {
      sizes[unknown] = dim - sizes.reduce((s, v, i) => (i === unknown ? s : s + v), 0);
    }
    if (sizes.some((s) => !Number.isInteger(s) || s < 0) || sizes.reduce((s, v) => s + v, 0) !== dim) {
      throw new Error(`split: sizes [${sizesOrCount.join(',')}] do not add up to size ${dim} of axis ${a} of shape ${formatShape(x.shape)}`);
    }
  }
  const parts: Tensor[] = [];
  let start = 0;
  for (const s of sizes) {
    const specs = x.shape.map((_, k) => (k === a ? ([start, start + s] as const) : null));
    parts.push(slice(x, specs));
    start += s;
  }
  return parts;
}

/**
 * pad(x, [[before0, after0], [before1, after1], …], value): surround x with `value`, adding before_k
 * and after_k elements on axis k. Output dimension k is before_k + x.shape[k] + after_k.
 */
export function pad(x: Tensor, paddings: readonly (readonly [number, number])[], value = 0): Tensor {
  if (paddings.length !== x.rank) {
    throw new Error(`pad: ${paddings.length} paddings for a tensor of shape ${formatShape(x.shape)} (rank ${x.rank}); give one [before, after] per axis`);
  }
  const flat = paddings.flat();
  if (flat.some((p) => !Number.isInteger(p) || p < 0)) {
    throw new Error(`pad: paddings ${JSON.stringify(paddings)} must be non-negative integers (shape ${formatShape(x.shape)})`);
  }
  const outShape = x.shape.map((d, k) => paddings[k][0] + d + paddings[k][1]);
  checkShape('pad', outShape);
  const dtype: DType = x.dtype === 'int32' && !Number.isInteger(value) ? 'float32' : x.dtype;
  const backend = getBackend(x.backend);
  if (backend.pad && dtype !== 'float64' && x.rank > 0) {
    return backend.pad(x, paddings.map(([before, after]): [number, number] => [before, after]), value, outShape, dtype);
  }
  const out = allocate(dtype, sizeOf(outShape));
  if (value !== 0) out.fill(value);
  if (x.rank === 0) {
    out[0] = x.item();
  } else if (x.size > 0) {
    // The interior of the output is a view: it starts at `before` on every axis and spans x.shape.
    const strides = contiguousStrides(outShape);
    const offset = paddings.reduce((sum, [before], k) => sum + before * strides[k], 0);
    copyStrided(x.shape, { data: out, strides, offset }, { data: x.valuesForKernel(), strides: contiguousStrides(x.shape), offset: 0 });
  }
  return onBackendOf(x, out, outShape);
}
