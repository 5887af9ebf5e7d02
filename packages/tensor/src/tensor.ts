/**
 * Tensor: an n-d array. Three numbers per axis describe it: its size (shape), how far to move in
 * storage for one step along it (strides), and where element (0,…,0) is (offset). The elements live
 * in a Storage: a typed array on the CPU (read through the `ndarray` package) or a buffer on a device.
 *
 * Tensors are immutable values: every op returns a new tensor (a view shares storage; a kernel's result
 * has fresh storage). The methods below are thin: each op lives with its family in ops/*.ts.
 */
import ndarray from 'ndarray';
import type { NdArray } from 'ndarray';
import type { DType, TypedArray } from './dtype.js';
import { isDType } from './dtype.js';
import type { Storage } from './storage.js';
import { CpuStorage } from './storage.js';
import { contiguousStrides, formatShape, sizeOf } from './shape.js';
import { getBackend } from './backend.js';
import * as views from './views.js';
import * as ew from './ops/elementwise.js';
import * as red from './ops/reduce.js';
import * as mm from './ops/matmul.js';

export type Scalar = number;
export type TensorLike = Tensor | number;

export class Tensor {
  readonly storage: Storage;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;

  constructor(storage: Storage, shape: readonly number[], strides?: readonly number[], offset = 0) {
    this.storage = storage;
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze(strides ? [...strides] : contiguousStrides(shape));
    this.offset = offset;
  }

  get dtype(): DType { return this.storage.dtype; }
  get rank(): number { return this.shape.length; }
  get size(): number { return sizeOf(this.shape); }
  /** Name of the backend holding the storage. */
  get backend(): string { return this.storage.backend; }

  /** True when the elements sit in row-major order with no gaps (strides are the contiguous ones). */
  isContiguous(): boolean {
    let expected = 1;
    for (let k = this.rank - 1; k >= 0; k--) {
      if (this.shape[k] !== 1 && this.strides[k] !== expected) return false;
      expected *= this.shape[k];
    }
    return true;
  }

  /** This tensor as an `ndarray` view (reads device storage back to the CPU first); pins the storage. */
  get nd(): NdArray<TypedArray> {
    const data = this.storage.read();
    this.storage.pin?.(); // the view is over the storage itself: keep it from recycling, as dataSync() does
    return ndarray(data, [...this.shape], [...this.strides], this.offset);
  }

  /**
   * The values in row-major order as a typed array. When the tensor is contiguous this is its own
   * storage (no copy): treat it as read-only. Use `toTypedArray()` for a private copy. The array is
   * pinned (Storage.pin): memory recycling never hands it to another tensor, so it keeps its values.
   */
  dataSync(): TypedArray {
    const { values, storage } = this.flatValues('dataSync()');
    storage.pin?.();
    return values;
  }

  /** The values in row-major order and the storage they are in (its own, or a contiguous copy's). */
  private flatValues(caller: string): { values: TypedArray; storage: Storage } {
    if (this.storage.pending) throw pendingReadError(this, caller);
    const t = this.isContiguous() && this.storage.backend === 'cpu' ? this : this.contiguousOn('cpu');
    const data = t.storage.read();
    return { values: t.offset === 0 && data.length === t.size ? data : data.subarray(t.offset, t.offset + t.size), storage: t.storage };
  }

  /**
   * dataSync() for the library's own kernels (joins, gathers, the LSTM's backward): the same values,
   * without pinning, so that a step's intermediate arrays are still recycled. Never hand its result to
   * user code.
   */
  valuesForKernel(): TypedArray { return this.flatValues('dataSync()').values; }

  /**
   * The values in row-major order, awaited (TF.js's name). Works on every storage: a synchronous one
   * resolves dataSync(); a storage whose values are still being computed on an asynchronous device
   * (GPU.js's async contract: webasm with threads, webgpu) is awaited with its `readAsync()`. Model
   * code that reads values this way runs unchanged on every backend and mode.
   */
  async data(): Promise<TypedArray> {
    if (!this.storage.readAsync) return this.dataSync();
    // Download the whole flat buffer (cached by the storage), then take this view's elements on the
    // host: a device-side contiguous copy would itself be pending and need another round trip.
    const flat = await this.storage.readAsync();
    return new Tensor(new CpuStorage(flat), this.shape, this.strides, this.offset).dataSync();
  }

