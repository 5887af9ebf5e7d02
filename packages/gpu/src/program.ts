/**
 * Running a kernel: from a few lines of kernel source to a GpuStorage holding its output.
 *
 * Every gradlab kernel has the same form: one GPU.js "thread" per output element. Thread number
 * `this.thread.x` computes element `o` of the flat (row-major) output, reading whatever inputs it
 * needs by their flat storage position. So a kernel family only writes the body — the statements
 * that compute and `return` element o — and this file does the rest:
 *
 *   - source: wraps the body in `function(inputs…, uniforms…) { const o = this.thread.x + start; … }`.
 *     Shapes and strides are written into the source as numbers (a GLSL compiler unrolls and folds
 *     them); view offsets, which change from call to call (a batch slice, say), are uniforms.
 *   - cache: one compiled kernel per distinct source, i.e. per op and shape. Compiling a shader costs
 *     tens of milliseconds or more; running it again costs one draw call.
 *   - tiles: an output with more elements than one texture holds (device.tileElements) is computed
 *     tile by tile, and an input spread over several tiles is read through a chain of ternaries
 *     that picks the tile a position falls in.
 */
import type { IGPUKernelSettings, IKernelRunShortcut, Texture } from 'gpu.js';
import type { DType } from '@gradlab/tensor';
import type { Device } from './device.js';
import { GpuStorage } from './storage.js';
import type { Tile } from './storage.js';

/** Writes the expression that reads input `name` at flat storage position `position`. */
export type Reader = (name: string, position: string) => string;

export interface KernelCall {
  /** A short name for the op, for the cache key and for error messages. */
  op: string;
  /** Everything written into the source as a number (shapes, strides, flags), as a string. */
  key: string;
  /** Inputs by name; the body reads them through `read(name, position)`. */
  inputs: Record<string, GpuStorage>;
  /** Numbers that may change between calls without recompiling (view offsets, a scalar operand). */
  uniforms?: Record<string, number>;
  /** Number of output elements. */
  size: number;
  /** The statements that compute element `o` of the output and return it. */
  body: (read: Reader) => string;
}

const caches = new WeakMap<Device, Map<string, IKernelRunShortcut>>();

function cacheOf(device: Device): Map<string, IKernelRunShortcut> {
  let cache = caches.get(device);
  if (!cache) { cache = new Map(); caches.set(device, cache); }
  return cache;
}

/** Number of compiled kernels held for `device`. */
export function cachedKernelCount(device: Device): number { return cacheOf(device).size; }

/**
 * Run a kernel and return its output as a new storage of `dtype` owned by `backend`. Under the async
 * contract (device.async) the storage is returned at once, pending: the kernel runs when its inputs
 * have settled, and holds them (retain/release) until it has read them, so that disposing an input
 * right after launching the op — which the kernel families do with their temporaries — is safe.
 */
export function runKernel(device: Device, backend: string, dtype: DType, call: KernelCall): GpuStorage {
  const names = Object.keys(call.inputs);
  const inputs = names.map((name) => call.inputs[name]);
  // The tile layout follows from the lengths alone, so the sources and cache keys can be written
  // before a pending input's tiles exist.
  const T = device.tileElements;
  const tileLengths = inputs.map((s) => Array.from({ length: s.tileCount }, (_, t) => Math.min(T, s.length - t * T)));
  const textures = tileLengths.reduce((n, ts) => n + ts.length, 0);
  if (device.textures && textures > device.maxTextureUnits) {
    throw new Error(`gpu: ${call.op} reads ${textures} textures (${names.map((n, i) => `${n}: ${tileLengths[i].length}`).join(', ')}), ` +
      `more than the ${device.maxTextureUnits} a shader may sample on this device; use larger tiles (tileElements)`);
  }
  const uniformNames = Object.keys(call.uniforms ?? {});
  const uniforms = uniformNames.map((u) => call.uniforms![u]);
  const reader = makeReader(names, tileLengths.map((ts) => ts.length), T);
  const params = [...names.flatMap((n, i) => tileLengths[i].map((_, t) => `${n}_${t}`)), ...uniformNames];
  const kernels: IKernelRunShortcut[] = [];
  for (let start = 0; start < call.size; start += T) {
    const length = Math.min(T, call.size - start);
    const source = `function(${params.join(', ')}) {\n  const o = this.thread.x + ${start};\n${call.body(reader)}\n}`;
    const key = `${call.op}|${call.key}|${start}+${length}|${tileLengths.map((ts) => ts.join('.')).join(',')}`;
    kernels.push(compiled(device, key, source, length));
  }
  let storage: GpuStorage;
  if (!device.async) {
    const args = [...inputs.flatMap((s) => s.deviceTiles()), ...uniforms];
    storage = new GpuStorage(device, backend, dtype, call.size, kernels.map((kernel) => invoke(device, kernel, args, call.op)));
  } else {
    inputs.forEach((s, i) => {
      try { s.retain(); } catch (error) { inputs.slice(0, i).forEach((r) => r.release()); throw error; }
    });
    const tiles = Promise.all(inputs.map((s) => s.tilesAsync()))
      .then((inputTiles) => {
        const args = [...inputTiles.flat(), ...uniforms];
        return Promise.all(kernels.map((kernel) => invokeAsync(device, kernel, args, call.op)));
      })
      .finally(() => { for (const s of inputs) s.release(); });
    storage = new GpuStorage(device, backend, dtype, call.size, tiles);
  }
  storage.origin = call.op;
  return storage;
}

/**
 * Put host values on the device: one upload kernel per tile in texture modes, a Float32Array
 * otherwise. In an async texture mode (webgpu) the upload kernels return Promises, and so does this.
 */
