/**
 * GpuStorage: a tensor's elements on the device.
 *
 * The flat buffer is cut into tiles of at most `device.tileElements` elements (one tile unless the
 * tensor is bigger than a texture can hold). In the GL modes each tile is a GPU.js Texture: the
 * values live in GPU memory and kernels read them there. In the webasm and cpu modes a tile is a
 * Float32Array. Either way the values come back to JavaScript only when `read()` is called, and
 * that readback is cached: a tensor is immutable, so the cache never goes stale.
 *
 * The device is single precision: float32 and int32 are both stored as float32 (an int32 is exact
 * up to 2²⁴ in a float32). float64 never goes to the device: a float64 tensor of the gpu backend
 * keeps its Float64Array on the host, and its ops run on the CPU kernels (see host.ts).
 *
 * Pending storages (GPU.js's async contract, device.async). There a kernel call returns a Promise,
 * so an op cannot hand back tiles, only the promise of them: the storage is *pending* until it
 * settles. Ops still return their tensors at once, and the next kernel awaits its inputs inside the
 * backend (program.ts), so a chain of ops runs as its inputs resolve. What changes is reading:
 * `read()` throws on a pending storage (nothing to return yet, and blocking would stall the event loop
 * that delivers the result), `readAsync()` awaits it. Freeing must wait too: `dispose()` marks the
 * storage, and the tiles are deleted once it has settled and no queued kernel still reads it (`refs`).
 */
import type { DType, Storage, TypedArray } from '@gradlab/tensor';
import type { Texture } from 'gpu.js';
import type { Device } from './device.js';

/**
 * One tile of device memory. (webgpu's WebGPUBufferResult behaves as a Texture here: it has
 * `delete()`, `output` and `toArray()`, the last returning a Promise.)
 */
export type Tile = Texture | Float32Array;

/** Frees textures whose storage the garbage collector found unreachable and nobody disposed. */
const finalizer = new FinalizationRegistry<{ device: Device; tiles: Tile[] }>(({ device, tiles }) => releaseTiles(device, tiles));

function releaseTiles(device: Device, tiles: Tile[]): void {
  for (const tile of tiles) {
    if (!(tile instanceof Float32Array)) {
      tile.delete();
      device.liveTextures--;
    }
  }
  tiles.length = 0;
}

/** Storages created inside a tidy() scope, innermost scope last (see tidy.ts). */
export const scopes: Set<GpuStorage>[] = [];

export class GpuStorage implements Storage {
  readonly backend: string;
  readonly dtype: DType;
  readonly length: number;
  /** The op that made the values (program.ts sets it to e.g. "matmul → [4,8]"), for error messages. */
  origin = 'upload';
  /** Device tiles, in order; empty for a float64 (host) storage, while pending, and after it is freed. */
  private tiles: Tile[];
  /** The values on the host: the cached readback, or the only copy of a float64 storage. */
  private host: TypedArray | null;
  private disposed = false;
  /** Set for deferred storages until their values are uploaded. */
  private pendingUpload: ((data: TypedArray) => Tile[] | Promise<Tile[]>) | null = null;
  private readonly holder: { device: Device; tiles: Tile[] };
  /** While the kernel that computes the tiles runs (async contract): the promise of them. */
  private work: Promise<Tile[]> | null = null;
  /** Why that kernel failed, if it did: every later use rethrows it. */
  private failure: unknown = undefined;
  /** Kernels queued that will read these tiles (and readAsync calls): the tiles live until they have. */
  private refs = 0;
  private freed = false;

  constructor(readonly device: Device, backend: string, dtype: DType, length: number, tiles: Tile[] | Promise<Tile[]>, host: TypedArray | null = null) {
    this.backend = backend;
    this.dtype = dtype;
    this.length = length;
    this.tiles = [];
    this.host = host;
    this.holder = { device, tiles: this.tiles };
    device.liveStorages++;
    scopes[scopes.length - 1]?.add(this);
    if (Array.isArray(tiles)) this.setTiles(tiles);
    else this.await(tiles);
  }

  private setTiles(tiles: Tile[]): void {
    this.tiles = tiles;
    this.holder.tiles = tiles;
    if (tiles.some((t) => !(t instanceof Float32Array))) finalizer.register(this, this.holder, this);
  }

  /** Become pending on `promise`; settle into its tiles (or its failure), then free if disposed meanwhile. */
  private await(promise: Promise<Tile[]>): void {
    const work: Promise<Tile[]> = promise.then(
      (tiles) => {
        this.work = null;
        this.setTiles(tiles);
        this.freeIfUnused();
        return tiles;
      },
      (error: unknown) => {
        this.work = null;
        this.failure = error;
        this.freeIfUnused();
        throw error;
      });
    this.work = work;
    // Mark the rejection handled: a failed tensor nobody reads must not crash the process (Node
    // aborts on unhandled rejections); whoever reads it gets the error from tilesAsync/readAsync.
    work.catch(() => undefined);
    this.device.inFlight.add(work);
    void work.finally(() => this.device.inFlight.delete(work)).catch(() => undefined);
  }

  /** True while the values are still being computed (async contract): read() would throw. */
  get pending(): boolean { return this.work !== null; }

  /** A float64 storage (or any values kept on the host only). */
  static onHost(device: Device, backend: string, data: TypedArray): GpuStorage {
    return new GpuStorage(device, backend, dtypeOfArray(data), data.length, [], data);
  }

