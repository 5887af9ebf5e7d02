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
 */
import type { DType, Storage, TypedArray } from '@gradlab/tensor';
import type { Texture } from 'gpu.js';
import type { Device } from './device.js';

/** One tile of device memory. */
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
  /** Device tiles, in order; empty for a float64 (host) storage and after dispose(). */
  private tiles: Tile[];
  /** The values on the host: the cached readback, or the only copy of a float64 storage. */
  private host: TypedArray | null;
  private disposed = false;
  /** Set for deferred storages until their values are uploaded. */
  private pendingUpload: ((data: TypedArray) => Tile[]) | null = null;
  private readonly holder: { device: Device; tiles: Tile[] };

  constructor(readonly device: Device, backend: string, dtype: DType, length: number, tiles: Tile[], host: TypedArray | null = null) {
    this.backend = backend;
    this.dtype = dtype;
    this.length = length;
    this.tiles = tiles;
    this.host = host;
    this.holder = { device, tiles };
    if (tiles.some((t) => !(t instanceof Float32Array))) finalizer.register(this, this.holder, this);
    device.liveStorages++;
    scopes[scopes.length - 1]?.add(this);
  }

  /** A float64 storage (or any values kept on the host only). */
  static onHost(device: Device, backend: string, data: TypedArray): GpuStorage {
    return new GpuStorage(device, backend, dtypeOfArray(data), data.length, [], data);
  }

  /**
   * float32 or int32 values that go to the device only when a kernel reads them as a texture (see
   * deviceTiles). Used for one-element tensors — the numbers in `x.mul(0.5)` — which the elementwise
   * kernels take as a uniform instead (hostValue), so most of them are never uploaded at all.
   */
  static deferred(device: Device, backend: string, data: TypedArray, upload: (data: TypedArray) => Tile[]): GpuStorage {
    const storage = new GpuStorage(device, backend, dtypeOfArray(data), data.length, [], data);
    storage.pendingUpload = upload;
    return storage;
  }

  /** True for float64 storages: their values live on the host and kernels must not read them. */
  get hostOnly(): boolean { return this.dtype === 'float64'; }

  /** The device tiles, for kernels to read (uploading deferred values first). Throws after dispose(). */
  deviceTiles(): Tile[] {
    if (this.disposed) throw new Error(`gpu: this tensor's storage (${this.length} elements) was disposed`);
    if (this.pendingUpload && this.host) {
      const tiles = this.pendingUpload(this.host);
      this.pendingUpload = null;
      this.tiles = tiles;
      this.holder.tiles = tiles;
      if (tiles.some((t) => !(t instanceof Float32Array))) finalizer.register(this, this.holder, this);
    }
    return this.tiles;
  }

  /** The value at `position` when it is known on the host without a download (a cached or deferred value); else null. */
  hostValue(position: number): number | null {
    return this.host && !this.disposed && this.dtype !== 'float64' ? this.host[position] : null;
  }

  /** Download (once) and return the flat buffer. int32 values come back as an Int32Array. */
  read(): TypedArray {
    if (this.host) return this.host;
    if (this.disposed) throw new Error(`gpu: cannot read a disposed storage (${this.length} elements)`);
    this.device.readbacks++;
    const flat = new Float32Array(this.length);
    let at = 0;
    for (const tile of this.tiles) {
      const values = tile instanceof Float32Array ? tile : (tile.toArray() as Float32Array);
      const n = Math.min(values.length, this.length - at);
      flat.set(n === values.length ? values : values.subarray(0, n), at);
      at += n;
    }
    this.host = this.dtype === 'int32' ? Int32Array.from(flat, Math.round) : flat;
    return this.host;
  }

  /** Free the textures now (and forget the cached readback). Safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.device.liveStorages--;
    finalizer.unregister(this);
    releaseTiles(this.device, this.tiles);
    this.pendingUpload = null;
    this.tiles = [];
    this.host = null;
  }

  get isDisposed(): boolean { return this.disposed; }
}

function dtypeOfArray(data: TypedArray): DType {
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  return 'float32';
}
