/**
 * Float32 gemm on the WebAssembly SIMD kernel (gemm-kernel.ts): C[m×n] (+)= A[m×k]·B[k×n].
 *
 * The blocking is gemm-js.ts's (Goto & van de Geijn), with the operands in the kernel's memory and C
 * computed one band of rows at a time:
 *
 *   for each band of rows of C (as many as fit: ≤ C_FLOATS numbers, and for a direct A ≤ A_FLOATS)
 *     direct A: copy the band's rows of A in, row-major (one memcpy when A is contiguous)  → A_BAND
 *     accumulating: copy the band's C in, so the kernel adds to it                        → C_BAND
 *     for each block of NC columns of B
 *       for each block of KC steps of k
 *         pack B[k0:k0+KC, j0:j0+NC] as float32 panels of 8 columns                       → B_PACK
 *         for each block of MC rows of the band
 *           packed A: pack A[i0:i0+MC, k0:k0+KC] as slivers of MR rows                  → A_PACK
 *           every MR×8 tile of this MC×NC block of C, adding to what the earlier k blocks left
 *           there (load = 1) or overwriting it (the first k block of a plain product)
 *     copy the band of C out (one memcpy when C's rows are as long as the band's)
 *
 * "Direct" A: a row-major A (or rows that a caller writes itself: an `ARows`, which is how conv.ts
 * lays out its patch matrix straight into the kernel's memory) is read by `blockDirect` where it lies,
 * MR rows side by side, so it is copied once, by memcpy, instead of being packed by a JavaScript loop
 * for every block of columns. Other strides (a transposed A) are packed (pack-f32.ts). B is always
 * packed: its panels are read kc·8 floats at a time, over and over, and must sit in L1.
 *
 * "Sliver" A: rows that a caller writes already packed (an `ASlivers`: conv.ts's filter gradient, whose A
 * is the patch matrix transposed) go, all m rows of one k block, into A_BAND, and `block` reads them
 * there; A then never exists elsewhere and is never packed by gemm. That needs all of C in one band.
 *
 * C is written by the kernel into the band and leaves it once, after the band's last k block, with a
 * memcpy when its rows are contiguous; or it is handed to a `CRows` (conv.ts's col2im reads it there).
 * For a narrow C (conv layers: 32 or 64 filters) a band holds thousands of rows, so the per-band costs
 * (packing B, one call per MC rows) vanish.
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
const MC = 72;    // rows of A per block, a multiple of MR (4): a packed A block is 72 KiB, in L2
const NC = 1024;  // columns of B per block: packed B ≤ 1 MiB
/** The widest C that a CRows output can take (its rows are handed over whole, one block of columns). */
export const WASM_GEMM_NC = NC;
/**
 * Up to this many rows of A, a row-major B is not packed but copied in by rows, and the kernel reads
 * its panels where they lie. Packing is a JavaScript pass over all of B, which a short A (a Dense
 * layer's batch of 32 against W [12544, 128]) does not repay: ~1 ns a number, against ~2.6 ns of
 * arithmetic per number of B for 32 rows. A taller A reuses each packed panel m/4 times, and the pack
 * costs nothing by comparison. threads.ts keeps such products on one thread.
 */
export const WASM_B_IN_PLACE_ROWS = 64;
const C_FLOATS = 288 * NC;   // the band of C: 1.2 MiB (288 rows of 1024, or 9216 rows of 32)
const A_FLOATS = 1 << 19;    // the band of a direct A: 2 MiB (A is packed instead when MC rows do not fit)
/** The sizes, in floats, of the three work areas that kernelAreas() hands out. */
export const WASM_AREA_FLOATS = { a: A_FLOATS, b: NC * KC, c: C_FLOATS } as const;

// Byte addresses of the buffers in the kernel's memory (fixed: sized for the largest blocks).
const A_PACK = 0;
const B_PACK = A_PACK + MC * KC * 4;
const C_BAND = B_PACK + NC * KC * 4;
const A_BAND = C_BAND + C_FLOATS * 4;
const BYTES = A_BAND + A_FLOATS * 4;

/** Rows of A that the caller writes into the kernel's memory itself (conv.ts: patch rows). */
export interface ARows {
  /** Write rows row0 … row0+count−1 of A (k numbers each, row-major) into dest from destAt. */
  fill(row0: number, count: number, dest: Float32Array, destAt: number): void;
}

/**
 * All rows of A that the caller writes into the kernel's memory itself, already packed as slivers of MR
 * rows (conv.ts: the filter gradient's transposed patch matrix). Only where sliversFit(m, n).
 */
