/**
 * Indexing with tensors of indices: gather (and its PyTorch name indexSelect), its adjoint scatterAdd,
 * and oneHot. These move values rather than compute with them, so they run on the CPU and hand the result
 * to the input's backend, unless that backend has a kernel for them (IndexingKernels in backend.ts). Then
 * indices that live on the host are checked here as always, and indices on the device are left to
 * the kernel (reading them back to check them would cost what the kernel saves).
 *
 * The row-major picture: around `axis`, x of shape [...before, D, ...after] is `outer` = Π before blocks,
 * each D rows of `inner` = Π after values. gather picks rows of each block; scatterAdd adds rows back.
 */
import { Tensor } from '../tensor.js';
import { getBackend } from '../backend.js';
import { allocate, isDType } from '../dtype.js';
import type { DType, TypedArray } from '../dtype.js';
import { formatShape, normalizeAxis, shapesEqual, sizeOf } from '../shape.js';

/** A fresh tensor holding `data`, on the same backend as `like`. */
function onBackendOf(like: Tensor, data: TypedArray, shape: readonly number[]): Tensor {
  return new Tensor(getBackend(like.backend).upload(data), shape);
}

/**
 * The values of an index tensor, checked: each must be an integer in [0, size). int32 is the index dtype,
 * but float tensors holding whole numbers are accepted (labels often arrive as floats).
 */
function readIndices(op: string, indices: Tensor, size: number, range: string): TypedArray {
  const values = indices.valuesForKernel();
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v)) throw new Error(`${op}: index ${v} is not an integer (indices ${formatShape(indices.shape)}, ${indices.dtype})`);
    if (v < 0 || v >= size) throw new Error(`${op}: index ${v} is out of range for ${range}`);
  }
  return values;
}

/** [outer, D, inner] around `axis` (see the comment at the top). */
function around(shape: readonly number[], axis: number): { outer: number; dim: number; inner: number } {
  return { outer: sizeOf(shape.slice(0, axis)), dim: shape[axis], inner: sizeOf(shape.slice(axis + 1)) };
}

/**
 * gather(x, indices, axis):  out[i…, j…, k…] = x[i…, indices[j…], k…]
 * out shape = x.shape[:axis] + indices.shape + x.shape[axis+1:]   (TensorFlow's gather; an Embedding
 * layer is gather(table, tokenIds, 0)). Its gradient with respect to x is scatterAdd of the upstream
 * gradient into zeros of x's shape.
 */
export function gather(x: Tensor, indices: Tensor, axis = 0): Tensor {
  if (x.rank === 0) throw new Error('gather: cannot gather from a scalar (shape [])');
  const a = normalizeAxis('gather', axis, x.rank);
  const { outer, dim, inner } = around(x.shape, a);
  const outShape = [...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)];
  const backend = getBackend(x.backend);
  if (backend.gather && x.dtype !== 'float64' && indices.dtype !== 'float64') {
    if (indices.backend === 'cpu') readIndices('gather', indices, dim, `axis ${a} of size ${dim}`);
    return backend.gather(x, indices, a, outShape);
  }
  const idx = readIndices('gather', indices, dim, `axis ${a} of size ${dim}`);
  const n = idx.length;
  const data = x.valuesForKernel();
  const out = allocate(x.dtype, sizeOf(outShape));
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < n; k++) {
      const from = (o * dim + idx[k]) * inner;
      // A row is `inner` consecutive values: one block copy (an embedding row of 300 floats is a memcpy).
      out.set(data.subarray(from, from + inner), (o * n + k) * inner);
    }
  }
  return onBackendOf(x, out, outShape);
}

/** indexSelect(x, axis, indices): PyTorch's name for gather with 1-D indices (note the argument order). */
export function indexSelect(x: Tensor, axis: number, indices: Tensor): Tensor {
  if (indices.rank !== 1) throw new Error(`indexSelect: indices must be 1-D, got shape ${formatShape(indices.shape)}`);
  return gather(x, indices, axis);
}

