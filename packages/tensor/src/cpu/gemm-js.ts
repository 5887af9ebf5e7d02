/**
 * The JavaScript gemm kernel:  C[i, j] = Σ_k A[i, k] · B[k, j].
 *
 * A triple loop does 2 flops per two loads and walks B down a column, so it waits on memory, not on
 * arithmetic. `gemmJs` below is the classic blocked scheme (Goto & van de Geijn, the one BLIS and
 * OpenBLAS use), written for what V8 does well:
 *
 *   for each block of NC columns of B      (so the packed B block stays bounded)
 *     for each block of KC steps of k
 *       pack B[k0:k0+KC, j0:j0+NC] into panels of NR columns, k-major        → packedB
 *       for each block of MC rows of A
 *         pack A[i0:i0+MC, k0:k0+KC] into slivers of MR rows, k-major       → packedA
 *         for each NR-column panel, for each MR-row sliver:
 *           micro-kernel: an MR×NR tile of C in 32 local variables, one pass over kc
 *
 * The micro-kernel reads MR + NR = 12 numbers per k step and does MR·NR = 32 multiply-adds with them,
 * so arithmetic, not memory, sets the pace; its inputs sit next to each other in the packed buffers
 * (one Float64Array each: no float32→float64 conversion inside the hot loop, and the sums are double
 * precision for free). Packing reads A and B through their strides, which is how transposed views
 * (x.T in backward passes) and slices cost no extra copy: the pack is the only copy.
 * Tile and block sizes were picked by measurement (Node 20, 2.8 GHz Xeon, 512×512 float32): a 4×8
 * tile ran at ~3.7 GFLOPS, as fast as or faster than 4×4, 8×4, 6×4, 4×6, 4×12, 3×8 and 2×8; KC = 256
 * beat 128 and 512. Packing into Float64Array rather than Float32Array was worth ~1.5×, and the naive
 * triple loop runs at ~0.45 GFLOPS on the same machine (bench/kernels.mjs measures both).
 *
 * This JavaScript kernel serves float64 (and int32). Float32 products go to the same blocking around a
 * WebAssembly SIMD micro-kernel, ~5× faster (wasm/gemm-f32.ts); GRADLAB_GEMM=js keeps them here.
 * gemm.ts chooses between the two; packing and MatrixRef are pack.ts's.
 */
import type { TypedArray } from '../dtype.js';
import { packA, packB } from './pack.js';
import type { MatrixRef } from './pack.js';

const MR = 4;     // rows of the register tile
const NR = 8;     // columns of the register tile
const KC = 256;   // k steps per block: an A sliver (MR·KC doubles = 8 KiB) stays in L1
const MC = 64;    // rows of A per block: packedA (MC·KC doubles = 128 KiB) stays in L2
const NC = 2048;  // columns of B per block: bounds packedB at NC·KC doubles (4 MiB)

// Scratch reused by every call (JavaScript runs one gemm at a time).
const packedA = new Float64Array(MC * KC);
let packedB = new Float64Array(NR * KC);
const edgeTile = new Float64Array(MR * NR);

/**
 * C[m×n] (+)= A[m×k] · B[k×n] in JavaScript. A and B may be any strided matrices, of any dtype; C is
 * row-major starting at cOffset. C is overwritten unless `accumulate` (then the product is added to it).
 */
export function gemmJs(
  m: number, n: number, k: number, a: MatrixRef, b: MatrixRef,
  c: TypedArray, cOffset = 0, accumulate = false,
): void {
  if (!accumulate) c.fill(0, cOffset, cOffset + m * n);
  if (m === 0 || n === 0 || k === 0) return;
  for (let j0 = 0; j0 < n; j0 += NC) {
    const nc = Math.min(NC, n - j0);
    const panels = Math.ceil(nc / NR);
    if (packedB.length < panels * NR * KC) packedB = new Float64Array(panels * NR * KC);
    for (let k0 = 0; k0 < k; k0 += KC) {
      const kc = Math.min(KC, k - k0);
      packB(b, k0, kc, j0, nc, packedB, NR);
      for (let i0 = 0; i0 < m; i0 += MC) {
        const mc = Math.min(MC, m - i0);
        packA(a, i0, mc, k0, kc, packedA, MR);
        for (let p = 0; p < panels; p++) {
          const jp = j0 + p * NR;
          const cols = Math.min(NR, n - jp);
          for (let i = 0; i < mc; i += MR) {
            microKernel(kc, packedA, i * kc, packedB, p * kc * NR, c, cOffset + (i0 + i) * n + jp, n, Math.min(MR, mc - i), cols);
          }
        }
      }
    }
  }
}

