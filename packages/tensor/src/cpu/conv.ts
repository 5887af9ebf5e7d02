/**
 * Convolution on the CPU as matrix multiplication (im2col).
 *
 * Lay every receptive field out as one row: row (n, oy, ox) of the patch matrix `cols` holds
 * x[n, oy·sh − padTop + ky, ox·sw − padLeft + kx, c] for (ky, kx, c) in row-major order (0 where the
 * window hangs over the edge). That order is the order of the filter's [kh, kw, C, F] layout read as a
 * matrix W [kh·kw·C, F], so
 *
 *   forward          y      = cols · W          [rows, F]      (rows = N·OH·OW, and y is NHWC already)
 *   filter gradient  dW     = colsᵀ · dy        [kh·kw·C, F]
 *   input gradient   dcols  = dy · Wᵀ           [rows, kh·kw·C], then col2im adds each entry back
 *                                               onto the input pixel it was copied from
 *
 * The patch matrix is kh·kw times larger than the input, so it is built for a chunk of rows at a time
 * (about CHUNK_ELEMENTS numbers), which also keeps it in cache while gemm reads it.
 *
 * Float32 on the WebAssembly kernel (wasm/gemm-f32.ts) goes further, an "implicit gemm": the forward
 * pass hands the gemm an ARows that writes each band of patch rows straight into the kernel's memory,
 * where the kernel reads them in place (no patch matrix in JavaScript, no packing of A: for the first
 * layer of an image model, K = 3·3·3 = 27, those copies cost more than the arithmetic); the input
 * gradient takes each band of dcols where the kernel left it and col2im's it from there (a CRows).
 * The filter gradient, colsᵀ·dy, needs the patch matrix transposed and keeps the chunked path.
 */
import type { Backend, Conv2DInfo } from '../backend.js';
import type { DType, TypedArray } from '../dtype.js';
import { allocate } from '../dtype.js';
import { contiguousData, cpuTensor } from './elementwise.js';
import { rowMajor, transposed } from './pack.js';
import { useWasmGemm } from './gemm.js';
import { parallelGemm } from './threads.js';
import { gemmFloat32, WASM_GEMM_NC } from './wasm/gemm-f32.js';

const CHUNK_ELEMENTS = 1 << 18;

/** Rows of the patch matrix per chunk: a multiple of the micro-kernel's 4 rows, at least 4. */
function rowsPerChunk(info: Conv2DInfo): number {
  const patch = info.filterHeight * info.filterWidth * info.inChannels;
  return Math.max(4, Math.floor(CHUNK_ELEMENTS / patch / 4) * 4);
}

/**
 * Rows row0 … row0+rowCount−1 of the patch matrix, row i at cols[at0 + i·rowStride …] (rowStride ≥
 * kh·kw·C), moved between the image and cols: `gather` copies the image into cols (im2col), else each
 * entry of cols is added back onto the pixel it came from (col2im, for gradients). A window row (one
 * ky) is at most three runs: the columns left of the image, the columns inside it (consecutive pixels,
 * so in NHWC one contiguous stretch of the image, channels included) and the columns right of it. The
 * padding runs are zeros in cols, and have no pixel to send a gradient to.
 * One loop for both directions, without a callback per run: with C = 3 a run is only 9 numbers long,
 * and a call for each cost as much as the copying.
 */
function moveWindows(info: Conv2DInfo, row0: number, rowCount: number, image: TypedArray, cols: TypedArray, at0: number, rowStride: number, gather: boolean): void {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, filterHeight: KH, filterWidth: KW } = info;
  const rowLength = KW * C;
  for (let i = 0; i < rowCount; i++) {
    const row = row0 + i;
    const n = Math.floor(row / (OH * OW));
    const oy = Math.floor(row / OW) % OH;
    const ox = row % OW;
    const y0 = oy * info.strideHeight - info.padTop;
    const x0 = ox * info.strideWidth - info.padLeft;
    const kxStart = Math.max(0, -x0), kxEnd = Math.min(KW, W - x0); // the window's columns inside the image
    const inside = (kxEnd - kxStart) * C;
    let at = at0 + i * rowStride;
    for (let ky = 0; ky < KH; ky++, at += rowLength) {
      const iy = y0 + ky;
      if (iy < 0 || iy >= H || kxStart >= kxEnd) { if (gather) cols.fill(0, at, at + rowLength); continue; }
      const from = at + kxStart * C, pixel = ((n * H + iy) * W + x0 + kxStart) * C;
      if (gather) {
        if (kxStart > 0) cols.fill(0, at, from);
        for (let k = 0; k < inside; k++) cols[from + k] = image[pixel + k];
        if (kxEnd < KW) cols.fill(0, from + inside, at + rowLength);
      } else {
        for (let k = 0; k < inside; k++) image[pixel + k] += cols[from + k];
      }
    }
  }
}

/** Fill cols[at0 …] with rows row0 … row0+rowCount−1 of the patch matrix of x, one row every rowStride. */
function im2col(x: TypedArray, info: Conv2DInfo, row0: number, rowCount: number, cols: TypedArray, at0 = 0, rowStride = patchMatrix(info).patch): void {
  moveWindows(info, row0, rowCount, x, cols, at0, rowStride, true);
}