/**
 * scatterAdd(shape, indices, updates, axis): zeros of `shape`, then  out[i…, indices[j…], k…] += updates[i…, j…, k…].
 * updates has gather's output shape: shape[:axis] + indices.shape + shape[axis+1:]. Repeated indices
 * accumulate. This is the adjoint (transpose) of gather: for every x and y of matching shapes,
 *   ⟨gather(x, idx), y⟩ = ⟨x, scatterAdd(x.shape, idx, y)⟩,
 * which is exactly why gather's backward pass is a scatterAdd. Sums are accumulated in float64.
 */
export function scatterAdd(shape: readonly number[], indices: Tensor, updates: Tensor, axis = 0): Tensor {
  if (shape.length === 0) throw new Error('scatterAdd: cannot scatter into a scalar (shape [])');
  const a = normalizeAxis('scatterAdd', axis, shape.length);
  const expected = [...shape.slice(0, a), ...indices.shape, ...shape.slice(a + 1)];
  if (!shapesEqual(updates.shape, expected)) {
    throw new Error(`scatterAdd: updates have shape ${formatShape(updates.shape)}, expected ${formatShape(expected)} ` +
      `(shape ${formatShape(shape)} with axis ${a} replaced by indices ${formatShape(indices.shape)})`);
  }
  const { outer, dim, inner } = around(shape, a);
  const backend = getBackend(updates.backend);
  if (backend.scatterAdd && updates.dtype !== 'float64' && indices.dtype !== 'float64') {
    if (indices.backend === 'cpu') readIndices('scatterAdd', indices, dim, `axis ${a} of size ${dim}`);
    return backend.scatterAdd([...shape], indices, updates, a);
  }
  const idx = readIndices('scatterAdd', indices, dim, `axis ${a} of size ${dim}`);
  const n = idx.length;
  const data = updates.valuesForKernel();
  // Positions grouped by the row they add to (a counting sort): for row d, order[start[d] .. start[d+1])
  // are the k with idx[k] = d. Then each row's sums are made in one float64 scratch row and stored once,
  // and rows nobody names stay zero without being visited — an embedding table's gradient has 20,000
  // rows, of which a batch touches a few thousand.
  const start = new Int32Array(dim + 1);
  for (let k = 0; k < n; k++) start[idx[k] + 1]++;
  for (let d = 0; d < dim; d++) start[d + 1] += start[d];
  const order = new Int32Array(n);
  const next = start.slice(0, dim);
  for (let k = 0; k < n; k++) order[next[idx[k]]++] = k;
  const out = allocate(updates.dtype, sizeOf(shape));
  const sum = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    for (let d = 0; d < dim; d++) {
      if (start[d] === start[d + 1]) continue;
      sum.fill(0);
      for (let q = start[d]; q < start[d + 1]; q++) {
        const from = (o * n + order[q]) * inner;
        for (let j = 0; j < inner; j++) sum[j] += data[from + j];
      }
      out.set(sum, (o * dim + d) * inner);
    }
  }
  return onBackendOf(updates, out, shape);
}

/**
 * oneHot(indices, depth): out[…, c] = 1 if indices[…] = c else 0.   Shape indices.shape + [depth].
 * sparse_categorical_crossentropy's labels become categorical_crossentropy's targets this way.
 */
export function oneHot(indices: Tensor, depth: number, dtype: DType = 'float32'): Tensor {
  if (!Number.isInteger(depth) || depth < 0) throw new Error(`oneHot: depth must be a non-negative integer, got ${depth}`);
  if (!isDType(dtype)) throw new Error(`oneHot: unknown dtype '${dtype as string}'`);
  const backend = getBackend(indices.backend);
  if (backend.oneHot && dtype !== 'float64' && indices.dtype !== 'float64') {
    if (indices.backend === 'cpu') readIndices('oneHot', indices, depth, `depth ${depth}`);
    return backend.oneHot(indices, depth, dtype);
  }
  const idx = readIndices('oneHot', indices, depth, `depth ${depth}`);
  const out = allocate(dtype, idx.length * depth);
  for (let i = 0; i < idx.length; i++) out[i * depth + idx[i]] = 1;
  return onBackendOf(indices, out, [...indices.shape, depth]);
}
