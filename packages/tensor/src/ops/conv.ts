/**
 * 2-D convolution on channels-last data (NHWC), with Keras's filter layout [kh, kw, inC, outC]:
 *
 *   y[n, oy, ox, f] = Σ_{ky, kx, c} x[n, oy·sh + ky − padTop, ox·sw + kx − padLeft, c] · w[ky, kx, c, f]
 *
 * (a cross-correlation, as in every deep-learning library; reads outside the input are 0).
 * Its two gradients, given dy = ∂L/∂y:
 *   ∂L/∂w[ky, kx, c, f] = Σ_{n, oy, ox} x[n, oy·sh + ky − padTop, ox·sw + kx − padLeft, c] · dy[n, oy, ox, f]
 *   ∂L/∂x[n, iy, ix, c] = Σ over every (oy, ox, ky, kx) that read x[n, iy, ix, c] of w[ky, kx, c, f] · dy[n, oy, ox, f]
 * This file checks shapes and works out the geometry (Conv2DInfo); the backend does the sums
 * (cpu/conv.ts: im2col and one matrix multiply).
 */
import type { Tensor } from '../tensor.js';
import { getBackend } from '../backend.js';
import type { Conv2DInfo, ConvEpilogue } from '../backend.js';
import { promoteTypes } from '../dtype.js';
import type { DType } from '../dtype.js';
import { formatShape, shapesEqual } from '../shape.js';
import { mulAdd } from './elementwise.js';

export type Padding = 'valid' | 'same';

export interface Conv2DOptions {
  /** Step of the window: one number for both axes, or [vertical, horizontal]. Default 1. */
  strides?: number | readonly [number, number];
  /** 'valid' (default): no padding; 'same': pad with zeros so that out = ceil(in / stride), as TF. */
  padding?: Padding;
}

/** A number or a pair as a pair of positive integers, or throw naming the op. */
export function positiveIntPair(op: string, name: string, value: number | readonly [number, number]): [number, number] {
  const p: [number, number] = typeof value === 'number' ? [value, value] : [value[0], value[1]];
  if (!p.every((v) => Number.isInteger(v) && v > 0) || (typeof value !== 'number' && value.length !== 2)) {
    throw new Error(`${op}: ${name} must be a positive integer or a pair of them, got ${JSON.stringify(value)}`);
  }
  return p;
}

/**
 * Output size and padding of one spatial axis.
 *   'valid': out = floor((in − k) / s) + 1, no padding.
 *   'same' (TensorFlow's rule): out = ceil(in / s); total = max((out − 1)·s + k − in, 0) split with
 *   the smaller half before (padBefore = floor(total / 2)), so an odd total puts the extra zero after.
 */
function axisGeometry(size: number, k: number, s: number, padding: Padding): [out: number, before: number, after: number] {
  if (padding === 'valid') return [Math.floor((size - k) / s) + 1, 0, 0];
  const out = Math.ceil(size / s);
  const total = Math.max((out - 1) * s + k - size, 0);
  return [out, Math.floor(total / 2), total - Math.floor(total / 2)];
}

/**
 * The geometry of a convolution (or of a pooling window, which passes filterShape [ph, pw, C, C]) of
 * an NHWC input of xShape with a filter [kh, kw, inC, outC].
 */
export function conv2dInfo(op: string, xShape: readonly number[], filterShape: readonly number[], options: Conv2DOptions = {}): Conv2DInfo {
  const { strides = 1, padding = 'valid' } = options;
  if (xShape.length !== 4) throw new Error(`${op}: input ${formatShape(xShape)} must have rank 4 [batch, height, width, channels]`);
  if (filterShape.length !== 4) throw new Error(`${op}: kernel ${formatShape(filterShape)} must have rank 4 [height, width, inChannels, outChannels]`);
  if (padding !== 'valid' && padding !== 'same') throw new Error(`${op}: padding must be 'valid' or 'same', got '${String(padding)}'`);
  const [batch, inHeight, inWidth, inChannels] = xShape;
  const [filterHeight, filterWidth, filterIn, outChannels] = filterShape;
  if (filterIn !== inChannels) {
    throw new Error(`${op}: input ${formatShape(xShape)} has ${inChannels} channels, kernel ${formatShape(filterShape)} expects ${filterIn}`);
  }
  const [strideHeight, strideWidth] = positiveIntPair(op, 'strides', strides);
  const [outHeight, padTop, padBottom] = axisGeometry(inHeight, filterHeight, strideHeight, padding);
  const [outWidth, padLeft, padRight] = axisGeometry(inWidth, filterWidth, strideWidth, padding);
  if (outHeight <= 0 || outWidth <= 0 || filterHeight <= 0 || filterWidth <= 0) {
    throw new Error(`${op}: input ${formatShape(xShape)} is smaller than the ${filterHeight}x${filterWidth} window with '${padding}' padding`);
  }
  return {
    batch, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth,
    strideHeight, strideWidth, padTop, padLeft, padBottom, padRight,
  };
}

