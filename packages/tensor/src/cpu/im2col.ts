/**
 * The patch matrix of a convolution (im2col) and its way back (col2im): what conv.ts multiplies.
 *
 * Row (n, oy, ox) of the patch matrix holds x[n, oy·sh − padTop + ky, ox·sw − padLeft + kx, c] for
 * (ky, kx, c) in row-major order (0 where the window hangs over the edge): the order of the filter's
 * [kh, kw, C, F] layout read as a matrix W [kh·kw·C, F]. These functions write or read any range of its
 * rows (and, for the slivers, of its entries), so that conv.ts can build it a band at a time and each
 * thread (conv-threads.ts) its own part. They import only types: a gemm worker loads them cheaply.
 */
import type { Conv2DInfo } from '../backend.js';
import type { TypedArray } from '../dtype.js';

/** The patch matrix's size: rows = N·OH·OW windows of patch = kh·kw·C entries; F filters. */
export function patchMatrix(info: Conv2DInfo): { rows: number; patch: number; F: number } {
  return { rows: info.batch * info.outHeight * info.outWidth, patch: info.filterHeight * info.filterWidth * info.inChannels, F: info.outChannels };
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
export function im2col(x: TypedArray, info: Conv2DInfo, row0: number, rowCount: number, cols: TypedArray, at0 = 0, rowStride = patchMatrix(info).patch): void {
  moveWindows(info, row0, rowCount, x, cols, at0, rowStride, true);
}

/**
 * The reverse of im2col for gradients: dx[pixel each entry was copied from] += dcols[entry], rows of
 * dcols from at0, one every rowStride.
 */
export function col2im(dcols: TypedArray, info: Conv2DInfo, row0: number, rowCount: number, dx: TypedArray, at0 = 0, rowStride = patchMatrix(info).patch): void {
  moveWindows(info, row0, rowCount, dx, dcols, at0, rowStride, false);
}

/**
 * Entries entry0 ≤ p < entryEnd of patch rows row0 … row0+rowCount−1, written as the columns of slivers
 * (wasm/gemm-f32.ts's ASlivers): the filter gradient's A is the patch matrix transposed, so entry p of
 * patch row row0+t goes to dest[at + (⌊q/4⌋·rowCount + t)·4 + q mod 4], q = p − entry0: four
 * consecutive entries of a row side by side in each sliver. `slot[q]` holds ⌊q/4⌋·rowCount·4 + q mod 4
 * (sliverSlots); the pad entries up to a multiple of 4 are 0.
 * A range of entries is one thread's rows of dW (conv-threads.ts): each window row (one ky) is still
 * three runs (padding, pixels, padding), each cut to the range, so the whole patch (the one-thread case)
 * costs no more than before.
 */
export function im2colSlivers(x: TypedArray, info: Conv2DInfo, row0: number, rowCount: number, dest: Float32Array, at: number, slot: Int32Array, entry0: number, entryEnd: number): void {
  const { inHeight: H, inWidth: W, inChannels: C, filterHeight: KH, filterWidth: KW } = info;
  const rowLength = KW * C;
  const kyFirst = Math.floor(entry0 / rowLength), kyEnd = Math.min(KH, Math.ceil(entryEnd / rowLength));
  for (let i = 0; i < rowCount; i++) {
    locateWindow(info, row0 + i, rowWindow);
    const n = rowWindow[0], y0 = rowWindow[1], x0 = rowWindow[2], kxStart = rowWindow[3], kxEnd = rowWindow[4];
    const base = at + i * 4;
    for (let ky = kyFirst; ky < kyEnd; ky++) {
      const iy = y0 + ky, start = ky * rowLength, end = start + rowLength;
      const inImage = iy >= 0 && iy < H && kxStart < kxEnd;
      // the window row's pixels are entries pixelsFrom … pixelsTo (none when it lies in the padding)
      const pixelsFrom = inImage ? start + kxStart * C : end, pixelsTo = inImage ? start + kxEnd * C : end;
      let p = Math.max(start, entry0);
      for (const stop = Math.min(pixelsFrom, entryEnd); p < stop; p++) dest[base + slot[p - entry0]] = 0;
      let pixel = ((n * H + iy) * W + x0 + kxStart) * C + (p - pixelsFrom);
      for (const stop = Math.min(pixelsTo, entryEnd); p < stop; p++) dest[base + slot[p - entry0]] = x[pixel++];
      for (const stop = Math.min(end, entryEnd); p < stop; p++) dest[base + slot[p - entry0]] = 0;
    }
    for (let q = entryEnd - entry0; q < slot.length; q++) dest[base + slot[q]] = 0;
  }
}

/** Where entry q of a patch row's range goes among slivers of rowCount steps (see im2colSlivers). */
export function sliverSlots(entries: number, rowCount: number): Int32Array {
  const slot = new Int32Array(Math.ceil(entries / 4) * 4);
  for (let q = 0; q < slot.length; q++) slot[q] = Math.floor(q / 4) * rowCount * 4 + (q % 4);
  return slot;
}
