import type { DType, TypedArray } from './dtype.js';
import { dtypeOf } from './dtype.js';

/**
 * Where a tensor's elements live. The CPU backend keeps them in a typed array (wrapped in an ndarray
 * view when a kernel wants one); a GPU backend keeps them in a texture and reads them back only when
 * somebody asks for the values. Views share one Storage.
 */
export interface Storage {
  /** Name of the backend that owns this memory ('cpu', 'gpu', …). */
  readonly backend: string;
  readonly dtype: DType;
  /** Number of elements in the flat buffer (not the tensor's size: a view may use fewer). */
  readonly length: number;
  /**
   * The flat buffer on the CPU; a device storage downloads it (and may cache the download). A storage
   * whose values are still being computed (an asynchronous device, see `pending`) throws instead:
   * its values can only be awaited, with `readAsync()` (or `await tensor.data()`).
   */
  read(): TypedArray;
  /**
   * The flat buffer, awaited. Optional: only storages that can be pending implement it (a gpu storage
   * under GPU.js's async contract); `Tensor.data()` falls back to `read()` when it is missing.
   */
  readAsync?(): Promise<TypedArray>;
  /** True while the values are still being computed, so that `read()` would throw. Absent means never. */
  readonly pending?: boolean;
  /** What made these values (an op's name), for error messages; optional. */
  readonly origin?: string;
  /** Free device memory now rather than when the garbage collector gets to it. */
  dispose(): void;
}

export class CpuStorage implements Storage {
  readonly backend = 'cpu';
  readonly dtype: DType;
  constructor(readonly data: TypedArray) { this.dtype = dtypeOf(data); }
  get length(): number { return this.data.length; }
  read(): TypedArray { return this.data; }
  dispose(): void { /* garbage-collected */ }
}
