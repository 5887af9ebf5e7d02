/**
 * What every kernel family needs: the device, the backend's registered name, and the moves between
 * host and device that keep mixed inputs working (a cpu tensor handed to the gpu backend is
 * uploaded; a float64 tensor stays on the host).
 */
import { CpuStorage, Tensor, shapesEqual } from '@gradlab/tensor';
import type { DType, TypedArray } from '@gradlab/tensor';
import type { Device } from './device.js';
import { ASYNC_ONLY_MODES } from './device.js';
import { GpuStorage } from './storage.js';
import { runKernel, uploadTiles } from './program.js';
import type { KernelCall } from './program.js';

export interface GpuContext {
  readonly device: Device;
  /** The name this backend is registered under ('gpu'): every storage it makes carries it. */
  readonly name: string;
}

/**
 * Host values as device storage (float64 stays on the host: the device is single precision). A single
 * value is uploaded only if a kernel needs it as a texture: elementwise kernels take it as a uniform.
 */
export function upload(ctx: GpuContext, data: TypedArray): GpuStorage {
  if (data instanceof Float64Array) return GpuStorage.onHost(ctx.device, ctx.name, data);
  if (data.length === 1) return GpuStorage.deferred(ctx.device, ctx.name, data.slice(), (values) => uploadTiles(ctx.device, values));
  const dtype: DType = data instanceof Int32Array ? 'int32' : 'float32';
  // WebGPU buffers are read back only asynchronously: an uploaded tensor keeps a copy of its values,
  // so that dataSync() of what came from the host (a batch, its labels) still answers, as everywhere else.
  const host = ASYNC_ONLY_MODES.has(ctx.device.mode) ? (dtype === 'int32' ? Int32Array.from(data) : Float32Array.from(data)) : null;
  return new GpuStorage(ctx.device, ctx.name, dtype, data.length, uploadTiles(ctx.device, data), host);
}

/** `x` itself when its storage is this device's, else its values uploaded (same shape, contiguous). */
export function onDevice(ctx: GpuContext, x: Tensor): Tensor {
  if (x.storage instanceof GpuStorage && x.storage.device === ctx.device) return x;
  return new Tensor(upload(ctx, x.contiguousOn('cpu').storage.read()), x.shape);
}

/** The GpuStorage of a tensor already on this device. */
export function storageOf(x: Tensor): GpuStorage {
  return x.storage as GpuStorage;
}

/** Run a kernel (program.ts) and wrap its output as a contiguous tensor of `shape`. */
export function launch(ctx: GpuContext, dtype: DType, shape: readonly number[], call: Omit<KernelCall, 'size'>): Tensor {
  const size = shape.reduce((p, d) => p * d, 1);
  const storage = runKernel(ctx.device, ctx.name, dtype, { ...call, size });
  storage.origin = `${call.op} → [${shape.join(',')}]`;
  return new Tensor(storage, shape);
}

/** A CPU view of `x` (same shape, strides and offset) over its downloaded values. */
export function toHost(x: Tensor): Tensor {
  return new Tensor(new CpuStorage(x.storage.read()), x.shape, x.strides, x.offset);
}

/** Bring a CPU kernel's result back: float64 stays on the host, the rest is uploaded. */
export function fromHost(ctx: GpuContext, y: Tensor): Tensor {
  const contiguous = y.isContiguous() && y.offset === 0 && y.storage.length === y.size ? y : y.contiguousOn('cpu');
  return new Tensor(upload(ctx, contiguous.storage.read()), y.shape);
}

/** True when every dimension of `x` is read in row-major order from offset `x.offset`. */
export function isPlain(x: Tensor, shape: readonly number[]): boolean {
  return x.isContiguous() && shapesEqual(x.shape, shape);
}
