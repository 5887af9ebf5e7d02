import type { DType, TypedArray } from './dtype.js';
import { dtypeOf } from './dtype.js';
import { noteStorage, recycleDisposed } from './recycling.js';

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
  /**
   * Free device memory now rather than when the garbage collector gets to it. `why` (optional) is told
   * to whoever reads the storage afterwards.
   */
  dispose(why?: string): void;
  /**
   * Mark the values as handed to user code (`dataSync()` returns the array itself, `stateDict()` the
   * tensor): from then on the array is never recycled or disposed, so what the user holds keeps its values.
   */
  pin?(): void;
}

export class CpuStorage implements Storage {
  readonly backend = 'cpu';
  readonly dtype: DType;
  /** Set when the step that made this storage recycled its array (recycling.ts): who did, for the error. */
  private recycledBy: string | null = null;
  /** Set when dispose() gave the array back: why, for the error. */
  private disposedBecause: string | null = null;
  /** Set by pin(): the array was handed out, so it is never recycled (recycling.ts) or disposed. */
  pinned = false;
  constructor(private readonly array: TypedArray) {
    this.dtype = dtypeOf(array);
    noteStorage(this);
  }
  /** The flat buffer; throws once its array has been recycled for another tensor. */
  get data(): TypedArray {
    if (this.disposedBecause !== null) throw new Error(`this tensor's memory was disposed (${this.disposedBecause}) and may hold another tensor's values now`);
    if (this.recycledBy !== null) {
      throw new Error(`this tensor's memory was recycled at the end of ${this.recycledBy}, which made it: a tensor made ` +
        'inside a training or inference step is not kept past the step unless it is returned (or is a weight, a ' +
        "gradient or an optimizer's state). Copy its values out inside the step (tensor.toTypedArray()), or turn " +
        'recycling off with setBufferRecycling(false)');
    }
    return this.array;
  }
  get length(): number { return this.array.length; }
  read(): TypedArray { return this.data; }
  /** Give the array back for reuse (only an array `allocate` made); reading this storage afterwards throws, saying `why`. */
  dispose(why = 'storage.dispose()'): void {
    if (this.pinned || this.recycledBy !== null || this.disposedBecause !== null) return;
    if (recycleDisposed(this.array)) this.disposedBecause = why;
  }
  /** The array even after recycling (recycling.ts compares buffers with it); never read values through it. */
  unsafeArray(): TypedArray { return this.array; }
  markRecycled(owner: string): void { this.recycledBy = owner; }
  pin(): void { this.pinned = true; }
}