/**
 * The reverse of im2col for gradients: dx[pixel each entry was copied from] += dcols[entry], rows of
 * dcols from at0, one every rowStride.
 */
function col2im(dcols: TypedArray, info: Conv2DInfo, row0: number, rowCount: number, dx: TypedArray, at0 = 0, rowStride = patchMatrix(info).patch): void {
  moveWindows(info, row0, rowCount, dx, dcols, at0, rowStride, false);
}

/** True when the patch matrix is x itself: a 1×1 filter that visits every pixel once. */
function isPointwise(info: Conv2DInfo): boolean {
  return info.filterHeight === 1 && info.filterWidth === 1 && info.strideHeight === 1 && info.strideWidth === 1;
}

/** The patch matrix's size: rows = N·OH·OW windows of patch = kh·kw·C entries; F filters. */
function patchMatrix(info: Conv2DInfo): { rows: number; patch: number; F: number } {
  return { rows: info.batch * info.outHeight * info.outWidth, patch: info.filterHeight * info.filterWidth * info.inChannels, F: info.outChannels };
}

/**
 * The patch matrix a chunk of rows at a time, in one buffer that every chunk reuses:
 * step(row0, count, cols) with cols[0 : count·patch] free for rows row0 … row0+count−1.
 * The float32 buffer is also kept from one call to the next: a fresh megabyte costs its page faults
 * on first touch (several ms on a virtual machine), every call.
 */
function byChunks(info: Conv2DInfo, dtype: DType, step: (row0: number, count: number, cols: TypedArray) => void): void {
  const { rows, patch } = patchMatrix(info);
  const chunk = rowsPerChunk(info);
  const size = Math.min(chunk, rows) * patch;
  let cols: TypedArray;
  if (dtype === 'float32') {
    if (scratch.length < size) scratch = new Float32Array(Math.max(size, CHUNK_ELEMENTS));
    cols = scratch;
  } else cols = allocate(dtype, size);
  for (let row0 = 0; row0 < rows; row0 += chunk) step(row0, Math.min(chunk, rows - row0), cols);
}
let scratch = new Float32Array(0);

/** y = cols · W, chunk by chunk of rows. */
export const conv2d: Backend['conv2d'] = (x, filter, info) => {
  const { rows, patch, F } = patchMatrix(info);
  const xs = contiguousData(x), w = rowMajor(contiguousData(filter), F);
  const y = allocate(x.dtype, rows * F);
  if (isPointwise(info)) parallelGemm(rows, F, patch, rowMajor(xs, patch), w, y);
  else if (y instanceof Float32Array && useWasmGemm()) {
    // implicit gemm: the patch rows are written straight into the WebAssembly kernel's memory
    gemmFloat32(rows, F, patch, { fill: (row0, count, dest, at) => im2col(xs, info, row0, count, dest, at) }, w, y);
  } else byChunks(info, x.dtype, (row0, count, cols) => {
    im2col(xs, info, row0, count, cols);
    parallelGemm(count, F, patch, rowMajor(cols, patch), w, y, row0 * F);
  });
  return cpuTensor(y, [info.batch, info.outHeight, info.outWidth, F]);
};

/** dx = col2im(dy · Wᵀ), chunk by chunk of rows. */
export const conv2dBackpropInput: Backend['conv2dBackpropInput'] = (dy, filter, info) => {
  const { rows, patch, F } = patchMatrix(info);
  const dys = contiguousData(dy), wT = transposed(rowMajor(contiguousData(filter), F));
  const dx = allocate(dy.dtype, info.batch * info.inHeight * info.inWidth * info.inChannels);
  if (isPointwise(info)) parallelGemm(rows, patch, F, rowMajor(dys, F), wT, dx);
  else if (dx instanceof Float32Array && useWasmGemm() && patch <= WASM_GEMM_NC) {
    // dcols never leaves the WebAssembly kernel's memory: col2im reads each band of it there
    gemmFloat32(rows, patch, F, rowMajor(dys, F), wT, { take: (row0, count, band, at, ldc) => col2im(band, info, row0, count, dx, at, ldc) });
  } else byChunks(info, dy.dtype, (row0, count, dcols) => {
    parallelGemm(count, patch, F, rowMajor(dys, F, row0 * F), wT, dcols);
    col2im(dcols, info, row0, count, dx);
  });
  return cpuTensor(dx, [info.batch, info.inHeight, info.inWidth, info.inChannels]);
};

/** dW = colsᵀ · dy, summed chunk by chunk of rows. */
export const conv2dBackpropFilter: Backend['conv2dBackpropFilter'] = (x, dy, info) => {
  const { rows, patch, F } = patchMatrix(info);
  const xs = contiguousData(x), dys = contiguousData(dy);
  const dw = allocate(x.dtype, patch * F);
  if (isPointwise(info)) parallelGemm(patch, F, rows, transposed(rowMajor(xs, patch)), rowMajor(dys, F), dw);
  else byChunks(info, x.dtype, (row0, count, cols) => {
    im2col(xs, info, row0, count, cols);
    parallelGemm(patch, F, count, transposed(rowMajor(cols, patch)), rowMajor(dys, F, row0 * F), dw, 0, row0 > 0);
  });
  return cpuTensor(dw, [info.filterHeight, info.filterWidth, info.inChannels, F]);
};
