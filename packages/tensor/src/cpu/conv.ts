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
 */
import type { Backend, Conv2DInfo } from '../backend.js';
import type { DType, TypedArray } from '../dtype.js';
import { allocate } from '../dtype.js';
import { contiguousData, cpuTensor } from './elementwise.js';
import { rowMajor, transposed } from './pack.js';
import { parallelGemm } from './threads.js';

const CHUNK_ELEMENTS = 1 << 18;

/** Rows of the patch matrix per chunk: a multiple of the micro-kernel's 4 rows, at least 4. */
function rowsPerChunk(info: Conv2DInfo): number {
  const patch = info.filterHeight * info.filterWidth * info.inChannels;
  return Math.max(4, Math.floor(CHUNK_ELEMENTS / patch / 4) * 4);
}

/**
 * Walk rows row0 … row0+rowCount−1 of the patch matrix in order, one run of entries at a time:
 * `visit(at, pixel, count)` says that the `count` entries from `at` in the chunk hold x[pixel …
 * pixel+count−1], or, where pixel is −1, padding zeros. A window row (one ky) is at most three runs:
 * the columns left of the image, the columns inside it (consecutive pixels, so in NHWC one contiguous
 * stretch of x, channels included) and the columns right of it.
 */
function walkWindows(info: Conv2DInfo, row0: number, rowCount: number, visit: (at: number, pixel: number, count: number) => void): void {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, filterHeight: KH, filterWidth: KW } = info;
  const rowLength = KW * C;
  let at = 0;
  for (let row = row0; row < row0 + rowCount; row++) {
    const n = Math.floor(row / (OH * OW));
    const oy = Math.floor(row / OW) % OH;
    const ox = row % OW;
    const y0 = oy * info.strideHeight - info.padTop;
    const x0 = ox * info.strideWidth - info.padLeft;
    const kxStart = Math.max(0, -x0), kxEnd = Math.min(KW, W - x0); // the window's columns inside the image
    for (let ky = 0; ky < KH; ky++, at += rowLength) {
      const iy = y0 + ky;
      if (iy < 0 || iy >= H || kxStart >= kxEnd) { visit(at, -1, rowLength); continue; }
      if (kxStart > 0) visit(at, -1, kxStart * C);
      visit(at + kxStart * C, ((n * H + iy) * W + x0 + kxStart) * C, (kxEnd - kxStart) * C);
      if (kxEnd < KW) visit(at + kxEnd * C, -1, (KW - kxEnd) * C);
    }
  }
}

/** Fill cols[0 : rowCount·patch] with rows row0 … row0+rowCount−1 of the patch matrix of x. */
function im2col(x: TypedArray, info: Conv2DInfo, row0: number, rowCount: number, cols: TypedArray): void {
  walkWindows(info, row0, rowCount, (at, pixel, count) => {
    if (pixel < 0) cols.fill(0, at, at + count);
    else for (let k = 0; k < count; k++) cols[at + k] = x[pixel + k];
  });
}

/** The reverse of im2col for gradients: dx[pixel each entry was copied from] += dcols[entry]. */
function col2im(dcols: TypedArray, info: Conv2DInfo, row0: number, rowCount: number, dx: TypedArray): void {
  walkWindows(info, row0, rowCount, (at, pixel, count) => {
    if (pixel < 0) return; // these entries multiplied padding zeros: no input to send them to
    for (let k = 0; k < count; k++) dx[pixel + k] += dcols[at + k];
  });
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
 */
function byChunks(info: Conv2DInfo, dtype: DType, step: (row0: number, count: number, cols: TypedArray) => void): void {
  const { rows, patch } = patchMatrix(info);
  const chunk = rowsPerChunk(info);
  const cols = allocate(dtype, Math.min(chunk, rows) * patch);
  for (let row0 = 0; row0 < rows; row0 += chunk) step(row0, Math.min(chunk, rows - row0), cols);
}

/** y = cols · W, chunk by chunk of rows. */
export const conv2d: Backend['conv2d'] = (x, filter, info) => {
  const { rows, patch, F } = patchMatrix(info);
  const xs = contiguousData(x), w = rowMajor(contiguousData(filter), F);
  const y = allocate(x.dtype, rows * F);
  if (isPointwise(info)) parallelGemm(rows, F, patch, rowMajor(xs, patch), w, y);
  else byChunks(info, x.dtype, (row0, count, cols) => {
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
  else byChunks(info, dy.dtype, (row0, count, dcols) => {
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