  /**
   * float32 or int32 values that go to the device only when a kernel reads them as a texture (see
   * deviceTiles). Used for one-element tensors — the numbers in `x.mul(0.5)` — which the elementwise
   * kernels take as a uniform instead (hostValue), so most of them are never uploaded at all.
   */
  static deferred(device: Device, backend: string, data: TypedArray, upload: (data: TypedArray) => Tile[] | Promise<Tile[]>): GpuStorage {
    const storage = new GpuStorage(device, backend, dtypeOfArray(data), data.length, [], data);
    storage.pendingUpload = upload;
    return storage;
  }

  /** True for float64 storages: their values live on the host and kernels must not read them. */
  get hostOnly(): boolean { return this.dtype === 'float64'; }

  /** How many tiles the values take on the device: known from the length, even while pending. */
  get tileCount(): number {
    return this.hostOnly ? 0 : Math.ceil(this.length / this.device.tileElements);
  }

  /**
   * The device tiles, for kernels to read (uploading deferred values first). Throws after dispose(),
   * and on a pending storage: kernels of an async device read their inputs with tilesAsync().
   */
  deviceTiles(): Tile[] {
    this.checkUsable('read by a kernel');
    if (this.work) throw new Error(`gpu: internal: the result of '${this.origin}' is pending; an async device's kernels must await tilesAsync()`);
    if (this.pendingUpload && this.host) {
      const tiles = this.pendingUpload(this.host);
      this.pendingUpload = null;
      if (!Array.isArray(tiles)) throw new Error('gpu: internal: an asynchronous upload on a synchronous path');
      this.setTiles(tiles);
    }
    return this.tiles;
  }

  /** The device tiles once they exist (async contract): waits for a pending kernel or upload. */
  async tilesAsync(): Promise<Tile[]> {
    this.checkUsable('read by a kernel');
    if (this.pendingUpload && this.host) {
      const tiles = this.pendingUpload(this.host);
      this.pendingUpload = null;
      if (Array.isArray(tiles)) this.setTiles(tiles);
      else this.await(tiles);
    }
    if (this.work) return this.work;
    if (this.failure !== undefined) throw this.failure;
    return this.tiles;
  }

  /**
   * A kernel that will read these tiles later (async contract) holds them with retain() when it is
   * queued and lets go with release() when it has read them; dispose() frees only after that.
   */
  retain(): void {
    this.checkUsable('read by a kernel');
    this.refs++;
  }

  release(): void {
    this.refs--;
    this.freeIfUnused();
  }

  private checkUsable(what: string): void {
    if (this.disposed) throw new Error(`gpu: the result of '${this.origin}' (${this.length} elements) was disposed and cannot be ${what}`);
  }

  /** The value at `position` when it is known on the host without a download (a cached or deferred value); else null. */
  hostValue(position: number): number | null {
    return this.host && !this.disposed && this.dtype !== 'float64' ? this.host[position] : null;
  }

  /** Download (once) and return the flat buffer. int32 values come back as an Int32Array. */
  read(): TypedArray {
    if (this.host) return this.host;
    this.checkUsable('read');
    if (this.work) {
      throw new Error(`gpu: the result of '${this.origin}' (${this.length} elements) is still being computed under GPU.js's ` +
        `async contract (mode '${this.device.label}'); read it with \`await tensor.data()\`, not dataSync() or item()`);
    }
    if (this.failure !== undefined) throw this.failure;
    const values = this.tiles.map((tile) => (tile instanceof Float32Array ? tile : tile.toArray() as Float32Array | Promise<Float32Array>));
    if (values.some((v) => v instanceof Promise)) {
      throw new Error(`gpu: the result of '${this.origin}' (${this.length} elements) is in WebGPU buffers (mode '${this.device.label}'), ` +
        'which are read back only asynchronously; read it with `await tensor.data()`, not dataSync() or item()');
    }
    return this.download(values as Float32Array[]);
  }

  /**
   * The flat buffer, awaited: waits for a pending kernel, then downloads (once, cached). Under the
   * async contract a tile's toArray() may itself return a Promise (webgpu's buffer readback).
   */
  async readAsync(): Promise<TypedArray> {
    if (this.host) return this.host;
    this.retain();           // the tiles must outlive a dispose() that comes while we wait
    try {
      const tiles = await this.tilesAsync();
      if (this.host) return this.host;     // another readAsync got there first
      const values = await Promise.all(tiles.map((tile) => (tile instanceof Float32Array ? tile : (tile.toArray() as Float32Array | Promise<Float32Array>))));
      return this.host ?? this.download(values);
    } finally {
      this.release();
    }
  }

  /** Join the tiles' values into the flat buffer and cache it. */
  private download(values: Float32Array[]): TypedArray {
    this.device.readbacks++;
    const flat = new Float32Array(this.length);
    let at = 0;
    for (const v of values) {
      const n = Math.min(v.length, this.length - at);
      flat.set(n === v.length ? v : v.subarray(0, n), at);
      at += n;
    }
    const host = this.dtype === 'int32' ? Int32Array.from(flat, Math.round) : flat;
    // A dispose() while a readAsync waited keeps the storage unreadable: return, but do not cache.
    if (!this.disposed) this.host = host;
    return host;
  }

  /**
   * Free the textures now (and forget the cached readback). Safe to call twice. Under the async
   * contract the freeing waits until the storage has settled and no queued kernel still reads it;
   * Device.settle() waits for that.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pendingUpload = null;
    this.host = null;
    this.freeIfUnused();
  }

  private freeIfUnused(): void {
    if (!this.disposed || this.freed || this.work !== null || this.refs > 0) return;
    this.freed = true;
    this.device.liveStorages--;
    finalizer.unregister(this);
    releaseTiles(this.device, this.tiles);
    this.tiles = [];
  }

  get isDisposed(): boolean { return this.disposed; }
}

function dtypeOfArray(data: TypedArray): DType {
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  return 'float32';
}