/** Float dtype shared by the operands (int32 inputs compute in float32). */
function floatType(...xs: Tensor[]): DType {
  const dtype = xs.map((x) => x.dtype).reduce(promoteTypes);
  return dtype === 'int32' ? 'float32' : dtype;
}

function checkShape(op: string, name: string, actual: readonly number[], expected: readonly number[]): void {
  if (!shapesEqual(actual, expected)) {
    throw new Error(`${op}: ${name} has shape ${formatShape(actual)}, expected ${formatShape(expected)}`);
  }
}

/** y = conv2d(x, w): x [N, H, W, C], filter [kh, kw, C, F] → [N, OH, OW, F]. */
export function conv2d(x: Tensor, filter: Tensor, options: Conv2DOptions = {}): Tensor {
  const info = conv2dInfo('conv2d', x.shape, filter.shape, options);
  const dtype = floatType(x, filter);
  return getBackend(x.backend).conv2d(x.astype(dtype), filter.astype(dtype), info);
}

/**
 * y = act(conv2d(x, w) + bias), act = ReLU or none: Conv2D's forward pass, with the bias and the ReLU
 * done by the convolution kernel as it writes its output where the backend can (the CPU does).
 * bias: [F] or null. affine (inference only: not differentiable here): then y·scale + shift, [F] each,
 * a BatchNormalization folded in (Sequential's predict); bit for bit mulAdd(y, scale, shift).
 */
export function conv2dBiasActivation(x: Tensor, filter: Tensor, bias: Tensor | null, activation: 'relu' | 'linear', options: Conv2DOptions = {},
  affine: { scale: Tensor; shift: Tensor } | null = null): Tensor {
  const info = conv2dInfo('conv2d', x.shape, filter.shape, options); // the name a Conv2D user knows
  if (bias) checkShape('conv2dBiasActivation', 'bias', bias.shape, [info.outChannels]);
  if (affine) {
    checkShape('conv2dBiasActivation', 'scale', affine.scale.shape, [info.outChannels]);
    checkShape('conv2dBiasActivation', 'shift', affine.shift.shape, [info.outChannels]);
  }
  if (activation !== 'relu' && activation !== 'linear') throw new Error(`conv2dBiasActivation: activation must be 'relu' or 'linear', got '${String(activation)}'`);
  const dtype = floatType(x, filter);
  return getBackend(x.backend).conv2d(x.astype(dtype), filter.astype(dtype), info, {
    bias: bias ? bias.astype(dtype) : null, relu: activation === 'relu',
    affine: affine ? { scale: affine.scale.astype(dtype), shift: affine.shift.astype(dtype) } : null,
  });
}

/** The epilogue in separate steps, with the backend's own elementwise kernels: the readable reference. */
export function conv2dEpilogueComposite(y: Tensor, epilogue: ConvEpilogue): Tensor {
  const withBias = epilogue.bias ? y.add(epilogue.bias) : y;
  const activated = epilogue.relu ? withBias.relu() : withBias;
  return epilogue.affine ? mulAdd(activated, epilogue.affine.scale, epilogue.affine.shift) : activated;
}

/** ∂L/∂x of conv2d, from dy [N, OH, OW, F] and the filter; inputShape is x's shape [N, H, W, C]. */
export function conv2dBackpropInput(dy: Tensor, filter: Tensor, inputShape: readonly number[], options: Conv2DOptions = {}): Tensor {
  const info = conv2dInfo('conv2dBackpropInput', inputShape, filter.shape, options);
  checkShape('conv2dBackpropInput', 'dy', dy.shape, [info.batch, info.outHeight, info.outWidth, info.outChannels]);
  const dtype = floatType(dy, filter);
  return getBackend(dy.backend).conv2dBackpropInput(dy.astype(dtype), filter.astype(dtype), info);
}

/** ∂L/∂w of conv2d, from the input x and dy [N, OH, OW, F]; filterShape is [kh, kw, C, F]. */
export function conv2dBackpropFilter(x: Tensor, dy: Tensor, filterShape: readonly number[], options: Conv2DOptions = {}): Tensor {
  const info = conv2dInfo('conv2dBackpropFilter', x.shape, filterShape, options);
  checkShape('conv2dBackpropFilter', 'dy', dy.shape, [info.batch, info.outHeight, info.outWidth, info.outChannels]);
  const dtype = floatType(x, dy);
  return getBackend(x.backend).conv2dBackpropFilter(x.astype(dtype), dy.astype(dtype), info);
}
