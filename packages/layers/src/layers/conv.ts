/** Convolution and pooling layers, channels-last ([batch, height, width, channels]) as Keras. */
import { F, Variable } from '@gradlab/autograd';
import { conv2dBiasActivation, formatShape } from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import { Layer, formatSymbolicShape, layerError, checkLayerArgs } from '../layer.js';
import type { CallOptions, LayerArgs, SymbolicShape } from '../layer.js';
import { getActivation } from '../activations.js';
import type { ActivationName } from '../activations.js';
import { getInitializer } from '../initializers.js';
import type { Initializer, InitializerName } from '../initializers.js';
import { registerLayer } from './registry.js';

export type Padding = 'valid' | 'same';
type Pair = number | readonly [number, number];

/** A size given as n or [h, w], as [h, w]; refused unless both are positive integers (Keras and PyTorch refuse 0, −1, 2.5). */
function pair(layer: Layer, argument: string, v: Pair): [number, number] {
  const out: [number, number] = typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 ? [v[0], v[1]] : [NaN, NaN];
  if (!out.every((n) => Number.isInteger(n) && n > 0)) {
    throw layerError(layer, `${argument} must be a positive integer or a pair of them, got ${JSON.stringify(v)}`);
  }
  return out;
}

function checkPadding(layer: Layer, padding: unknown): Padding {
  if (padding !== 'valid' && padding !== 'same') throw layerError(layer, `padding must be 'valid' or 'same', got '${String(padding)}'`);
  return padding;
}

/**
 * The output shape of a window (kernel or pool) swept over [batch, height, width, channels], with
 * `channels` out; a window larger than a 'valid' input is refused here, at build, naming both shapes.
 */
function sweptShape(layer: Layer, inputShape: SymbolicShape, window: [number, number], strides: [number, number],
  padding: Padding, what: string, channels: number | null): SymbolicShape {
  if (inputShape.length !== 4) throw layerError(layer, `expects input [batch, height, width, channels], got ${JSON.stringify(inputShape)}`);
  const [b, h, w] = inputShape;
  const out = [windowOutputSize(h, window[0], strides[0], padding), windowOutputSize(w, window[1], strides[1], padding)];
  if (out.some((n) => n !== null && n < 1)) {
    throw layerError(layer, `${what} ${window[0]}×${window[1]} is larger than its input ${formatSymbolicShape(inputShape)} ` +
      `(height ${h}, width ${w}) with padding 'valid'; use a smaller ${what}, padding 'same', or a larger input`);
  }
  return [b, out[0], out[1], channels];
}

/** Output size of a window sweep: 'valid' = ⌊(in − k)/s⌋ + 1; 'same' = ⌈in/s⌉ (TensorFlow's rule). */
export function windowOutputSize(size: number | null, kernel: number, stride: number, padding: Padding): number | null {
  if (size === null) return null;
  return padding === 'same' ? Math.ceil(size / stride) : Math.floor((size - kernel) / stride) + 1;
}

export interface Conv2DArgs extends LayerArgs {
  strides?: Pair;
  padding?: Padding;
  activation?: ActivationName;
  useBias?: boolean;
  kernelInitializer?: InitializerName | Initializer;
  biasInitializer?: InitializerName | Initializer;
}

/**
 * Conv2D:  y[b,i,j,f] = activation( Σ_{di,dj,c} x[b, i·s+di, j·s+dj, c] · K[di,dj,c,f] + bias[f] )
 * Kernel [kh, kw, inChannels, filters] (Keras's layout). The work is done by the tensor package's
 * im2col + matmul kernel; the gradients by its two backprop kernels (autograd's conv2d op).
 */
export class Conv2D extends Layer {
  /** The name saved files record (a minifier renames the class itself). */
  static readonly className = 'Conv2D';
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;
  readonly activationName: ActivationName;
  readonly useBias: boolean;
  private readonly args: Conv2DArgs;
  kernel?: Variable;
  bias?: Variable;

  constructor(filters: number, kernelSize: Pair, args: Conv2DArgs = {}) {
    super(args);
    checkLayerArgs(this, args, ['filters', 'kernelSize', 'strides', 'padding', 'activation', 'useBias', 'kernelInitializer', 'biasInitializer']);
    if (!Number.isInteger(filters) || filters <= 0) throw layerError(this, `filters must be a positive integer, got ${filters}`);
    this.filters = filters;
    this.kernelSize = pair(this, 'kernelSize', kernelSize);
    this.strides = pair(this, 'strides', args.strides ?? 1);
    this.padding = checkPadding(this, args.padding ?? 'valid');
    this.activationName = args.activation ?? 'linear';
    getActivation(this.activationName, this.name);
    this.useBias = args.useBias ?? true;
    this.args = args;
  }

