/**
 * The float32 convolution with no patch matrix at all: the WebAssembly kernel (wasm/gemm-kernel.ts)
 * reads every window straight from the image. For stride 1 (any padding up to the filter's size less 1).
 *
 * Why it can. In NHWC the pixels of one image row are consecutive, channels included. Number the
 * outputs of an image row by row over the PADDED width Wp (not the output width OW): "virtual row"
 * r = oy·Wp + ox. Then the window of r, for one filter row ky, is the run of KW·C numbers that starts at
 *
 *   image[(r + ky·Wp)·C]            (image: the padded image, Hp × Wp × C, in the kernel's memory)
 *
 * so consecutive virtual rows start C numbers apart, and the patch matrix restricted to one ky is the
 * image itself read with a row stride of C: A[r, t] = image[r·C + ky·Wp·C + t]. The kernel's blockDirect
 * reads A at a + r·lda + t·kStep, so lda = 4C bytes, kStep = 4 does it, with no copy. The price: the
 * virtual rows ox ≥ OW (KW − 1 of every Wp) are windows that wrap into the next image row; they are
 * computed and thrown away (2/64 of the first layer of the article's image model, 2/31 of the second).
 *
 *   forward          y = Σ_ky  image_ky · W_ky                   W_ky = W[ky·KW·C : (ky+1)·KW·C, :]
 *                    one blockDirect per ky, the second and third adding onto the first (load = 1),
 *                    so the sum runs over k in the same order as one product with the whole patch
 *                    (the result is bit for bit the patch-matrix path's); bias and ReLU are applied to
 *                    the block in the kernel's memory (four numbers a step), which is then copied out.
 *   input gradient   dx = the forward convolution of dy, padded by KH − 1 − padTop (and so on), with the
 *                    filter turned half a turn and its channels swapped: W'[ky, kx, f, c] =
 *                    W[KH−1−ky, KW−1−kx, c, f]. ("A transposed convolution is a convolution.")
 *   filter gradient  dW_ky = image_kyᵀ · dy   (the sum runs over the pixels: k = virtual rows)
 *                    Aᵀ[e, r] = image[r·C + ky·Wp·C + e] for e = kx·C + c: rows e are 4 bytes apart
 *                    and the steps r are 4C bytes apart (lda = 4, kStep = 4C). dy is not packed
 *                    either: copied in as virtual rows (zeros at the thrown-away ones, so they add
 *                    nothing), it is read where it lies, row r of a panel 4F bytes after row r − 1
 *                    (bStep = 4F), by all KH products. The sum over pixels runs in the same order as
 *                    the patch-matrix path's, so this too is bit for bit the same.
 *
 * The padded image goes into the kernel's memory a band of output rows at a time (all of it, for the
 * small images of the article's models), with its padding written as zeros, and a few zeros after it,
 * for the last tile's extra rows. One difference to know: a thrown-away window of the filter gradient
 * multiplies pixels by a zero of dy, so an infinite pixel there makes a NaN that the patch path would
 * not have (an infinite pixel makes the gradient NaN elsewhere anyway).
 */
import type { Conv2DInfo } from '../backend.js';
import type { TypedArray } from '../dtype.js';
import { envChoice } from '../env.js';
import { packB32 } from './wasm/pack-f32.js';
import type { Affine } from './conv-parts.js';
import { kernelAreas, wasmGemmAvailable, WASM_AREA_FLOATS } from './wasm/gemm-f32.js';
import { WASM_MR as MR, WASM_NR as NR } from './wasm/gemm-kernel.js';

const ROWS_PER_CALL = 72;        // virtual rows of y per kernel call (forward): C's block stays in L1
const PIXELS_PER_STEP = 256;     // virtual rows per kernel call of the filter gradient's sum
const { a: A_FLOATS, b: B_FLOATS, c: C_FLOATS } = WASM_AREA_FLOATS; // the kernel's work areas (gemm-f32.ts)

/** The padded image's shape and what a band of it costs in the kernel's memory. */
interface Geometry { Hp: number; Wp: number; C: number; KH: number; KW: number; OH: number; OW: number; F: number; slack: number; bandRows: number }

