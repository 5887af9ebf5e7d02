/**
 * Exercise 08 — convolution as a matrix product: im2col, and col2im for its gradient.
 *
 * x is NHWC [N, H, W, C], the kernel [KH, KW, C, F]. `info` (gradlab's conv2dInfo) gives the output
 * size OH × OW, the strides and the zero padding (padTop, padLeft) for 'valid' or 'same'.
 *   im2col: row (n, oy, ox) of cols [N·OH·OW, KH·KW·C] holds the window x[n, oy·sh − padTop + ky,
 *           ox·sw − padLeft + kx, c] for (ky, kx, c) in row-major order, 0 where it hangs over the edge.
 *           Then the convolution is cols · kernel.reshape([KH·KW·C, F]), and already NHWC.
 *   col2im: its adjoint, for the input gradient dx = col2im(dy · Wᵀ): every entry of dcols is ADDED
 *           back onto the pixel it was copied from (a pixel sits in up to KH·KW windows), and entries
 *           that were padding go nowhere.
 * Work on plain arrays: x.dataSync(), and fromTypedArray(new Float64Array(...), shape) at the end.
 *
 * Read after: packages/tensor/src/cpu/conv.ts (the same, in chunks, with runs of contiguous pixels).
 */
import type { Conv2DInfo, Tensor } from 'gradlab';

export function im2col(x: Tensor, info: Conv2DInfo): Tensor {
  throw new Error('exercise 08: im2col is not written yet (docs/exercises/08-im2col-col2im/exercise.ts)');
}

export function col2im(cols: Tensor, info: Conv2DInfo): Tensor {
  throw new Error('exercise 08: col2im is not written yet (docs/exercises/08-im2col-col2im/exercise.ts)');
}
