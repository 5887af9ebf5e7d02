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
 * Float32 on the WebAssembly kernel (wasm/gemm-f32.ts) goes further. At stride 1 the kernel reads
 * every window straight from the image, with no patch matrix at all: conv-direct.ts. Elsewhere an
 * "implicit gemm" writes the patch rows (or, for the filter gradient, the transposed patch matrix)
 * straight into the kernel's memory and reads dcols where the kernel leaves it: conv-parts.ts. Large ones are split
 * between threads, each computing a part of the output with that same code: conv-threads.ts. Patches
 * longer than ~1 000 entries (input gradient) or too many filters for all of dW to fit one band of the
 * kernel's memory (filter gradient) keep the chunked path, and so do float64 and the JavaScript kernel
 * (their gemms are split between threads one chunk at a time, by parallelGemm).
 */
import type { Backend, Conv2DInfo } from '../backend.js';
import type { DType, TypedArray } from '../dtype.js';
import { allocate } from '../dtype.js';
import { contiguousData, cpuTensor } from './elementwise.js';
import { rowMajor, transposed } from './pack.js';
import { useWasmGemm } from './gemm.js';
import { parallelGemm } from './threads.js';
import { col2im, im2col, patchMatrix } from './im2col.js';
import { applyEpilogue, filterGradientFits, inputGradientFits } from './conv-parts.js';
import { conv2dBackpropFilterFloat32, conv2dBackpropInputFloat32, conv2dFloat32 } from './conv-threads.js';
import { directFits } from './conv-direct.js';

const CHUNK_ELEMENTS = 1 << 18;

/** Rows of the patch matrix per chunk: a multiple of the micro-kernel's 4 rows, at least 4. */
function rowsPerChunk(info: Conv2DInfo): number {
  const patch = info.filterHeight * info.filterWidth * info.inChannels;
  return Math.max(4, Math.floor(CHUNK_ELEMENTS / patch / 4) * 4);
}

/** True when the patch matrix is x itself: a 1×1 filter that visits every pixel once. */
function isPointwise(info: Conv2DInfo): boolean {
  return info.filterHeight === 1 && info.filterWidth === 1 && info.strideHeight === 1 && info.strideWidth === 1;
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

/** y = cols · W, then the epilogue (bias, ReLU) in place: one more pass over y (each thread over its own rows). */
export const conv2d: Backend['conv2d'] = (x, filter, info, epilogue) => {
  const { rows, patch, F } = patchMatrix(info);
  const xs = contiguousData(x), ws = contiguousData(filter);
  const bias = epilogue?.bias ? contiguousData(epilogue.bias) : null, relu = epilogue?.relu ?? false;
  const affine = epilogue?.affine ? { scale: contiguousData(epilogue.affine.scale), shift: contiguousData(epilogue.affine.shift) } : null;
  const y = allocate(x.dtype, rows * F);
  if (y instanceof Float32Array && useWasmGemm() && !isPointwise(info)) {
    conv2dFloat32(xs as Float32Array, ws as Float32Array, info, y, bias, relu, affine);
    return cpuTensor(y, [info.batch, info.outHeight, info.outWidth, F]);
  }
  const w = rowMajor(ws, F);
  if (isPointwise(info)) parallelGemm(rows, F, patch, rowMajor(xs, patch), w, y);
  else byChunks(info, x.dtype, (row0, count, cols) => {
    im2col(xs, info, row0, count, cols);
    parallelGemm(count, F, patch, rowMajor(cols, patch), w, y, row0 * F);
  });
  if (epilogue) applyEpilogue(y, 0, y.length, F, bias, relu, affine);
  return cpuTensor(y, [info.batch, info.outHeight, info.outWidth, F]);
};

/** dx = col2im(dy · Wᵀ), chunk by chunk of rows (float32: the implicit gemm, conv-parts.ts). */
export const conv2dBackpropInput: Backend['conv2dBackpropInput'] = (dy, filter, info) => {
  const { rows, patch, F } = patchMatrix(info);
  const dys = contiguousData(dy), ws = contiguousData(filter);
  const dx = allocate(dy.dtype, info.batch * info.inHeight * info.inWidth * info.inChannels);
  const wT = transposed(rowMajor(ws, F));
  if (isPointwise(info)) parallelGemm(rows, patch, F, rowMajor(dys, F), wT, dx);
  else if (dx instanceof Float32Array && useWasmGemm() && (inputGradientFits(info) || directFits(info).inputGradient)) {
    conv2dBackpropInputFloat32(dys as Float32Array, ws as Float32Array, info, dx);
  } else byChunks(info, dy.dtype, (row0, count, dcols) => {
    parallelGemm(count, patch, F, rowMajor(dys, F, row0 * F), wT, dcols);
    col2im(dcols, info, row0, count, dx);
  });
  return cpuTensor(dx, [info.batch, info.inHeight, info.inWidth, info.inChannels]);
};

/** dW = colsᵀ · dy, summed chunk by chunk of rows (float32: the implicit gemm, conv-parts.ts). */
export const conv2dBackpropFilter: Backend['conv2dBackpropFilter'] = (x, dy, info) => {
  const { rows, patch, F } = patchMatrix(info);
  const xs = contiguousData(x), dys = contiguousData(dy);
  const dw = allocate(x.dtype, patch * F);
  if (isPointwise(info)) parallelGemm(patch, F, rows, transposed(rowMajor(xs, patch)), rowMajor(dys, F), dw);
  else if (dw instanceof Float32Array && useWasmGemm() && (filterGradientFits(info) || directFits(info).filterGradient)) {
    conv2dBackpropFilterFloat32(xs as Float32Array, dys as Float32Array, info, dw);
  } else byChunks(info, x.dtype, (row0, count, cols) => {
    im2col(xs, info, row0, count, cols);
    parallelGemm(patch, F, count, transposed(rowMajor(cols, patch)), rowMajor(dys, F, row0 * F), dw, 0, row0 > 0);
  });
  return cpuTensor(dw, [info.filterHeight, info.filterWidth, info.inChannels, F]);
};
