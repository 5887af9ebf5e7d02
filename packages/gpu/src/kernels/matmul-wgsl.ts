/**
 * Matrix multiply on the webgpu mode as a hand-written WGSL compute shader, beside the GPU.js kernel of
 * matmul.ts, which stays the readable reference (and the path of every other mode).
 *
 * Why: GPU.js gives each thread one output and no workgroup-shared memory, so each of its threads reads
 * a whole row of A and a column of B from memory: 2 loads per multiply-add, about 0.2 TFLOPS on an H100.
 * Here a workgroup of 16×16 threads computes a 128×128 block of C. For each slice of 8 values of k it
 * first copies A's 128×8 and B's 8×128 block into shared memory (each thread loads 4 + 4 values), then
 * every thread multiplies 8 values of A by 8 of B into its 8×8 accumulators held in registers: 64
 * multiply-adds for 16 shared-memory reads. Thread (x, y) owns rows y, y+16, …, y+112 and columns
 * x, x+16, …, x+112 of the block, so neighbouring threads read neighbouring shared words and write
 * neighbouring columns of C.
 *
 * A and B are read through their strides and offsets (transposed views cost no copy) and one batch axis
 * with its strides (0 for a broadcast operand); more batch axes, or other dtypes, take the GPU.js kernel.
 * The buffers are GPU.js's own (its exports WebGPUContext and WebGPUBufferResult): inputs spread over
 * several tiles are first copied into one buffer on the GPU, and an output larger than one tile is
 * copied out into tiles, so the kernels around this one see ordinary GPU.js results.
 */
import gpujs from 'gpu.js';
import { Tensor, broadcastStrides } from '@gradlab/tensor';
import type { GpuContext } from '../context.js';
import { storageOf } from '../context.js';
import { GpuStorage } from '../storage.js';
import type { Tile } from '../storage.js';

// The few WebGPU shapes used here (Dawn's and the browser's objects), so this file needs no WebGPU typings.
interface GBuffer { size: number; destroy(): void; mapAsync(mode: number, offset?: number, size?: number): Promise<void>; getMappedRange(offset?: number, size?: number): ArrayBuffer; unmap(): void }
interface GEncoder {
  copyBufferToBuffer(src: GBuffer, srcOffset: number, dst: GBuffer, dstOffset: number, size: number): void;
  beginComputePass(): { setPipeline(p: unknown): void; setBindGroup(i: number, g: unknown): void; dispatchWorkgroups(x: number, y: number, z: number): void; end(): void };
  finish(): unknown;
}
interface GDevice {
  createBuffer(d: { size: number; usage: number }): GBuffer;
  createShaderModule(d: { code: string }): unknown;
  createComputePipeline(d: object): { getBindGroupLayout(i: number): unknown };
  createBindGroup(d: object): unknown;
  createCommandEncoder(): GEncoder;
  queue: { writeBuffer(b: GBuffer, offset: number, data: ArrayBufferView): void; submit(c: unknown[]): void };
}
interface GContext { device: GDevice; isLost: boolean }
interface BufferResult { buffer: GBuffer; output: number[]; componentCount: number }
const { WebGPUContext, WebGPUBufferResult } = gpujs as unknown as {
  WebGPUContext: { acquire(): Promise<GContext> };
  WebGPUBufferResult: new (s: { buffer: GBuffer; output: number[]; componentCount: number; context: GContext; kernel: object }) => BufferResult;
};

const STORAGE = 0x80, COPY_SRC = 0x04, COPY_DST = 0x08, UNIFORM = 0x40, MAP_READ = 0x01;
/** Threads per workgroup side, outputs per thread side, block side (16·8), and the k slice. */
const THREADS = 16, PER_THREAD = 8, BLOCK = THREADS * PER_THREAD, SLICE = 8;

