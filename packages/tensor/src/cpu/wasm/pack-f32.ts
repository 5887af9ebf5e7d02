/**
 * Packing for the WebAssembly kernel (the layouts are pack.ts's), specialised for Float32Array sources.
 *
 * pack.ts's packA / packB serve every dtype, so V8 sees several typed-array kinds at their loads and
 * compiles slow, generic element access. These copies see only Float32Array → Float32Array, and pick
 * the loop order from the strides, so that the reads walk memory in order (the writes into the small
 * packed block stay in L1 either way):
 *
 *   A row-major (colStride 1)     row by row of the sliver: each row's kc numbers are consecutive
 *   A transposed (rowStride 1)    step by step of k: a sliver's MR rows at one k are consecutive
 *   B row-major (colStride 1)     step by step of k: a panel's 8 columns at one k are consecutive
 *   B transposed (rowStride 1)    column by column: a column's kc numbers are consecutive
 *
 * Any other dtype or stride goes to the generic pack.ts functions.
 */
import { packA, packB } from '../pack.js';
import type { MatrixRef } from '../pack.js';

/** A[i0:i0+mc, k0:k0+kc] as slivers of `mr` rows (pack.ts's layout), zero-padded. */
export function packA32(a: MatrixRef, i0: number, mc: number, k0: number, kc: number, out: Float32Array, mr: number): void {
  const data = a.data;
  if (!(data instanceof Float32Array) || (a.colStride !== 1 && a.rowStride !== 1)) {
    packA(a, i0, mc, k0, kc, out, mr);
    return;
  }
  const { rowStride, colStride } = a;
  for (let s = 0; s < mc; s += mr) {
    const rows = mc - s < mr ? mc - s : mr;
    const base = s * kc;
    const first = a.offset + (i0 + s) * rowStride + k0 * colStride;
    if (colStride === 1) {
      for (let r = 0; r < mr; r++) {
        let dst = base + r;
        if (r >= rows) { for (let t = 0; t < kc; t++, dst += mr) out[dst] = 0; continue; }
        let src = first + r * rowStride;
        for (let t = 0; t < kc; t++, dst += mr) out[dst] = data[src++];
      }
    } else {
      // rowStride 1: at each k the sliver's rows are consecutive numbers
      let dst = base;
      for (let t = 0; t < kc; t++) {
        const src = first + t * colStride;
        let r = 0;
        for (; r < rows; r++) out[dst++] = data[src + r];
        for (; r < mr; r++) out[dst++] = 0;
      }
    }
  }
}

/** B[k0:k0+kc, j0:j0+nc] as panels of 8 columns (pack.ts's layout, nr = 8), zero-padded. */
export function packB32(b: MatrixRef, k0: number, kc: number, j0: number, nc: number, out: Float32Array): void {
  const data = b.data;
  if (!(data instanceof Float32Array) || (b.colStride !== 1 && b.rowStride !== 1)) {
    packB(b, k0, kc, j0, nc, out, 8);
    return;
  }
  const { rowStride, colStride } = b;
  for (let p = 0; p * 8 < nc; p++) {
    const cols = nc - p * 8 < 8 ? nc - p * 8 : 8;
    const base = p * kc * 8;
    const first = b.offset + k0 * rowStride + (j0 + p * 8) * colStride;
    if (colStride === 1 && cols === 8) {
      let dst = base, src = first;
      for (let t = 0; t < kc; t++, dst += 8, src += rowStride) {
        out[dst] = data[src]; out[dst + 1] = data[src + 1]; out[dst + 2] = data[src + 2]; out[dst + 3] = data[src + 3];
        out[dst + 4] = data[src + 4]; out[dst + 5] = data[src + 5]; out[dst + 6] = data[src + 6]; out[dst + 7] = data[src + 7];
      }
    } else if (colStride === 1) {
      let dst = base, src = first;
      for (let t = 0; t < kc; t++, dst += 8, src += rowStride) {
        let j = 0;
        for (; j < cols; j++) out[dst + j] = data[src + j];
        for (; j < 8; j++) out[dst + j] = 0;
      }
    } else {
      // rowStride 1: each column's kc numbers are consecutive
      for (let j = 0; j < 8; j++) {
        let dst = base + j;
        if (j >= cols) { for (let t = 0; t < kc; t++, dst += 8) out[dst] = 0; continue; }
        let src = first + j * colStride;
        for (let t = 0; t < kc; t++, dst += 8) out[dst] = data[src++];
      }
    }
  }
}