/**
 * The register tile: C[4×8] += (packed A sliver)·(packed B panel) over kc steps. cij is C[i, j] of the
 * tile; each step loads a column of A (a0…a3) and a row of B (b0…b7) and forms their outer product.
 * Only `rows`×`cols` of the tile are written back (the rest is padding at the matrix edge).
 */
function microKernel(
  kc: number, pa: Float64Array, aAt: number, pb: Float64Array, bAt: number,
  c: TypedArray, cAt: number, ldc: number, rows: number, cols: number,
): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c04 = 0, c05 = 0, c06 = 0, c07 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0, c14 = 0, c15 = 0, c16 = 0, c17 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c24 = 0, c25 = 0, c26 = 0, c27 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0, c34 = 0, c35 = 0, c36 = 0, c37 = 0;
  // Local cursors: V8 ran this loop ~15% slower when it advanced the parameters aAt/bAt instead.
  let i = aAt, j = bAt;
  for (let t = 0; t < kc; t++, i += 4, j += 8) {
    const a0 = pa[i], a1 = pa[i + 1], a2 = pa[i + 2], a3 = pa[i + 3];
    const b0 = pb[j], b1 = pb[j + 1], b2 = pb[j + 2], b3 = pb[j + 3];
    const b4 = pb[j + 4], b5 = pb[j + 5], b6 = pb[j + 6], b7 = pb[j + 7];
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3; c04 += a0 * b4; c05 += a0 * b5; c06 += a0 * b6; c07 += a0 * b7;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3; c14 += a1 * b4; c15 += a1 * b5; c16 += a1 * b6; c17 += a1 * b7;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3; c24 += a2 * b4; c25 += a2 * b5; c26 += a2 * b6; c27 += a2 * b7;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3; c34 += a3 * b4; c35 += a3 * b5; c36 += a3 * b6; c37 += a3 * b7;
  }
  if (rows === MR && cols === NR) {
    let o = cAt;
    c[o] += c00; c[o + 1] += c01; c[o + 2] += c02; c[o + 3] += c03; c[o + 4] += c04; c[o + 5] += c05; c[o + 6] += c06; c[o + 7] += c07;
    o += ldc;
    c[o] += c10; c[o + 1] += c11; c[o + 2] += c12; c[o + 3] += c13; c[o + 4] += c14; c[o + 5] += c15; c[o + 6] += c16; c[o + 7] += c17;
    o += ldc;
    c[o] += c20; c[o + 1] += c21; c[o + 2] += c22; c[o + 3] += c23; c[o + 4] += c24; c[o + 5] += c25; c[o + 6] += c26; c[o + 7] += c27;
    o += ldc;
    c[o] += c30; c[o + 1] += c31; c[o + 2] += c32; c[o + 3] += c33; c[o + 4] += c34; c[o + 5] += c35; c[o + 6] += c36; c[o + 7] += c37;
    return;
  }
  // Edge of the matrix: park the tile, then copy the part that exists.
  const tile = edgeTile;
  tile[0] = c00; tile[1] = c01; tile[2] = c02; tile[3] = c03; tile[4] = c04; tile[5] = c05; tile[6] = c06; tile[7] = c07;
  tile[8] = c10; tile[9] = c11; tile[10] = c12; tile[11] = c13; tile[12] = c14; tile[13] = c15; tile[14] = c16; tile[15] = c17;
  tile[16] = c20; tile[17] = c21; tile[18] = c22; tile[19] = c23; tile[20] = c24; tile[21] = c25; tile[22] = c26; tile[23] = c27;
  tile[24] = c30; tile[25] = c31; tile[26] = c32; tile[27] = c33; tile[28] = c34; tile[29] = c35; tile[30] = c36; tile[31] = c37;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) c[cAt + r * ldc + j] += tile[r * NR + j];
  }
}
