/**
 * 2-D pooling on channels-last data (NHWC), each channel on its own. Over the window
 * Ω(oy, ox) = { (oy·sh + ky − padTop, ox·sw + kx − padLeft) } ∩ the image:
 *
 *   max:      y[n, oy, ox, c] = max_{(iy, ix) ∈ Ω} x[n, iy, ix, c]
 *             ∂L/∂x: dy goes to the argmax of each window (the first maximum on ties), summed where
 *             windows overlap.
 *   average:  y[n, oy, ox, c] = (1 / |Ω|) Σ_{(iy, ix) ∈ Ω} x[n, iy, ix, c]
 *             ∂L/∂x: each input in the window receives dy / |Ω|.
 * With 'same' padding the padded positions are not part of Ω: max ignores them and the average
 * divides by the number of real inputs, as TensorFlow/Keras do (PyTorch's count_include_pad=True
 * would divide by the full window instead).
 */
import type { Tensor } from '../tensor.js';
import { getBackend } from '../backend.js';
import { formatShape, shapesEqual } from '../shape.js';
import { conv2dInfo, positiveIntPair } from './conv.js';
import type { Conv2DInfo } from '../backend.js';
import type { Padding } from './conv.js';

export interface Pool2DOptions {
  /** Window size: one number for both axes or [height, width]. */
  poolSize: number | readonly [number, number];
  /** Step of the window; defaults to poolSize (windows that tile the input). */
  strides?: number | readonly [number, number];
  /** 'valid' (default) or 'same' (out = ceil(in / stride)). */
  padding?: Padding;
}

/** Pooling geometry: a convolution whose "filter" is [ph, pw, C, C]. */
export function pool2dInfo(op: string, xShape: readonly number[], options: Pool2DOptions): Conv2DInfo {
  if (options?.poolSize === undefined) throw new Error(`${op}: poolSize is required`);
  const [ph, pw] = positiveIntPair(op, 'poolSize', options.poolSize);
  const channels = xShape.length === 4 ? xShape[3] : 0;
  return conv2dInfo(op, xShape, [ph, pw, channels, channels], { strides: options.strides ?? [ph, pw], padding: options.padding });
}

function checkDy(op: string, dy: Tensor, info: Conv2DInfo): void {
  const expected = [info.batch, info.outHeight, info.outWidth, info.outChannels];
  if (!shapesEqual(dy.shape, expected)) throw new Error(`${op}: dy has shape ${formatShape(dy.shape)}, expected ${formatShape(expected)}`);
}

/** Max over each window: x [N, H, W, C] → [N, OH, OW, C] (any dtype). */
export function maxPool2d(x: Tensor, options: Pool2DOptions): Tensor {
  return getBackend(x.backend).maxPool2d(x, pool2dInfo('maxPool2d', x.shape, options));
}

/** ∂L/∂x of maxPool2d: needs the forward's input x to find each window's argmax again. */
export function maxPool2dBackward(dy: Tensor, x: Tensor, options: Pool2DOptions): Tensor {
  const info = pool2dInfo('maxPool2dBackward', x.shape, options);
  checkDy('maxPool2dBackward', dy, info);
  const dtype = dy.dtype === 'int32' ? 'float32' : dy.dtype;
  return getBackend(dy.backend).maxPool2dBackward(dy.astype(dtype), x, info);
}

/** Mean over each window (of the real inputs only): x [N, H, W, C] → [N, OH, OW, C] (int32 → float32). */
export function avgPool2d(x: Tensor, options: Pool2DOptions): Tensor {
  const info = pool2dInfo('avgPool2d', x.shape, options);
  return getBackend(x.backend).avgPool2d(x.dtype === 'int32' ? x.astype('float32') : x, info);
}

/** ∂L/∂x of avgPool2d; only x's shape is needed, not its values. */
export function avgPool2dBackward(dy: Tensor, inputShape: readonly number[], options: Pool2DOptions): Tensor {
  const info = pool2dInfo('avgPool2dBackward', inputShape, options);
  checkDy('avgPool2dBackward', dy, info);
  return getBackend(dy.backend).avgPool2dBackward(dy.dtype === 'int32' ? dy.astype('float32') : dy, info);
}