function geometryOf(info: Conv2DInfo): Geometry {
  const C = info.inChannels, KH = info.filterHeight, KW = info.filterWidth;
  const Wp = info.inWidth + info.padLeft + info.padRight;
  // after the band: the extra rows of the last tile (MR) and of the last sliver of dW (MR), the run's length
  const slack = (2 * MR + KW) * C + MR;
  // output rows per band: its padded input rows (bandRows + KH − 1) and the slack fit area a
  const bandRows = Math.min(info.outHeight, Math.floor((A_FLOATS - slack) / (Wp * C)) - (KH - 1));
  return { Hp: info.inHeight + info.padTop + info.padBottom, Wp, C, KH, KW, OH: info.outHeight, OW: info.outWidth, F: info.outChannels, slack, bandRows };
}

/** Whether the direct kernels take this convolution's forward pass (and, transposed, its input gradient). */
function forwardFits(info: Conv2DInfo): boolean {
  const g = geometryOf(info);
  const ldc = Math.ceil(g.F / NR) * NR;
  return info.strideHeight === 1 && info.strideWidth === 1 && g.bandRows >= 1 &&
    g.OH === g.Hp - g.KH + 1 && g.OW === g.Wp - g.KW + 1 &&
    (g.KH * g.KW * g.C + 3) * ldc <= B_FLOATS && ROWS_PER_CALL * ldc <= C_FLOATS;
}

/** The input gradient's convolution: dy padded so that a stride-1 convolution of it is dx. */
function transposedInfo(info: Conv2DInfo): Conv2DInfo {
  const { filterHeight: KH, filterWidth: KW } = info;
  return {
    batch: info.batch, inHeight: info.outHeight, inWidth: info.outWidth, inChannels: info.outChannels,
    outHeight: info.inHeight, outWidth: info.inWidth, outChannels: info.inChannels, filterHeight: KH, filterWidth: KW,
    strideHeight: 1, strideWidth: 1,
    padTop: KH - 1 - info.padTop, padLeft: KW - 1 - info.padLeft, padBottom: KH - 1 - info.padBottom, padRight: KW - 1 - info.padRight,
  };
}

/** Which of the three kernels of this convolution the direct path takes (float32, WebAssembly SIMD). */
export function directFits(info: Conv2DInfo): { forward: boolean; inputGradient: boolean; filterGradient: boolean } {
  if (algorithm !== 'direct' || !wasmGemmAvailable()) return { forward: false, inputGradient: false, filterGradient: false };
  const forward = forwardFits(info);
  const back = transposedInfo(info);
  const inputGradient = forward && back.padTop >= 0 && back.padLeft >= 0 && back.padBottom >= 0 && back.padRight >= 0 && forwardFits(back);
  const g = geometryOf(info);
  const rowsOfDw = Math.ceil(g.KW * g.C / MR) * MR, ldc = Math.ceil(g.F / NR) * NR;
  const filterGradient = forward && g.KH * rowsOfDw * ldc <= C_FLOATS && gradientBandRows(g) >= 1;
  return { forward, inputGradient, filterGradient };
}

/**
 * Whether convolutions take the direct kernels where they can ('direct', the default) or always the
 * patch matrix ('patches': im2col.ts and conv-parts.ts); GRADLAB_CONV sets it at start-up. For tests and
 * benchmarks, which compare the two; each thread has its own (conv-threads.ts tells the workers).
 */
export type ConvAlgorithm = 'direct' | 'patches';
let algorithm: ConvAlgorithm = envChoice('GRADLAB_CONV', ['direct', 'patches'] as const) ?? 'direct';

export function setConvAlgorithm(name: ConvAlgorithm): void {
  if (name !== 'direct' && name !== 'patches') throw new Error(`setConvAlgorithm: expected 'direct' or 'patches', got ${JSON.stringify(name)}`);
  algorithm = name;
}
export function convAlgorithm(): ConvAlgorithm { return algorithm; }

/**
 * Padded rows py0 … py0+count−1 of image n (py counts from the top of the padding) into `area` from 0,
 * Wp·C numbers each, zeros in the padding; then `slack` zeros.
 */
function copyPaddedRows(x: Float32Array, info: Conv2DInfo, n: number, py0: number, count: number, area: Float32Array, slack: number): void {
  const { inHeight: H, inWidth: W, inChannels: C, padTop, padLeft, padRight } = info;
  const rowFloats = (W + padLeft + padRight) * C, imageAt = n * H * W * C;
  const left = padLeft * C, right = padRight * C;
  for (let i = 0; i < count; i++) {
    const iy = py0 + i - padTop, at = i * rowFloats;
    if (iy < 0 || iy >= H) { area.fill(0, at, at + rowFloats); continue; }
    if (left > 0) area.fill(0, at, at + left);
    const from = imageAt + iy * W * C;
    area.set(x.subarray(from, from + W * C), at + left);
    if (right > 0) area.fill(0, at + rowFloats - right, at + rowFloats);
  }
  area.fill(0, count * rowFloats, count * rowFloats + slack);
}

