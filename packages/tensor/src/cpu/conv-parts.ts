/**
 * The float32 convolution on the WebAssembly kernel (wasm/gemm-f32.ts) as an "implicit gemm", for any
 * part of its output: conv.ts runs each kernel whole on one thread, conv-threads.ts gives each thread
 * of the pool a part (the same code, so the parts are bit for bit what one thread computes).
 *
 * The forward pass hands the gemm an ARows that writes each band of patch rows (im2col.ts) straight
 * into the kernel's memory, where the kernel reads them in place: no patch matrix in JavaScript, no
 * packing of A (for the first layer of an image model, K = 3·3·3 = 27, those copies cost more than the
 * arithmetic). The input gradient takes each band of dcols = dy·Wᵀ where the kernel left it and
 * col2im's it from there (a CRows). The filter gradient, colsᵀ·dy, needs the patch matrix transposed,
 * which is exactly the layout of the kernel's packed A slivers (four entries of a patch row side by
 * side, one patch row per step of k): im2colSlivers writes each block of 256 patch rows there directly
 * (an ASlivers). Patches longer than NC (input gradient), or dW too big for one band of the kernel's
 * memory (filter gradient), are not for these functions: conv.ts keeps its chunked path for them.
 */
import type { Conv2DInfo } from '../backend.js';
import type { TypedArray } from '../dtype.js';
import { col2im, im2col, im2colSlivers, patchMatrix, sliverSlots } from './im2col.js';
import { rowMajor, transposed } from './pack.js';
import { gemmFloat32, sliversFit, WASM_GEMM_NC } from './wasm/gemm-f32.js';

/** Whether inputGradient can take dcols from the kernel's memory: rows of at most NC entries. */
export function inputGradientFits(info: Conv2DInfo): boolean {
  return patchMatrix(info).patch <= WASM_GEMM_NC;
}

/** Whether filterGradientRows can write the transposed patch matrix as slivers: all of dW in one band. */
export function filterGradientFits(info: Conv2DInfo): boolean {
  const { patch, F } = patchMatrix(info);
  return sliversFit(patch, F);
}

/**
 * Rows row0 … row0+rowCount−1 of y = act(patches(x)·W + bias), F numbers each, into y from yAt. x holds
 * info.batch images; w is the filter [kh·kw·C, F]; bias [F] or null.
 */
export function forwardRows(x: Float32Array, w: Float32Array, info: Conv2DInfo, row0: number, rowCount: number, y: Float32Array, yAt: number, bias: TypedArray | null, relu: boolean, affine: Affine | null = null): void {
  const { patch, F } = patchMatrix(info);
  gemmFloat32(rowCount, F, patch, { fill: (r, count, dest, at) => im2col(x, info, row0 + r, count, dest, at) }, rowMajor(w, F), y, yAt);
  applyEpilogue(y, yAt, yAt + rowCount * F, F, bias, relu, affine);
}

/** A folded BatchNormalization after the activation: y·scale + shift, one number of each per filter. */
export interface Affine { scale: TypedArray; shift: TypedArray }

/**
 * dx += col2im(dy · Wᵀ) for the info.batch images that dy and dx hold (dx zero, for the gradient
 * itself): dcols never leaves the kernel's memory. Where inputGradientFits(info).
 */
export function inputGradient(dy: Float32Array, w: Float32Array, info: Conv2DInfo, dx: Float32Array): void {
  const { rows, patch, F } = patchMatrix(info);
  gemmFloat32(rows, patch, F, rowMajor(dy, F), transposed(rowMajor(w, F)), { take: (row0, count, band, at, ldc) => col2im(band, info, row0, count, dx, at, ldc) });
}

/**
 * Rows entry0 … entryEnd−1 of dW = patches(x)ᵀ · dy (one row per patch entry, F numbers each) into dw
 * from dwAt, summed over every patch row of all info.batch images. Where filterGradientFits(info).
 */
export function filterGradientRows(x: Float32Array, dy: Float32Array, info: Conv2DInfo, entry0: number, entryEnd: number, dw: Float32Array, dwAt: number): void {
  const { rows, F } = patchMatrix(info);
  let slot: Int32Array = new Int32Array(0), slotCount = 0; // every k block but the last has the same count
  const fillSlivers = (row0: number, count: number, dest: Float32Array, at: number): void => {
    if (count !== slotCount) { slot = sliverSlots(entryEnd - entry0, count); slotCount = count; }
    im2colSlivers(x, info, row0, count, dest, at, slot, entry0, entryEnd);
  };
  gemmFloat32(entryEnd - entry0, F, rows, { fillSlivers }, rowMajor(dy, F), dw, dwAt);
}

/**
 * y[from:to] ← act(y + bias) in place, rows of F numbers from `from`: what a separate add and relu
 * would do with two more passes and two more arrays of y's size; then, with `affine`, y·scale + shift.
 * ReLU as (v + |v|)/2, branch-free, as the unary kernel's.
 */
export function applyEpilogue(y: TypedArray, from: number, to: number, F: number, bias: TypedArray | null, relu: boolean, affine: Affine | null = null): void {
  const abs = Math.abs;
  // one flat loop per case, the bias index wrapping at F (a nested row/column loop ran ~1.5× slower)
  if (bias && relu) {
    for (let i = from, f = 0; i < to; i++) { const v = y[i] + bias[f]; y[i] = (v + abs(v)) * 0.5; if (++f === F) f = 0; }
  } else if (bias) {
    for (let i = from, f = 0; i < to; i++) { y[i] += bias[f]; if (++f === F) f = 0; }
  } else if (relu) {
    for (let i = from; i < to; i++) { const v = y[i]; y[i] = (v + abs(v)) * 0.5; }
  }
  if (affine) {
    // the product is stored (rounded to y's type) before the shift is added: the mulAdd kernel's bits
    const { scale, shift } = affine;
    for (let i = from, f = 0; i < to; i++) { y[i] = y[i] * scale[f]; y[i] += shift[f]; if (++f === F) f = 0; }
  }
}
