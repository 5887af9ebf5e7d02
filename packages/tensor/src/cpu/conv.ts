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
 * The filter gradient, colsᵀ·dy, needs the patch matrix transposed, which is exactly the layout of the
 * kernel's packed A slivers (four entries of a patch row side by side, one patch row per step of k): so
 * im2colSlivers writes each block of 256 patch rows there directly (an ASlivers), and the chunk buffer
 * and the packing of colsᵀ are gone. Patches longer than ~2 000 entries (or too many filters for all of
 * dW to fit one band of the kernel's memory) keep the chunked path.
 */
import type { Backend, Conv2DInfo } from '../backend.js';
import type { DType, TypedArray } from '../dtype.js';
import { allocate } from '../dtype.js';
import { contiguousData, cpuTensor } from './elementwise.js';
import { rowMajor, transposed } from './pack.js';
import { useWasmGemm } from './gemm.js';
import { parallelGemm } from './threads.js';
import { gemmFloat32, sliversFit, WASM_GEMM_NC } from './wasm/gemm-f32.js';

const CHUNK_ELEMENTS = 1 << 18;

/** Rows of the patch matrix per chunk: a multiple of the micro-kernel's 4 rows, at least 4. */
function rowsPerChunk(info: Conv2DInfo): number {
  const patch = info.filterHeight * info.filterWidth * info.inChannels;
  return Math.max(4, Math.floor(CHUNK_ELEMENTS / patch / 4) * 4);
}

/**
 * Where patch row `row` = (n, oy, ox) reads the image: where = [n, y0, x0, kxStart, kxEnd], the window's
 * top-left pixel (y0, x0), which may lie in the padding, and its columns kxStart ≤ kx < kxEnd inside the
 * image. Written into an array the caller reuses, so that no object is made per patch row.
 */
function locateWindow(info: Conv2DInfo, row: number, where: Int32Array): void {
  const { outHeight: OH, outWidth: OW } = info;
  const oy = Math.floor(row / OW) % OH, ox = row % OW;
  const x0 = ox * info.strideWidth - info.padLeft;
  where[0] = Math.floor(row / (OH * OW));
  where[1] = oy * info.strideHeight - info.padTop;
  where[2] = x0;
  where[3] = Math.max(0, -x0);
  where[4] = Math.min(info.filterWidth, info.inWidth - x0);
}
const rowWindow = new Int32Array(5); // locateWindow's answer, reused row after row

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
  const { inHeight: H, inWidth: W, inChannels: C, filterHeight: KH, filterWidth: KW } = info;
  const rowLength = KW * C;
  for (let i = 0; i < rowCount; i++) {
    locateWindow(info, row0 + i, rowWindow);
    const n = rowWindow[0], y0 = rowWindow[1], x0 = rowWindow[2], kxStart = rowWindow[3], kxEnd = rowWindow[4];
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

/**
 * Patch rows row0 … row0+rowCount−1 written as the columns of slivers (wasm/gemm-f32.ts's ASlivers):
 * the filter gradient's A is the patch matrix transposed, so entry p of patch row row0+t goes to
 * dest[at + (⌊p/4⌋·rowCount + t)·4 + p mod 4], four consecutive entries of a row side by side in
 * each sliver. `slot[p]` holds ⌊p/4⌋·rowCount·4 + p mod 4; the pad entries up to a multiple of 4 are 0.
 */
function im2colSlivers(x: TypedArray, info: Conv2DInfo, row0: number, rowCount: number, dest: Float32Array, at: number, slot: Int32Array): void {
  const { inHeight: H, inWidth: W, inChannels: C, filterHeight: KH, filterWidth: KW } = info;
  const rowLength = KW * C;
  for (let i = 0; i < rowCount; i++) {
    locateWindow(info, row0 + i, rowWindow);
    const n = rowWindow[0], y0 = rowWindow[1], x0 = rowWindow[2], kxStart = rowWindow[3], kxEnd = rowWindow[4];
    const base = at + i * 4;
    let p = 0;
    for (let ky = 0; ky < KH; ky++) {
      const iy = y0 + ky, end = p + rowLength;
      if (iy < 0 || iy >= H || kxStart >= kxEnd) { for (; p < end; p++) dest[base + slot[p]] = 0; continue; }
      for (const stop = p + kxStart * C; p < stop; p++) dest[base + slot[p]] = 0;
      let pixel = ((n * H + iy) * W + x0 + kxStart) * C;
      for (const stop = p + (kxEnd - kxStart) * C; p < stop; p++) dest[base + slot[p]] = x[pixel++];
      for (; p < end; p++) dest[base + slot[p]] = 0;
    }
    for (; p < slot.length; p++) dest[base + slot[p]] = 0;
  }
}

/** Where entry p of a patch row goes among slivers of rowCount steps (see im2colSlivers). */
function sliverSlots(patch: number, rowCount: number): Int32Array {
  const slot = new Int32Array(Math.ceil(patch / 4) * 4);
  for (let p = 0; p < slot.length; p++) slot[p] = Math.floor(p / 4) * rowCount * 4 + (p % 4);
  return slot;
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

/** y = cols · W, chunk by chunk of rows; then the epilogue (bias, ReLU) in place, one pass over y. */
export const conv2d: Backend['conv2d'] = (x, filter, info, epilogue) => {
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
  if (epilogue) applyEpilogue(y, F, epilogue.bias ? contiguousData(epilogue.bias) : null, epilogue.relu);
  return cpuTensor(y, [info.batch, info.outHeight, info.outWidth, F]);
};

/**
 * y ← act(y + bias) in place, y [rows, F]: what a separate add and relu would do with two more passes
 * and two more arrays of y's size. ReLU as (v + |v|)/2, branch-free, as the unary kernel's.
 */
function applyEpilogue(y: TypedArray, F: number, bias: TypedArray | null, relu: boolean): void {
  const n = y.length, abs = Math.abs;
  // one flat loop per case, the bias index wrapping at F (a nested row/column loop ran ~1.5× slower)
  if (bias && relu) {
    for (let i = 0, f = 0; i < n; i++) { const v = y[i] + bias[f]; y[i] = (v + abs(v)) * 0.5; if (++f === F) f = 0; }
  } else if (bias) {
    for (let i = 0, f = 0; i < n; i++) { y[i] += bias[f]; if (++f === F) f = 0; }
  } else if (relu) {
    for (let i = 0; i < n; i++) { const v = y[i]; y[i] = (v + abs(v)) * 0.5; }
  }
}

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
  else if (dw instanceof Float32Array && useWasmGemm() && sliversFit(patch, F)) {
    // implicit gemm: the transposed patch matrix is written straight into the kernel's memory as slivers
    let slot: Int32Array = new Int32Array(0), slotCount = 0; // every k block but the last has the same count
    const fillSlivers = (row0: number, count: number, dest: Float32Array, at: number): void => {
      if (count !== slotCount) { slot = sliverSlots(patch, count); slotCount = count; }
      im2colSlivers(xs, info, row0, count, dest, at, slot);
    };
    gemmFloat32(patch, F, rows, { fillSlivers }, rowMajor(dys, F), dw);
  } else byChunks(info, x.dtype, (row0, count, cols) => {
    im2col(xs, info, row0, count, cols);
    parallelGemm(patch, F, count, transposed(rowMajor(cols, patch)), rowMajor(dys, F, row0 * F), dw, 0, row0 > 0);
  });
  return cpuTensor(dw, [info.filterHeight, info.filterWidth, info.inChannels, F]);
};