export interface ASlivers {
  /**
   * Write A[0:m, k0:k0+kc]: entry (i, k0+t) at dest[destAt + (⌊i/MR⌋·kc + t)·MR + i mod MR], and zeros in
   * the rows from m up to the next multiple of MR.
   */
  fillSlivers(k0: number, kc: number, dest: Float32Array, destAt: number): void;
}

/** Rows of C that the caller takes from the kernel's memory itself (conv.ts: col2im). */
export interface CRows {
  /** Rows row0 … row0+count−1 of C, n numbers each, are band[bandAt + i·ldc …] (read them now). */
  take(row0: number, count: number, band: Float32Array, bandAt: number, ldc: number): void;
}

/** Rows of C in one band, for n columns (a multiple of MC). */
function bandRowsFor(n: number): number {
  return Math.floor(C_FLOATS / (Math.ceil(Math.min(n, NC) / NR) * NR) / MC) * MC;
}

/** Whether an m×n product can take its A as ASlivers: C in one band, a k block of all of A in A_BAND. */
export function sliversFit(m: number, n: number): boolean {
  return n <= NC && m <= bandRowsFor(n) && Math.ceil(m / MR) * MR * KC <= A_FLOATS;
}

/** This thread's kernel instance (undefined: not made yet; null: no WebAssembly SIMD here). */
let kernel: GemmKernel | null | undefined;
let views: { aPack: Float32Array; bPack: Float32Array; cBand: Float32Array; aBand: Float32Array } | undefined;

function ready(): GemmKernel | null {
  if (kernel === undefined) {
    kernel = createGemmKernel();
    if (kernel) {
      const missing = BYTES - kernel.memory.buffer.byteLength;
      if (missing > 0) kernel.memory.grow(Math.ceil(missing / 65536));
      const buffer = kernel.memory.buffer;
      views = {
        aPack: new Float32Array(buffer, A_PACK, MC * KC),
        bPack: new Float32Array(buffer, B_PACK, NC * KC),
        cBand: new Float32Array(buffer, C_BAND, C_FLOATS),
        aBand: new Float32Array(buffer, A_BAND, A_FLOATS),
      };
    }
  }
  return kernel;
}

/**
 * The kernel and its memory's three work areas, for code that lays out its own operands there
 * (conv-direct.ts): `a` (A_FLOATS numbers), `b` (NC·KC) and `c` (C_FLOATS), each as a float view and
 * its byte address. Whatever B a whileBIsConstant caller had packed is forgotten: the caller will
 * overwrite it. Throws where WebAssembly SIMD is missing (check wasmGemmAvailable() first).
 */
export function kernelAreas(): { kern: GemmKernel; a: Float32Array; aAt: number; b: Float32Array; bAt: number; c: Float32Array; cAt: number } {
  const kern = ready();
  if (!kern || !views) throw new Error('kernelAreas: WebAssembly SIMD is not available');
  packedB = null;
  return { kern, a: views.aBand, aAt: A_BAND, b: views.bPack, bAt: B_PACK, c: views.cBand, cAt: C_BAND };
}

/** Whether this thread can run the WebAssembly SIMD kernel (it is made on the first call). */
export function wasmGemmAvailable(): boolean { return ready() !== null; }

/**
 * B packed once for many products. An LSTM multiplies by the same recurrent weights U at every time
 * step; packing U (u·4u numbers) again for each [B, u]·[u, 4u] step cost about as much as the step's
 * arithmetic. Inside whileBIsConstant(data, fn) the caller promises that the numbers of `data` do not
 * change, so a block of B read from `data` that is already in B_PACK (same array, offset, strides and
 * block) is not packed again. Any other packing overwrites B_PACK and forgets it.
 */
let constantB: unknown = null;
let packedB: { b: MatrixRef; k0: number; kc: number; j0: number; nc: number } | null = null;

export function whileBIsConstant<T>(data: unknown, fn: () => T): T {
  const outer = constantB;
  constantB = data;
  try { return fn(); } finally { constantB = outer; packedB = null; }
}

/** Pack B[k0:k0+kc, j0:j0+nc] into B_PACK, unless (inside whileBIsConstant) it is there already. */
function packBOnce(b: MatrixRef, k0: number, kc: number, j0: number, nc: number, into: Float32Array): void {
  const p = packedB;
  if (p && b.data === constantB && p.b.data === b.data && p.b.offset === b.offset && p.b.rowStride === b.rowStride &&
      p.b.colStride === b.colStride && p.k0 === k0 && p.kc === kc && p.j0 === j0 && p.nc === nc) return;
  packB32(b, k0, kc, j0, nc, into);
  packedB = b.data === constantB ? { b: { ...b }, k0, kc, j0, nc } : null;
}