  override build(inputShape: SymbolicShape): void {
    this.computeOutputShape(inputShape); // refuses a kernel that does not fit, before the weights are made
    const channels = inputShape[3];
    if (channels === null) throw layerError(this, 'the channel axis of the input must be known');
    const [kh, kw] = this.kernelSize;
    this.kernel = this.addParameter('kernel', getInitializer(this.args.kernelInitializer ?? 'glorot_uniform', this.name)([kh, kw, channels, this.filters]));
    if (this.useBias) this.bias = this.addParameter('bias', getInitializer(this.args.biasInitializer ?? 'zeros', this.name)([this.filters]));
    super.build(inputShape);
  }

  /** The convolution plus bias, before the activation. */
  preActivation(x: Variable): Variable {
    if (x.rank !== 4) throw layerError(this, `expects input [batch, height, width, channels], got ${formatShape(x.shape)}`);
    let y = F.conv2d(x, this.kernel!, { strides: this.strides, padding: this.padding });
    if (this.bias) y = y.add(this.bias);
    return y;
  }

  call(x: Variable, _options: CallOptions): Variable {
    // ReLU or no activation: one fused op (the bias and the ReLU done as the convolution writes y)
    if (this.activationName === 'relu' || this.activationName === 'linear') {
      if (x.rank !== 4) throw layerError(this, `expects input [batch, height, width, channels], got ${formatShape(x.shape)}`);
      return F.conv2dBiasActivation(x, this.kernel!, this.bias ?? null, this.activationName, { strides: this.strides, padding: this.padding });
    }
    return getActivation(this.activationName, this.name)(this.preActivation(x));
  }

  /**
   * Inference only, with no gradient recorded: this layer, then y·scale + shift per filter (a
   * BatchNormalization's folded affine), in the convolution's own output pass. Null where the
   * activation is not ReLU or none (then the two layers run one after the other).
   */
  callWithAffine(x: Variable, affine: { scale: Tensor; shift: Tensor }): Variable | null {
    if (this.activationName !== 'relu' && this.activationName !== 'linear') return null;
    if (x.rank !== 4) throw layerError(this, `expects input [batch, height, width, channels], got ${formatShape(x.shape)}`);
    return new Variable(conv2dBiasActivation(x.data, this.kernel!.data, this.bias?.data ?? null, this.activationName,
      { strides: this.strides, padding: this.padding }, affine));
  }

  override computeOutputShape(inputShape: SymbolicShape): SymbolicShape {
    return sweptShape(this, inputShape, this.kernelSize, this.strides, this.padding, 'kernel', this.filters);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), filters: this.filters, kernelSize: this.kernelSize, strides: this.strides,
      padding: this.padding, activation: this.activationName, useBias: this.useBias };
  }
}

export interface Pooling2DArgs extends LayerArgs {
  poolSize?: Pair;
  /** Default: the pool size (non-overlapping windows), as Keras. */
  strides?: Pair;
  padding?: Padding;
}

/** Shared by max and average pooling: the window geometry and its config. */
abstract class Pooling2D extends Layer {
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;
  constructor(args: Pooling2DArgs) {
    super(args);
    checkLayerArgs(this, args, ['poolSize', 'strides', 'padding']);
    this.poolSize = pair(this, 'poolSize', args.poolSize ?? 2);
    this.strides = pair(this, 'strides', args.strides ?? this.poolSize);
    this.padding = checkPadding(this, args.padding ?? 'valid');
  }
  protected options() { return { poolSize: this.poolSize, strides: this.strides, padding: this.padding }; }
  override computeOutputShape(inputShape: SymbolicShape): SymbolicShape {
    return sweptShape(this, inputShape, this.poolSize, this.strides, this.padding, 'pool window', inputShape[3] ?? null);
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), poolSize: this.poolSize, strides: this.strides, padding: this.padding };
  }
}

/** MaxPooling2D: the largest value of each window; the gradient flows to that element only. */
export class MaxPooling2D extends Pooling2D {
  /** The name saved files record (a minifier renames the class itself). */
  static readonly className = 'MaxPooling2D';
  constructor(args: Pooling2DArgs = {}) { super(args); }
  call(x: Variable): Variable { return F.maxPool2d(x, this.options()); }
}

/** AveragePooling2D: the mean of each window; the gradient is shared equally by its elements. */
export class AveragePooling2D extends Pooling2D {
  /** The name saved files record (a minifier renames the class itself). */
  static readonly className = 'AveragePooling2D';
  constructor(args: Pooling2DArgs = {}) { super(args); }
  call(x: Variable): Variable { return F.avgPool2d(x, this.options()); }
}

registerLayer('Conv2D', (c) => new Conv2D(c.filters as number, c.kernelSize as [number, number], c as Conv2DArgs));
registerLayer('MaxPooling2D', (c) => new MaxPooling2D(c as Pooling2DArgs));
registerLayer('AveragePooling2D', (c) => new AveragePooling2D(c as Pooling2DArgs));
