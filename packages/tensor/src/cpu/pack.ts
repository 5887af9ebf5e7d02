/**
 * What the gemm kernels (gemm-js.ts, wasm/gemm-f32.ts) read: MatrixRef, a matrix anywhere in a flat
 * array, and packing, which copies a block of A or B, read through its strides, into the order in which
 * the micro-kernel reads it, so that the kernel's loads are consecutive. Edges are padded with zeros, so
 * the kernel always computes full tiles. This module imports only types: every gemm file builds on it.
 */
import type { TypedArray } from '../dtype.js';

/** A matrix inside a flat array: element (i, j) is data[offset + i·rowStride + j·colStride]. */
export interface MatrixRef {
  data: TypedArray;
  offset: number;
  rowStride: number;
  colStride: number;
}

/** A row-major matrix with `cols` columns starting at `offset`. */
export function rowMajor(data: TypedArray, cols: number, offset = 0): MatrixRef {
  return { data, offset, rowStride: cols, colStride: 1 };
}

/** The transpose of a MatrixRef: the same numbers with the strides swapped (no copy). */
export function transposed(m: MatrixRef): MatrixRef {
  return { data: m.data, offset: m.offset, rowStride: m.colStride, colStride: m.rowStride };
}

/** Where packed numbers go: the JS kernel packs float64, the WebAssembly kernel float32. */
export type PackBuffer = Float64Array | Float32Array;

/**
 * A[i0:i0+mc, k0:k0+kc] as slivers of `mr` rows: sliver s holds A[i0+s·mr+r, k0+t] at s·mr·kc + t·mr + r.
 * Short slivers are padded with 0.
 */
export function packA(a: MatrixRef, i0: number, mc: number, k0: number, kc: number, out: PackBuffer, mr: number): void {
  const { data, rowStride, colStride } = a;
  for (let s = 0; s < mc; s += mr) {
    const rows = mc - s < mr ? mc - s : mr;
    const base = s * kc;
    for (let r = 0; r < mr; r++) {
      let src = a.offset + (i0 + s + r) * rowStride + k0 * colStride;
      let dst = base + r;
      if (r < rows) for (let t = 0; t < kc; t++, dst += mr, src += colStride) out[dst] = data[src];
      else for (let t = 0; t < kc; t++, dst += mr) out[dst] = 0;
    }
  }
}

/**
 * B[k0:k0+kc, j0:j0+nc] as panels of `nr` columns: panel p holds B[k0+t, j0+p·nr+j] at p·kc·nr + t·nr + j.
 * Short panels are padded with 0.
 */
export function packB(b: MatrixRef, k0: number, kc: number, j0: number, nc: number, out: PackBuffer, nr: number): void {
  const { data, rowStride, colStride } = b;
  for (let p = 0; p * nr < nc; p++) {
    const cols = nc - p * nr < nr ? nc - p * nr : nr;
    let dst = p * kc * nr;
    for (let t = 0; t < kc; t++, dst += nr) {
      let src = b.offset + (k0 + t) * rowStride + (j0 + p * nr) * colStride;
      let j = 0;
      for (; j < cols; j++, src += colStride) out[dst + j] = data[src];
      for (; j < nr; j++) out[dst + j] = 0;
    }
  }
}