/**
 * Images n0 … n1−1 of y = act(conv2d(x, w) + bias), written into y from yAt (image n0 first). x holds
 * all the images (n counts in x); w is the filter [KH, KW, C, F]. Where directFits(info).forward.
 */
export function directForward(x: Float32Array, w: Float32Array, info: Conv2DInfo, n0: number, n1: number, y: Float32Array, yAt: number, bias: TypedArray | null, relu: boolean, affine: Affine | null = null): void {
  const { kern, a, aAt, b, bAt, c, cAt } = kernelAreas();
  const g = geometryOf(info);
  const { Wp, C, KH, KW, OH, OW, F } = g;
  const run = KW * C, panels = Math.ceil(F / NR), ldc = panels * NR;
  // the filter, one block of k per ky, each packed as panels of 8 columns; the bias after them
  for (let ky = 0; ky < KH; ky++) packB32({ data: w, offset: 0, rowStride: F, colStride: 1 }, ky * run, run, 0, F, b.subarray(ky * run * ldc));
  // after them the bias, and a folded BatchNormalization's scale and shift, each ldc numbers (zero-padded)
  const biasAt = KH * run * ldc, scaleAt = biasAt + ldc, shiftAt = scaleAt + ldc;
  const place = (values: TypedArray, at: number): void => { b.fill(0, at, at + ldc); for (let f = 0; f < F; f++) b[at + f] = values[f]; };
  if (bias) place(bias, biasAt);
  if (affine) { place(affine.scale, scaleAt); place(affine.shift, shiftAt); }
  const epilogue = bias && relu ? kern.biasRelu : bias ? kern.bias : relu ? kern.relu : null;
  for (let n = n0; n < n1; n++) {
    for (let oy0 = 0; oy0 < OH; oy0 += g.bandRows) {
      const rows = Math.min(g.bandRows, OH - oy0);
      copyPaddedRows(x, info, n, oy0, rows + KH - 1, a, g.slack);
      const virtualRows = rows * Wp;
      for (let r0 = 0; r0 < virtualRows; r0 += ROWS_PER_CALL) {
        const count = Math.min(ROWS_PER_CALL, virtualRows - r0), tiles = Math.ceil(count / MR);
        for (let ky = 0; ky < KH; ky++) {
          kern.blockDirect(aAt + (r0 + ky * Wp) * C * 4, bAt + ky * run * ldc * 4, cAt, tiles, panels, run, ldc * 4, ky > 0 ? 1 : 0, C * 4, 4, 32, run * 32);
        }
        epilogue?.(cAt, count, ldc / 4, bAt + biasAt * 4);
        if (affine) kern.scaleShift(cAt, count, ldc / 4, bAt + scaleAt * 4, bAt + shiftAt * 4);
        takeRows(c, r0, count, Wp, OW, ldc, F, y, yAt + ((n - n0) * OH + oy0) * OW * F);
      }
    }
  }
}

/**
 * Virtual rows r0 … r0+count−1 of a band, from the kernel's block of C (row i at c[i·ldc]), into y (the
 * band's first output pixel at yAt): those with ox < OW. Runs of consecutive kept rows go in one memcpy
 * when C's rows are exactly F long.
 */
function takeRows(c: Float32Array, r0: number, count: number, Wp: number, OW: number, ldc: number, F: number, y: Float32Array, yAt: number): void {
  for (let i = 0; i < count;) {
    const r = r0 + i, ox = r % Wp;
    if (ox >= OW) { i += Wp - ox; continue; }
    const kept = Math.min(OW - ox, count - i), to = yAt + ((r - ox) / Wp * OW + ox) * F;
    if (ldc === F) y.set(c.subarray(i * F, (i + kept) * F), to);
    else for (let q = 0; q < kept; q++) for (let f = 0; f < F; f++) y[to + q * F + f] = c[(i + q) * ldc + f];
    i += kept;
  }
}

