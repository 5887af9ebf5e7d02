/**
 * ReLU's backward in float32 on WebAssembly SIMD: out = dy where x > 0, else +0, four at a time.
 *
 * The JavaScript loop (elementwise.ts) masks dy's bits one element a step and needs ~1.2 ns an
 * element, most of it the loop's own instructions; copying into the kernel's memory and out again is
 * a memcpy, ~0.15 ns a number each way. Here one f32x4.gt against zero (IEEE's >: false for NaN and
 * for −0) and one v128.and make four outputs, so the three copies are most of the cost. On
 * [32, 62, 62, 32] the kernel (op included) took 3.1 ms where the loop took 7.4 (bench/kernels-memory.mjs).
 *
 * The arrays go through the kernel's memory in bands of 2^15 numbers (128 KiB each for dy, x and the
 * output: 384 KiB in all, in L2), copied in and out with TypedArray.set.
 */
import { Code, Simd, moduleBytes } from './assembler.js';
import { instantiate } from './instance.js';
import type { Instance } from './instance.js';

const BAND = 1 << 15;
const DY = 0, X = BAND * 4, OUT = 2 * BAND * 4; // byte addresses of the three bands
const PAGES = (3 * BAND * 4) / 65536;
const F32X4_GT = 0x44, V128_AND = 0x4e;

/** reluGrad(dy, x, out, vectors): `vectors` groups of four, each array from its own address. */
export function reluGradModuleBytes(): Uint8Array {
  const dy = 0, x = 1, out = 2, vectors = 3;
  const f = new Code();
  f.countdown(vectors, () => {
    f.get(out);
    f.get(dy).mem(Simd.v128Load, 2, 0);
    f.get(x).mem(Simd.v128Load, 2, 0).zero().simd(F32X4_GT);
    f.simd(V128_AND).mem(Simd.v128Store, 2, 0);
    f.addTo(dy, 16).addTo(x, 16).addTo(out, 16);
  });
  return moduleBytes([{ name: 'reluGrad', params: 4, locals: [], code: f }], PAGES);
}

interface ReluGradExports { reluGrad(dy: number, x: number, out: number, vectors: number): void }

/** The kernel, compiled on first use (null: no WebAssembly SIMD here, or GRADLAB_RELU_GRAD=js). */
let kernel: Instance<ReluGradExports> | null | undefined;

/** Below this many numbers the JavaScript loop is as fast (the copies and the call cost ~1.5 µs). */
const SMALLEST = 512;

/** out = dy·[x > 0] on the kernel, band by band; false (nothing done) where there is no kernel or out is small. */
export function reluGradWasm(dy: Float32Array, x: Float32Array, out: Float32Array): boolean {
  if (out.length < SMALLEST) return false;
  if (kernel === undefined) kernel = instantiate<ReluGradExports>(reluGradModuleBytes, 'GRADLAB_RELU_GRAD');
  if (!kernel) return false;
  const { exports: k, floats: mem } = kernel;
  for (let at = 0; at < out.length; at += BAND) {
    const count = Math.min(BAND, out.length - at);
    mem.set(dy.subarray(at, at + count), DY / 4);
    mem.set(x.subarray(at, at + count), X / 4);
    k.reluGrad(DY, X, OUT, Math.ceil(count / 4)); // a last partial vector reads old numbers past count: not copied out
    out.set(mem.subarray(OUT / 4, OUT / 4 + count), at);
  }
  return true;
}