/** B's row length in place: nc rounded up to an odd number of 8s (see copyBRows). */
const rowLengthInPlace = (nc: number): number => (Math.ceil(nc / 8) | 1) * 8;

/**
 * B[k0:k0+kc, j0:j0+nc] into `into` row by row, ldb numbers apart; returns ldb. ldb is nc rounded up
 * to a multiple of 8 that is an odd number of 8s: rows 4096 bytes apart (or any power of two) would
 * all fall into the same few sets of the L1 cache as the kernel walks down a panel.
 */
function copyBRows(b: MatrixRef, k0: number, kc: number, j0: number, nc: number, into: Float32Array): number {
  const data = b.data as Float32Array;
  const ldb = rowLengthInPlace(nc);
  for (let t = 0; t < kc; t++) {
    const from = b.offset + (k0 + t) * b.rowStride + j0;
    into.set(data.subarray(from, from + nc), t * ldb);
  }
  return ldb;
}

/** A row-major float32 A that can be copied in by rows (colStride 1). */
function isRowMajor32(a: MatrixRef): boolean {
  return a.data instanceof Float32Array && a.colStride === 1;
}

/**
 * C (+)= A·B in float32 on the WebAssembly kernel. A is a MatrixRef or rows the caller writes (ARows,
 * or ASlivers where sliversFit(m, n));
 * C is a row-major m×n Float32Array at cOffset, or rows the caller takes (CRows, not accumulating).
 */
export function gemmFloat32(
  m: number, n: number, k: number, a: MatrixRef | ARows | ASlivers, b: MatrixRef,
  c: Float32Array | CRows, cOffset = 0, accumulate = false,
): void {
  const kern = ready();
  if (!kern || !views) throw new Error('gemmFloat32: WebAssembly SIMD is not available');
  if (m === 0 || n === 0) return;
  const out = c instanceof Float32Array ? c : null;
  if (!out && (accumulate || n > NC)) throw new Error(`gemmFloat32: a CRows output cannot accumulate or be wider than ${NC} (n = ${n})`);
  // k = 0: C = 0 (a CRows output would only be handed zeros: there is nothing to give it)
  if (k === 0) { if (out && !accumulate) out.fill(0, cOffset, cOffset + m * n); return; }
  if (out && !accumulate && transposeInstead(m, n, k, a, b)) return transposedProduct(m, n, k, a as MatrixRef, b, out, cOffset);
  const { aPack, bPack, cBand, aBand } = views;
  const slivers = 'fillSlivers' in a ? a : null;
  const matrix = 'fill' in a || slivers ? null : a as MatrixRef;
  if (slivers && !sliversFit(m, n)) throw new Error(`gemmFloat32: slivers of A with m = ${m}, n = ${n} do not fit the kernel's memory`);
  // a direct A: whole blocks of MC rows in A_BAND, or (a short A: a Dense layer's batch) all m rows at once
  const aRowsFit = Math.floor(A_FLOATS / k / MR) * MR;
  const direct = !slivers && (!matrix || isRowMajor32(matrix)) && aRowsFit >= Math.min(MC, Math.ceil(m / MR) * MR);
  const bInPlace = direct && m <= WASM_B_IN_PLACE_ROWS && isRowMajor32(b) && b.data !== constantB && KC * rowLengthInPlace(Math.min(n, NC)) <= NC * KC;
  if (!direct && !matrix && !slivers) throw new Error(`gemmFloat32: rows of A with k = ${k} do not fit the kernel's memory`);
  let bandRows = bandRowsFor(n);
  if (direct) bandRows = Math.min(bandRows, aRowsFit >= MC ? Math.floor(aRowsFit / MC) * MC : aRowsFit);
  for (let i1 = 0; i1 < m; i1 += bandRows) {
    const mb = m - i1 < bandRows ? m - i1 : bandRows;
    if (direct) {
      if (matrix) copyRows(matrix.data as Float32Array, matrix.offset + i1 * matrix.rowStride, matrix.rowStride, aBand, 0, k, mb, k);
      else (a as ARows).fill(i1, mb, aBand, 0);
    }
    for (let j0 = 0; j0 < n; j0 += NC) {
      const nc = n - j0 < NC ? n - j0 : NC;
      const panels = Math.ceil(nc / NR);
      const ldc = panels * NR; // the band's row length in floats
      const at = cOffset + i1 * n + j0;
      if (accumulate) copyRows(out!, at, n, cBand, 0, ldc, mb, nc);
      for (let k0 = 0; k0 < k; k0 += KC) {
        const kc = k - k0 < KC ? k - k0 : KC;
        // B's rows in place (bStep = one row), or packed as panels (bStep = one panel row, 32 bytes)
        if (bInPlace) packedB = null; // B_PACK no longer holds a packed constant B
        const ldb = bInPlace ? copyBRows(b, k0, kc, j0, nc, bPack) : 8;
        if (!bInPlace) packBOnce(b, k0, kc, j0, nc, bPack);
        const load = accumulate || k0 > 0 ? 1 : 0;
        if (slivers) slivers.fillSlivers(k0, kc, aBand, 0);
        for (let i0 = 0; i0 < mb; i0 += MC) {
          const mc = mb - i0 < MC ? mb - i0 : MC;
          const tiles = Math.ceil(mc / MR), cAt = C_BAND + i0 * ldc * 4;
          if (direct) kern.blockDirect(A_BAND + (i0 * k + k0) * 4, B_PACK, cAt, tiles, panels, kc, ldc * 4, load, k * 4, 4, ldb * 4, bInPlace ? 32 : kc * 32);
          else if (slivers) kern.block(A_BAND + i0 * kc * 4, B_PACK, cAt, tiles, panels, kc, ldc * 4, load);
          else {
            packA32(matrix!, i1 + i0, mc, k0, kc, aPack, MR);
            kern.block(A_PACK, B_PACK, cAt, tiles, panels, kc, ldc * 4, load);
          }
        }
      }
      if (out) copyRows(cBand, 0, ldc, out, at, n, mb, nc);
      else (c as CRows).take(i1, mb, cBand, 0, ldc);
    }
  }
}