export function uploadTiles(device: Device, data: ArrayLike<number> & { length: number }): Tile[] | Promise<Tile[]> {
  const f32 = data instanceof Float32Array ? data : Float32Array.from(data);
  device.uploads++;
  const parts: Float32Array[] = [];
  for (let start = 0; start < f32.length; start += device.tileElements) parts.push(f32.subarray(start, Math.min(start + device.tileElements, f32.length)));
  if (!device.textures) return parts;
  const kernelFor = (part: Float32Array) => compiled(device, `upload|${part.length}`, 'function(x) {\n  return x[this.thread.x];\n}', part.length);
  if (device.async) return Promise.all(parts.map((part) => invokeAsync(device, kernelFor(part), [part], 'upload')));
  return parts.map((part) => invoke(device, kernelFor(part), [part], 'upload'));
}

/**
 * read(name, p): `name_0[p]` for a one-tile input; for a tiled one, the tile that p falls in, chosen
 * by a balanced tree of comparisons (so a shader compiler sees log₂(tiles) nested ternaries, not one
 * per tile):   (p < 2T ? (p < T ? name_0[p] : name_1[p − T]) : (p < 3T ? name_2[p − 2T] : name_3[p − 3T]))
 */
function makeReader(names: string[], tileCounts: number[], T: number): Reader {
  return (name, position) => {
    const i = names.indexOf(name);
    if (i < 0) throw new Error(`gpu: kernel reads an input '${name}' it was not given (inputs: ${names.join(', ')})`);
    const p = `(${position})`;
    const pick = (lo: number, hi: number): string => {
      if (lo === hi) return lo === 0 ? `${name}_0[${p}]` : `${name}_${lo}[${p} - ${lo * T}]`;
      const mid = (lo + hi) >> 1;
      return `(${p} < ${(mid + 1) * T} ? ${pick(lo, mid)} : ${pick(mid + 1, hi)})`;
    };
    return pick(0, Math.max(tileCounts[i] - 1, 0));
  };
}

function compiled(device: Device, key: string, source: string, length: number): IKernelRunShortcut {
  const cache = cacheOf(device);
  let kernel = cache.get(key);
  if (!kernel) {
    const settings: IGPUKernelSettings & { loopMaxIterations: number } = {
      output: [length],
      pipeline: true,          // keep the result on the device (a Texture in GL modes)
      immutable: true,         // a fresh output per call: tensors are values, never overwritten
      precision: 'single',     // 32-bit floats; never the lossy 8-bit 'unsigned' packing
      tactic: 'precision',     // highp in the shaders
      loopMaxIterations: 1 << 30,
      // Under the async contract every call returns a Promise; webasm then splits kernels of 4,096
      // outputs or more over its worker pool (poolSize threads; GPU.js's default when unset).
      ...(device.async ? { asyncMode: true } : {}),
      ...(device.async && device.poolSize !== undefined ? { poolSize: device.poolSize } : {}),
    };
    kernel = device.gpu.createKernel(device.mode === 'webgpu' ? withRuntimeNonFinite(source) : source, settings);
    (kernel as unknown as { firstCall: boolean }).firstCall = true;
    cache.set(key, kernel);
    device.kernelsCompiled++;
  }
  return kernel;
}

/**
 * WGSL evaluates constant expressions as it compiles and refuses those without a finite value ("'0.0 /
 * 0.0' cannot be represented as 'abstract-float'"), so the NaN and ±Infinity literals of codegen.ts
 * (x / 0.0) cannot reach a WGSL compiler as they are. On webgpu they divide by a zero known only at run
 * time (the thread number minus itself), which the GPU computes as IEEE division: NaN, +∞ or −∞.
 */
function withRuntimeNonFinite(source: string): string {
  return source.replace(/\((-?[01])\.0 \/ 0\.0\)/g, '($1.0 / (this.thread.x - this.thread.x))');
}

function invoke(device: Device, kernel: IKernelRunShortcut, args: unknown[], op: string): Tile {
  const marked = kernel as unknown as { firstCall: boolean };
  const started = marked.firstCall ? performance.now() : 0;
  let result: unknown;
  device.dispatches++;
  try {
    result = (kernel as unknown as (...a: unknown[]) => unknown)(...args);
  } catch (error) {
    throw kernelError(device, op, error);
  }
  if (marked.firstCall) { device.compileMs += performance.now() - started; marked.firstCall = false; }
  return counted(device, result);
}

/** invoke() under the async contract: the call returns a Promise of the tile (the first one's wait counts as compile time). */
async function invokeAsync(device: Device, kernel: IKernelRunShortcut, args: unknown[], op: string): Promise<Tile> {
  const marked = kernel as unknown as { firstCall: boolean };
  const first = marked.firstCall;
  marked.firstCall = false;
  const started = first ? performance.now() : 0;
  let result: unknown;
  device.dispatches++;
  try {
    // The call itself happens now, synchronously: GPU.js samples the arguments at call time.
    result = await (kernel as unknown as (...a: unknown[]) => Promise<unknown>)(...args);
  } catch (error) {
    throw kernelError(device, op, error);
  }
  if (first) device.compileMs += performance.now() - started;
  return counted(device, result);
}

function kernelError(device: Device, op: string, error: unknown): Error {
  return new Error(`gpu: kernel '${op}' failed on mode '${device.label}': ${(error as Error).message}`);
}

/** A kernel's result as a tile; device-resident ones (textures, webgpu buffers) are counted. */
function counted(device: Device, result: unknown): Tile {
  if (result instanceof Float32Array) return result;
  device.liveTextures++;
  device.texturesCreated++;
  return result as Texture;
}