const SHADER = /* wgsl */ `
struct Params {
  M : u32, N : u32, K : u32, batches : u32,
  aOffset : u32, aRow : u32, aCol : u32, aBatch : u32,
  bOffset : u32, bRow : u32, bCol : u32, bBatch : u32,
}
@group(0) @binding(0) var<uniform> p : Params;
@group(0) @binding(1) var<storage, read> A : array<f32>;
@group(0) @binding(2) var<storage, read> B : array<f32>;
@group(0) @binding(3) var<storage, read_write> C : array<f32>;
const T = ${THREADS}u;
const R = ${PER_THREAD}u;
const BLOCK = ${BLOCK}u;
const SLICE = ${SLICE}u;
var<workgroup> As : array<f32, ${BLOCK * SLICE}>;   // [k][m]: k·BLOCK + m
var<workgroup> Bs : array<f32, ${BLOCK * SLICE}>;   // [k][n]

@compute @workgroup_size(${THREADS}, ${THREADS}, 1)
fn main(@builtin(workgroup_id) wg : vec3<u32>, @builtin(local_invocation_id) lid : vec3<u32>) {
  let row0 = wg.y * BLOCK;
  let col0 = wg.x * BLOCK;
  let aBase = p.aOffset + wg.z * p.aBatch;
  let bBase = p.bOffset + wg.z * p.bBatch;
  let tid = lid.y * T + lid.x;
  var acc : array<f32, ${PER_THREAD * PER_THREAD}>;
  for (var k0 = 0u; k0 < p.K; k0 += SLICE) {
    // Each thread loads ${(BLOCK * SLICE) / (THREADS * THREADS)} values of A's block and as many of B's (zeros past the edges).
    for (var l = 0u; l < ${(BLOCK * SLICE) / (THREADS * THREADS)}u; l++) {
      let e = tid + l * T * T;
      let am = e / SLICE;
      let ak = e % SLICE;
      var av = 0.0;
      if (row0 + am < p.M && k0 + ak < p.K) { av = A[aBase + (row0 + am) * p.aRow + (k0 + ak) * p.aCol]; }
      As[ak * BLOCK + am] = av;
      let bk = e / BLOCK;
      let bn = e % BLOCK;
      var bv = 0.0;
      if (k0 + bk < p.K && col0 + bn < p.N) { bv = B[bBase + (k0 + bk) * p.bRow + (col0 + bn) * p.bCol]; }
      Bs[bk * BLOCK + bn] = bv;
    }
    workgroupBarrier();
    for (var k = 0u; k < SLICE; k++) {
      var a : array<f32, ${PER_THREAD}>;
      var b : array<f32, ${PER_THREAD}>;
      for (var t = 0u; t < R; t++) {
        a[t] = As[k * BLOCK + lid.y + t * T];
        b[t] = Bs[k * BLOCK + lid.x + t * T];
      }
      for (var r = 0u; r < R; r++) {
        for (var c = 0u; c < R; c++) {
          acc[r * R + c] = fma(a[r], b[c], acc[r * R + c]);
        }
      }
    }
    workgroupBarrier();
  }
  let cBase = wg.z * p.M * p.N;
  for (var r = 0u; r < R; r++) {
    let m = row0 + lid.y + r * T;
    for (var c = 0u; c < R; c++) {
      let n = col0 + lid.x + c * T;
      if (m < p.M && n < p.N) { C[cBase + m * p.N + n] = acc[r * R + c]; }
    }
  }
}
`;

const pipelines = new WeakMap<GDevice, { pipeline: ReturnType<GDevice['createComputePipeline']> }>();

function pipelineFor(device: GDevice) {
  let entry = pipelines.get(device);
  if (!entry) {
    const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: SHADER }), entryPoint: 'main' } });
    entry = { pipeline };
    pipelines.set(device, entry);
  }
  return entry.pipeline;
}

/** Reads one of this file's results back (what GPU.js's kernel.readBufferResult does for its own). */
function readerFor(gpu: GContext) {
  return {
    async readBufferResult(handle: BufferResult): Promise<Float32Array> {
      const bytes = handle.output[0] * 4;
      const staging = gpu.device.createBuffer({ size: bytes, usage: MAP_READ | COPY_DST });
      const encoder = gpu.device.createCommandEncoder();
      encoder.copyBufferToBuffer(handle.buffer, 0, staging, 0, bytes);
      gpu.device.queue.submit([encoder.finish()]);
      try {
        await staging.mapAsync(MAP_READ, 0, bytes);
        return new Float32Array(staging.getMappedRange(0, bytes).slice(0));
      } finally {
        staging.destroy();
      }
    },
  };
}

/** Whether matmulWgsl takes this product (else matmul.ts's GPU.js kernel does). */
export function wgslMatmulApplies(ctx: GpuContext, a: Tensor, b: Tensor, outShape: readonly number[]): boolean {
  return ctx.device.mode === 'webgpu' && ctx.device.wgslMatmul && a.dtype === 'float32' && b.dtype === 'float32' &&
    outShape.length >= 2 && outShape.length <= 3 && outShape.every((d) => d > 0);
}