/**
 * Whether C = A·B is better computed as Cᵀ = Bᵀ·Aᵀ: B stored transposed (a Dense layer's input
 * gradient, dy·Wᵀ), A short. B is always packed, by a JavaScript pass over all its k·n numbers, and
 * from a transposed B that pass reads with a stride; Bᵀ is row-major, so as the product's A it is
 * copied in by memcpy and read in place, and only Aᵀ (m·k numbers) is packed; C comes back transposed
 * (m·n numbers). Not for a B packed once for many products (whileBIsConstant: the LSTM's Uᵀ).
 * The sums are the same products in the same order: bit for bit the plain product.
 */
function transposeInstead(m: number, n: number, k: number, a: MatrixRef | ARows | ASlivers, b: MatrixRef): boolean {
  return 'data' in a && b.rowStride === 1 && b.colStride !== 1 && b.data instanceof Float32Array && b.data !== constantB &&
    m <= NC && k * n > 2 * (m * k + m * n);
}

/** C = (Bᵀ·Aᵀ)ᵀ into the row-major C at cOffset (see transposeInstead). */
function transposedProduct(m: number, n: number, k: number, a: MatrixRef, b: MatrixRef, c: Float32Array, cOffset: number): void {
  const bT: MatrixRef = { data: b.data, offset: b.offset, rowStride: b.colStride, colStride: 1 };
  const aT: MatrixRef = { data: a.data, offset: a.offset, rowStride: a.colStride, colStride: a.rowStride };
  gemmFloat32(n, m, k, bT, aT, {
    // rows row0 … of Cᵀ are columns of C: written 64 at a time, so that each row of C gets runs of 64
    take: (row0, count, band, at, ldc) => {
      for (let i0 = 0; i0 < count; i0 += 64) {
        const i1 = Math.min(count, i0 + 64);
        for (let j = 0; j < m; j++) {
          const to = cOffset + j * n + row0;
          for (let i = i0; i < i1; i++) c[to + i] = band[at + i * ldc + j];
        }
      }
    },
  });
}

/**
 * Copy `rows` rows of `cols` numbers from one row-major matrix into another: one memcpy
 * (TypedArray.set) when both are contiguous, else a memcpy per long row, or a plain loop for short
 * ones, where making the subarray would cost more than the copy.
 */
function copyRows(from: Float32Array, fromAt: number, fromStride: number, to: Float32Array, toAt: number, toStride: number, rows: number, cols: number): void {
  if (fromStride === cols && toStride === cols) {
    to.set(from.subarray(fromAt, fromAt + rows * cols), toAt);
    return;
  }
  for (let i = 0; i < rows; i++) {
    const src = fromAt + i * fromStride, dst = toAt + i * toStride;
    if (cols >= 128) to.set(from.subarray(src, src + cols), dst);
    else for (let j = 0; j < cols; j++) to[dst + j] = from[src + j];
  }
}
