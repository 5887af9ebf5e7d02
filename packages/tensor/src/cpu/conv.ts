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
import type { TypedArray } from '../dtype.js';
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

/** Fill cols[0 : rowCount·patch] with rows row0 … row0+rowCount−1 of the patch matrix of x. */
function im2col(x: TypedArray, info: Conv2DInfo, row0: number, rowCount: number, cols: TypedArray): void {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, filterHeight: KH, filterWidth: KW } = info;
  let at = 0;
  for (let row = row0; row < row0 + rowCount; row++) {
    const n = Math.floor(row / (OH * OW));
    const oy = Math.floor(row / OW) % OH;
    const ox = row % OW;
    const y0 = oy * info.strideHeight - info.padTop;
    const x0 = ox * info.strideWidth - info.padLeft;
    for (let ky = 0; ky < KH; ky++) {
      const iy = y0 + ky;
      for (let kx = 0; kx < KW; kx++) {
        const ix = x0 + kx;
        if (iy < 0 || iy >= H || ix < 0 || ix >= W) {
          for (let c = 0; c < C; c++) cols[at++] = 0;
        } else {
          let src = ((n * H + iy) * W + ix) * C; // the C channels of one pixel are contiguous (NHWC)
          for (let c = 0; c < C; c++) cols[at++] = x[src++];
        }
      }
    }
  }
}

/** The reverse of im2col for gradients: dx[pixel each entry was copied from] += dcols[entry]. */
function col2im(dcols: TypedArray, info: Conv2DInfo, row0: number, rowCount: number, dx: TypedArray): void {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, filterHeight: KH, filterWidth: KW } = info;
  let at = 0;
  for (let row = row0; row < row0 + rowCount; row++) {
    const n = Math.floor(row / (OH * OW));
    const oy = Math.floor(row / OW) % OH;
    const ox = row % OW;
    const y0 = oy * info.strideHeight - info.padTop;
    const x0 = ox * info.strideWidth - info.padLeft;
    for (let ky = 0; ky < KH; ky++) {
      const iy = y0 + ky;
      for (let kx = 0; kx < KW; kx++) {
        const ix = x0 + kx;
        if (iy < 0 || iy >= H || ix < 0 || ix >= W) {
          at += C; // this entry multiplied a padding zero: no input to send it to
        } else {
          let dst = ((n * H + iy) * W + ix) * C;
          for (let c = 0; c < C; c++) dx[dst++] += dcols[at++];
        }
      }
    }
  }
}

/** True when the patch matrix is x itself: a 1×1 filter that visits every pixel once. */
function isPointwise(info: Conv2DInfo): boolean {
  return info.filterHeight === 1 && info.filterWidth === 1 && info.strideHeight === 1 && info.strideWidth === 1;
}

/** y = cols · W, chunk by chunk of rows. */
export const conv2d: Backend['conv2d'] = (x, filter, info) => {
  const rows = info.batch * info.outHeight * info.outWidth;
  const patch = info.filterHeight * info.filterWidth * info.inChannels;
  const F = info.outChannels;
  const xs = contiguousData(x), w = rowMajor(contiguousData(filter), F);
  const y = allocate(x.dtype, rows * F);
  if (isPointwise(info)) {
    parallelGemm(rows, F, patch, rowMajor(xs, patch), w, y);
  } else {
    const chunk = rowsPerChunk(info);
    const cols = allocate(x.dtype, Math.min(chunk, rows) * patch);
    for (let row0 = 0; row0 < rows; row0 += chunk) {
      const count = Math.min(chunk, rows - row0);
      im2col(xs, info, row0, count, cols);
      parallelGemm(count, F, patch, rowMajor(cols, patch), w, y, row0 * F);
    }
  }
  return cpuTensor(y, [info.batch, info.outHeight, info.outWidth, F]);
};

/** dx = col2im(dy · Wᵀ), chunk by chunk of rows. */
export const conv2dBackpropInput: Backend['conv2dBackpropInput'] = (dy, filter, info) => {
  const rows = info.batch * info.outHeight * info.outWidth;
  const patch = info.filterHeight * info.filterWidth * info.inChannels;
  const F = info.outChannels;
  const dys = contiguousData(dy), wT = transposed(rowMajor(contiguousData(filter), F));
  const dx = allocate(dy.dtype, info.batch * info.inHeight * info.inWidth * info.inChannels);
  if (isPointwise(info)) {
    parallelGemm(rows, patch, F, rowMajor(dys, F), wT, dx);
  } else {
    const chunk = rowsPerChunk(info);
    const dcols = allocate(dy.dtype, Math.min(chunk, rows) * patch);
    for (let row0 = 0; row0 < rows; row0 += chunk) {
      const count = Math.min(chunk, rows - row0);
      parallelGemm(count, patch, F, rowMajor(dys, F, row0 * F), wT, dcols);
      col2im(dcols, info, row0, count, dx);
    }
  }
  return cpuTensor(dx, [info.batch, info.inHeight, info.inWidth, info.inChannels]);
};

/** dW = colsᵀ · dy, summed chunk by chunk of rows. */
export const conv2dBackpropFilter: Backend['conv2dBackpropFilter'] = (x, dy, info) => {
  const rows = info.batch * info.outHeight * info.outWidth;
  const patch = info.filterHeight * info.filterWidth * info.inChannels;
  const F = info.outChannels;
  const xs = contiguousData(x), dys = contiguousData(dy);
  const dw = allocate(x.dtype, patch * F);
  if (isPointwise(info)) {
    parallelGemm(patch, F, rows, transposed(rowMajor(xs, patch)), rowMajor(dys, F), dw);
  } else {
    const chunk = rowsPerChunk(info);
    const cols = allocate(x.dtype, Math.min(chunk, rows) * patch);
    for (let row0 = 0; row0 < rows; row0 += chunk) {
      const count = Math.min(chunk, rows - row0);
      im2col(xs, info, row0, count, cols);
      parallelGemm(patch, F, count, transposed(rowMajor(cols, patch)), rowMajor(dys, F, row0 * F), dw, 0, row0 > 0);
    }
  }
  return cpuTensor(dw, [info.filterHeight, info.filterWidth, info.inChannels, F]);
};