export function matmulWgsl(ctx: GpuContext, a: Tensor, b: Tensor, outShape: number[]): Tensor {
  const device = ctx.device;
  const rank = outShape.length;
  const [M, N] = [outShape[rank - 2], outShape[rank - 1]];
  const K = a.shape[a.rank - 1];
  const batches = rank === 3 ? outShape[0] : 1;
  const [aBatch] = rank === 3 ? broadcastStrides(a.shape.slice(0, -2), a.strides.slice(0, -2), [batches]) : [0];
  const [bBatch] = rank === 3 ? broadcastStrides(b.shape.slice(0, -2), b.strides.slice(0, -2), [batches]) : [0];
  const params = new Uint32Array([M, N, K, batches, a.offset, a.strides[a.rank - 2], a.strides[a.rank - 1], aBatch,
    b.offset, b.strides[b.rank - 2], b.strides[b.rank - 1], bBatch]);
  const size = batches * M * N;
  const inputs = [storageOf(a), storageOf(b)];
  inputs.forEach((s) => s.retain());
  device.dispatches++;
  const tiles = Promise.all(inputs.map((s) => s.tilesAsync()))
    .then(async ([aTiles, bTiles]) => {
      const gpu = await WebGPUContext.acquire();
      const encoder = gpu.device.createCommandEncoder();
      const temporary: GBuffer[] = [];
      const whole = (parts: Tile[], length: number) => joined(gpu.device, encoder, parts, length, temporary);
      const out = gpu.device.createBuffer({ size: size * 4, usage: STORAGE | COPY_SRC });
      const uniform = gpu.device.createBuffer({ size: params.byteLength, usage: UNIFORM | COPY_DST });
      temporary.push(uniform);
      gpu.device.queue.writeBuffer(uniform, 0, params);
      const pipeline = pipelineFor(gpu.device);
      const bindGroup = gpu.device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [uniform, whole(aTiles, inputs[0].length), whole(bTiles, inputs[1].length), out].map((buffer, binding) => ({ binding, resource: { buffer } })),
      });
      const pass = encoder.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(Math.ceil(N / BLOCK), Math.ceil(M / BLOCK), batches);
      pass.end();
      const result = split(gpu, encoder, out, size, device.tileElements, temporary);
      gpu.device.queue.submit([encoder.finish()]);
      // WebGPU lets a buffer be destroyed once the work that uses it is submitted: it goes when that work is done.
      for (const buffer of temporary) buffer.destroy();
      device.liveTextures += result.length;
      device.texturesCreated += result.length;
      return result as unknown as Tile[];
    })
    .finally(() => { for (const s of inputs) s.release(); });
  const storage = new GpuStorage(device, ctx.name, 'float32', size, tiles);
  storage.origin = `matmul (wgsl) → [${outShape.join(',')}]`;
  return new Tensor(storage, outShape);
}

/** The buffer of a one-tile input, or the tiles copied end to end into a new buffer. */
function joined(device: GDevice, encoder: GEncoder, parts: Tile[], length: number, temporary: GBuffer[]): GBuffer {
  const buffers = parts.map((t) => (t as unknown as BufferResult).buffer);
  if (buffers.length === 1) return buffers[0];
  const whole = device.createBuffer({ size: length * 4, usage: STORAGE | COPY_DST });
  temporary.push(whole);
  let at = 0;
  for (const [i, part] of parts.entries()) {
    const bytes = Math.min((part as unknown as BufferResult).output[0], length - at / 4) * 4;
    encoder.copyBufferToBuffer(buffers[i], 0, whole, at, bytes);
    at += bytes;
  }
  return whole;
}

/** `out` as GPU.js results of at most `tileElements` each (the layout every other kernel expects). */
function split(gpu: GContext, encoder: GEncoder, out: GBuffer, size: number, tileElements: number, temporary: GBuffer[]): BufferResult[] {
  const kernel = readerFor(gpu);
  const wrap = (buffer: GBuffer, length: number) => new WebGPUBufferResult({ buffer, output: [length], componentCount: 1, context: gpu, kernel });
  if (size <= tileElements) return [wrap(out, size)];
  temporary.push(out);
  const tiles: BufferResult[] = [];
  for (let start = 0; start < size; start += tileElements) {
    const length = Math.min(tileElements, size - start);
    const tile = gpu.device.createBuffer({ size: length * 4, usage: STORAGE | COPY_SRC | COPY_DST });
    encoder.copyBufferToBuffer(out, start * 4, tile, 0, length * 4);
    tiles.push(wrap(tile, length));
  }
  return tiles;
}