  /** A fresh copy of the values in row-major order. */
  toTypedArray(): TypedArray { return this.flatValues('toTypedArray()').values.slice(); }

  /** The values as nested JavaScript arrays (a number for a scalar). */
  toArray(): unknown {
    const data = this.flatValues('toArray()').values;
    if (this.rank === 0) return data[0];
    const build = (axis: number, start: number): unknown[] => {
      const n = this.shape[axis];
      if (axis === this.rank - 1) return Array.from(data.subarray(start, start + n));
      const step = sizeOf(this.shape.slice(axis + 1));
      return Array.from({ length: n }, (_, i) => build(axis + 1, start + i * step));
    };
    return build(0, 0);
  }

  /** The single value of a tensor with one element. */
  item(): number {
    if (this.size !== 1) throw new Error(`item: tensor of shape ${formatShape(this.shape)} has ${this.size} elements, not 1`);
    return this.flatValues('item()').values[0];
  }

  /** One element, by its n-d index. */
  get(...index: number[]): number {
    if (index.length !== this.rank || index.some((i, k) => !Number.isInteger(i) || i < 0 || i >= this.shape[k])) {
      throw new Error(`get: index [${index.join(',')}] is out of range for shape ${formatShape(this.shape)}`);
    }
    let position = this.offset;
    for (let k = 0; k < this.rank; k++) position += index[k] * this.strides[k];
    return this.storage.read()[position];
  }

  // ---- copies -------------------------------------------------------------------------------------

  /** This tensor if already contiguous, else a contiguous copy. */
  contiguous(): Tensor { return this.isContiguous() ? this : getBackend(this.backend).copy(this); }
  /** Always a fresh contiguous copy. */
  clone(): Tensor { return getBackend(this.backend).copy(this); }
  /** A copy converted to another dtype (floats to int32 truncate toward zero). */
  astype(dtype: DType): Tensor {
    if (!isDType(dtype)) throw new Error(`astype: unknown dtype '${String(dtype)}' (gradlab has float32, float64, int32)`);
    return dtype === this.dtype ? this : getBackend(this.backend).copy(this, dtype);
  }
  /** A contiguous copy that lives on another backend. */
  contiguousOn(backend: string): Tensor {
    const target = getBackend(backend);
    const source = this.isContiguous() ? this : getBackend(this.backend).copy(this);
    const data = source.storage.read();
    const values = source.offset === 0 && data.length === source.size ? data : data.slice(source.offset, source.offset + source.size);
    return new Tensor(target.upload(values), this.shape);
  }

  // ---- views (views.ts) ---------------------------------------------------------------------------
  reshape(shape: readonly number[]): Tensor { return views.reshape(this, shape); }
  flatten(): Tensor { return views.reshape(this, [this.size]); }
  transpose(perm?: readonly number[]): Tensor { return views.transpose(this, perm); }
  /** Matrix transpose of the last two axes. */
  get T(): Tensor {
    const perm = this.shape.map((_, k) => k);
    if (this.rank >= 2) [perm[this.rank - 2], perm[this.rank - 1]] = [perm[this.rank - 1], perm[this.rank - 2]];
    return views.transpose(this, perm);
  }
  slice(specs: readonly views.SliceSpec[]): Tensor { return views.slice(this, specs); }
  squeeze(axes?: number | readonly number[]): Tensor { return views.squeeze(this, axes); }
  unsqueeze(axis: number): Tensor { return views.unsqueeze(this, axis); }
  broadcastTo(shape: readonly number[]): Tensor { return views.broadcastTo(this, shape); }
  expand(shape: readonly number[]): Tensor { return views.broadcastTo(this, shape); }

