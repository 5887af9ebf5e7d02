/**
 * Float32 gemm on the WebAssembly SIMD kernel (gemm-kernel.ts): C[m×n] (+)= A[m×k]·B[k×n].
 *
 * The blocking is gemm-js.ts's (Goto & van de Geijn), with the packed blocks and a band of C in the
 * kernel's memory:
 *
 *   for each band of MB rows of C                                           → memory at C_AT
 *     for each block of NC columns of B
 *       (accumulating: copy the band's C in, so the kernel adds to it)
 *       for each block of KC steps of k
 *         pack B[k0:k0+KC, j0:j0+NC] as float32 panels of 8 columns         → memory at B_AT
 *         for each block of MC rows of the band
 *           pack A[i0:i0+MC, k0:k0+KC] as float32 slivers of MR rows         → memory at A_AT
 *           block(…): every MR×8 tile of this MC×NC block of C, adding to what the earlier k blocks
 *                     left there (load = 1) or overwriting it (the first k block of a plain product)
 *       copy the band's MB×NC block of C out, row by row (a memcpy each)
 *
 * Keeping the whole band in the kernel's memory until its last k block is why C is touched by
 * JavaScript once per product, not once per k block. B is packed again for each band: k·NC numbers
 * against 2·MB·k·NC flops, under 0.2% of the work at MB = 288. Packing (pack-f32.ts) reads Float32Array
 * operands through loops V8 compiles for that one array type.
 *
 * Sums are float32 here, where the JavaScript kernel sums in float64: see docs/tensor.md for what that
 * does to precision. Which float32 products come here is gemm.ts's choice (GRADLAB_GEMM=js, or
 * setGemmKernel('js'), sends them to the JavaScript kernel).
 */
import type { MatrixRef } from '../pack.js';
import { createGemmKernel, WASM_MR as MR, WASM_NR as NR } from './gemm-kernel.js';
import type { GemmKernel } from './gemm-kernel.js';
import { packA32, packB32 } from './pack-f32.js';

const KC = 256;   // k steps per block: a B panel (KC·8 floats = 8 KiB) stays in L1
const MC = 72;    // rows of A per block, a multiple of MR (4): packedA is 72 KiB, in L2
const NC = 1024;  // columns of B per block: packedB ≤ 1 MiB
const MB = 288;   // rows of C kept in the kernel's memory (a multiple of MC): ≤ 1.2 MiB

// Byte addresses of the three buffers in the kernel's memory (fixed: sized for the largest blocks).
const A_AT = 0;
const B_AT = A_AT + MC * KC * 4;
const C_AT = B_AT + NC * KC * 4;
const BYTES = C_AT + MB * NC * 4;

/** This thread's kernel instance (undefined: not made yet; null: no WebAssembly SIMD here). */
let kernel: GemmKernel | null | undefined;
let views: { a: Float32Array; b: Float32Array; c: Float32Array } | undefined;

function ready(): GemmKernel | null {
  if (kernel === undefined) {
    kernel = createGemmKernel();
    if (kernel) {
      const missing = BYTES - kernel.memory.buffer.byteLength;
      if (missing > 0) kernel.memory.grow(Math.ceil(missing / 65536));
      const buffer = kernel.memory.buffer;
      views = {
        a: new Float32Array(buffer, A_AT, MC * KC),
        b: new Float32Array(buffer, B_AT, NC * KC),
        c: new Float32Array(buffer, C_AT, MC * NC),
      };
    }
  }
  return kernel;
}

/** Whether this thread can run the WebAssembly SIMD kernel (it is made on the first call). */
export function wasmGemmAvailable(): boolean { return ready() !== null; }

/** C (+)= A·B in float32 on the WebAssembly kernel; C is row-major m×n at cOffset. */
export function gemmFloat32(
  m: number, n: number, k: number, a: MatrixRef, b: MatrixRef,
  c: Float32Array, cOffset = 0, accumulate = false,
): void {
  const kern = ready();
  if (!kern || !views) throw new Error('gemmFloat32: WebAssembly SIMD is not available');
  if (m === 0 || n === 0) return;
  if (k === 0) { if (!accumulate) c.fill(0, cOffset, cOffset + m * n); return; }
  const { a: packedA, b: packedB, c: band } = views;
  for (let i1 = 0; i1 < m; i1 += MB) {
    const mb = m - i1 < MB ? m - i1 : MB;
    for (let j0 = 0; j0 < n; j0 += NC) {
      const nc = n - j0 < NC ? n - j0 : NC;
      const panels = Math.ceil(nc / NR);
      const ldc = panels * NR; // the band's row length in floats
      const at = cOffset + i1 * n + j0;
      if (accumulate) copyRows(c, at, n, band, 0, ldc, mb, nc);
      for (let k0 = 0; k0 < k; k0 += KC) {
        const kc = k - k0 < KC ? k - k0 : KC;
        packB32(b, k0, kc, j0, nc, packedB);
        const load = accumulate || k0 > 0 ? 1 : 0;
        for (let i0 = 0; i0 < mb; i0 += MC) {
          const mc = mb - i0 < MC ? mb - i0 : MC;
          packA32(a, i1 + i0, mc, k0, kc, packedA, MR);
          kern.block(A_AT, B_AT, C_AT + i0 * ldc * 4, Math.ceil(mc / MR), panels, kc, ldc * 4, load);
        }
      }
      copyRows(band, 0, ldc, c, at, n, mb, nc);
    }
  }
}

/**
 * Copy `rows` rows of `cols` numbers from one row-major matrix into another: a memcpy per long row
 * (TypedArray.set), a plain loop for short ones, where making the subarray would cost more than the copy.
 */
function copyRows(from: Float32Array, fromAt: number, fromStride: number, to: Float32Array, toAt: number, toStride: number, rows: number, cols: number): void {
  for (let i = 0; i < rows; i++) {
    const src = fromAt + i * fromStride, dst = toAt + i * toStride;
    if (cols >= 128) to.set(from.subarray(src, src + cols), dst);
    else for (let j = 0; j < cols; j++) to[dst + j] = from[src + j];
  }
}