/** The filter turned half a turn, channels swapped: W'[ky, kx, f, c] = W[KH−1−ky, KW−1−kx, c, f]. */
function turnedFilter(w: Float32Array, info: Conv2DInfo): Float32Array {
  const { filterHeight: KH, filterWidth: KW, inChannels: C, outChannels: F } = info;
  // sized from info, not from w: a worker's w is the pool's shared buffer, which is usually much longer
  const turned = new Float32Array(KH * KW * C * F);
  for (let ky = 0; ky < KH; ky++) for (let kx = 0; kx < KW; kx++) {
    const from = ((KH - 1 - ky) * KW + (KW - 1 - kx)) * C * F, to = (ky * KW + kx) * F * C;
    for (let c = 0; c < C; c++) for (let f = 0; f < F; f++) turned[to + f * C + c] = w[from + c * F + f];
  }
  return turned;
}

/**
 * Images n0 … n1−1 of dx = conv2dBackpropInput(dy, w), written into dx from dxAt (image n0 first): the
 * forward convolution of dy with the turned filter. Where directFits(info).inputGradient.
 */
export function directInputGradient(dy: Float32Array, w: Float32Array, info: Conv2DInfo, n0: number, n1: number, dx: Float32Array, dxAt: number): void {
  directForward(dy, turnedFilter(w, info), transposedInfo(info), n0, n1, dx, dxAt, null, false);
}

/**
 * Columns f0 … f1−1 of dW = conv2dBackpropFilter(x, dy) [KH·KW·C, F], summed over every image, into
 * dw [KH·KW·C, f1 − f0] from dwAt. Where directFits(info).filterGradient.
 */
export function directFilterGradient(x: Float32Array, dy: Float32Array, info: Conv2DInfo, f0: number, f1: number, dw: Float32Array, dwAt: number): void {
  const { kern, a, aAt, b, bAt, c, cAt } = kernelAreas();
  const g = geometryOf(info);
  const { Wp, C, KH, KW, OH, F } = g;
  const run = KW * C, rowsOfDw = Math.ceil(run / MR) * MR, width = f1 - f0;
  const panels = Math.ceil(width / NR), ldc = panels * NR;
  const bandRows = gradientBandRows(g);
  let first = true;
  for (let n = 0; n < info.batch; n++) {
    for (let oy0 = 0; oy0 < OH; oy0 += bandRows) {
      const rows = Math.min(bandRows, OH - oy0);
      copyPaddedRows(x, info, n, oy0, rows + KH - 1, a, g.slack);
      copyGradientRows(dy, g, n, oy0, rows, b);
      const virtualRows = rows * Wp;
      for (let r0 = 0; r0 < virtualRows; r0 += PIXELS_PER_STEP) {
        const steps = Math.min(PIXELS_PER_STEP, virtualRows - r0);
        for (let ky = 0; ky < KH; ky++) {
          kern.blockDirect(aAt + (r0 + ky * Wp) * C * 4, bAt + (r0 * F + f0) * 4, cAt + ky * rowsOfDw * ldc * 4,
            rowsOfDw / MR, panels, steps, ldc * 4, first ? 0 : 1, 4, C * 4, F * 4, NR * 4);
        }
        first = false;
      }
    }
  }
  if (first) { dw.fill(0, dwAt, dwAt + KH * run * width); return; } // no pixels: nothing was summed
  for (let ky = 0; ky < KH; ky++) for (let e = 0; e < run; e++) {
    const from = (ky * rowsOfDw + e) * ldc, to = dwAt + (ky * run + e) * width;
    for (let j = 0; j < width; j++) dw[to + j] = c[from + j];
  }
}

/** Output rows per band of the filter gradient: the image's band, and dy's band in area b. */
function gradientBandRows(g: Geometry): number {
  return Math.min(g.bandRows, Math.floor((B_FLOATS - NR) / (g.Wp * g.F)));
}

/**
 * dy's output rows oy0 … oy0+rows−1 of image n as virtual rows (Wp of F numbers per output row, zeros
 * in the thrown-away ones, so that they add nothing to the sums) into area b from 0, then NR zeros (the
 * last panel of a thread's columns may read up to 7 numbers past F).
 */
function copyGradientRows(dy: Float32Array, g: Geometry, n: number, oy0: number, rows: number, b: Float32Array): void {
  const { Wp, OH, OW, F } = g;
  for (let i = 0; i < rows; i++) {
    const from = ((n * OH + oy0 + i) * OW) * F, at = i * Wp * F;
    b.set(dy.subarray(from, from + OW * F), at);
    b.fill(0, at + OW * F, at + Wp * F);
  }
  b.fill(0, rows * Wp * F, rows * Wp * F + NR);
}