  // ---- elementwise (ops/elementwise.ts) -----------------------------------------------------------
  add(b: TensorLike): Tensor { return ew.add(this, b); }
  sub(b: TensorLike): Tensor { return ew.sub(this, b); }
  mul(b: TensorLike): Tensor { return ew.mul(this, b); }
  div(b: TensorLike): Tensor { return ew.div(this, b); }
  pow(b: TensorLike): Tensor { return ew.pow(this, b); }
  maximum(b: TensorLike): Tensor { return ew.maximum(this, b); }
  minimum(b: TensorLike): Tensor { return ew.minimum(this, b); }
  eq(b: TensorLike): Tensor { return ew.eq(this, b); }
  ne(b: TensorLike): Tensor { return ew.ne(this, b); }
  lt(b: TensorLike): Tensor { return ew.lt(this, b); }
  le(b: TensorLike): Tensor { return ew.le(this, b); }
  gt(b: TensorLike): Tensor { return ew.gt(this, b); }
  ge(b: TensorLike): Tensor { return ew.ge(this, b); }
  neg(): Tensor { return ew.neg(this); }
  exp(): Tensor { return ew.exp(this); }
  log(): Tensor { return ew.log(this); }
  sqrt(): Tensor { return ew.sqrt(this); }
  abs(): Tensor { return ew.abs(this); }
  tanh(): Tensor { return ew.tanh(this); }
  sigmoid(): Tensor { return ew.sigmoid(this); }
  relu(): Tensor { return ew.relu(this); }
  square(): Tensor { return ew.square(this); }
  sign(): Tensor { return ew.sign(this); }
  reciprocal(): Tensor { return ew.reciprocal(this); }
  softplus(): Tensor { return ew.softplus(this); }
  clip(min: number, max: number): Tensor { return ew.clip(this, min, max); }

  // ---- reductions (ops/reduce.ts) -----------------------------------------------------------------
  sum(axes?: number | readonly number[], keepDims = false): Tensor { return red.sum(this, axes, keepDims); }
  mean(axes?: number | readonly number[], keepDims = false): Tensor { return red.mean(this, axes, keepDims); }
  max(axes?: number | readonly number[], keepDims = false): Tensor { return red.max(this, axes, keepDims); }
  min(axes?: number | readonly number[], keepDims = false): Tensor { return red.min(this, axes, keepDims); }
  prod(axes?: number | readonly number[], keepDims = false): Tensor { return red.prod(this, axes, keepDims); }
  argmax(axis?: number, keepDims = false): Tensor { return red.argmax(this, axis, keepDims); }
  argmin(axis?: number, keepDims = false): Tensor { return red.argmin(this, axis, keepDims); }
  /** Variance dividing by N − correction (0: the biased/population variance, as BatchNorm uses). */
  variance(axes?: number | readonly number[], keepDims = false, correction = 0): Tensor {
    return red.variance(this, axes, keepDims, correction);
  }

  // ---- linear algebra (ops/matmul.ts) -------------------------------------------------------------
  matmul(b: Tensor): Tensor { return mm.matmul(this, b); }

  toString(): string {
    const body = this.size > 1000 ? `<${this.size} values>` : JSON.stringify(this.toArray());
    return `Tensor(${formatShape(this.shape)}, ${this.dtype}) ${body}`;
  }
}

/**
 * The error for a synchronous read of values that are still being computed. Under an asynchronous
 * device contract ops return their tensor at once and the kernels run later, so there is nothing to
 * return yet; waiting here would block the very event loop that delivers the result.
 */
function pendingReadError(x: Tensor, how: string): Error {
  const origin = x.storage.origin ? `the result of '${x.storage.origin}'` : 'this tensor';
  return new Error(`${how}: ${origin} (shape ${formatShape(x.shape)}, ${x.dtype}, backend '${x.backend}') is still being computed ` +
    `on an asynchronous device; read it with \`await tensor.data()\` instead`);
}
