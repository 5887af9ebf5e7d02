/** Convolution and pooling layers, channels-last ([batch, height, width, channels]) as Keras. */
import { F } from '@gradlab/autograd';
import type { Variable } from '@gradlab/autograd';
import { formatShape } from '@gradlab/tensor';
import { Layer, layerError } from '../layer.js';
import type { CallOptions, LayerArgs, SymbolicShape } from '../layer.js';
import { getActivation } from '../activations.js';
import type { ActivationName } from '../activations.js';
import { getInitializer } from '../initializers.js';
import type { Initializer, InitializerName } from '../initializers.js';
import { registerLayer } from './registry.js';

export type Padding = 'valid' | 'same';
type Pair = number | readonly [number, number];
const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

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
    if (!Number.isInteger(filters) || filters <= 0) throw layerError(this, `filters must be a positive integer, got ${filters}`);
    this.filters = filters;
    this.kernelSize = pair(kernelSize);
    this.strides = pair(args.strides ?? 1);
    this.padding = args.padding ?? 'valid';
    if (this.padding !== 'valid' && this.padding !== 'same') throw layerError(this, `padding must be 'valid' or 'same', got '${this.padding}'`);
    this.activationName = args.activation ?? 'linear';
    getActivation(this.activationName, this.name);
    this.useBias = args.useBias ?? true;
    this.args = args;
  }

  override build(inputShape: SymbolicShape): void {
    if (inputShape.length !== 4) throw layerError(this, `expects input [batch, height, width, channels], got ${JSON.stringify(inputShape)}`);
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
    return getActivation(this.activationName, this.name)(this.preActivation(x));
  }

  override computeOutputShape(inputShape: SymbolicShape): SymbolicShape {
    const [b, h, w] = inputShape;
    return [b, windowOutputSize(h, this.kernelSize[0], this.strides[0], this.padding),
      windowOutputSize(w, this.kernelSize[1], this.strides[1], this.padding), this.filters];
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
    this.poolSize = pair(args.poolSize ?? 2);
    this.strides = pair(args.strides ?? this.poolSize);
    this.padding = args.padding ?? 'valid';
  }
  protected options() { return { poolSize: this.poolSize, strides: this.strides, padding: this.padding }; }
  override computeOutputShape(inputShape: SymbolicShape): SymbolicShape {
    const [b, h, w, c] = inputShape;
    return [b, windowOutputSize(h, this.poolSize[0], this.strides[0], this.padding),
      windowOutputSize(w, this.poolSize[1], this.strides[1], this.padding), c];
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), poolSize: this.poolSize, strides: this.strides, padding: this.padding };
  }
}

/** MaxPooling2D: the largest value of each window; the gradient flows to that element only. */
export class MaxPooling2D extends Pooling2D {
  constructor(args: Pooling2DArgs = {}) { super(args); }
  call(x: Variable): Variable { return F.maxPool2d(x, this.options()); }
}

/** AveragePooling2D: the mean of each window; the gradient is shared equally by its elements. */
export class AveragePooling2D extends Pooling2D {
  constructor(args: Pooling2DArgs = {}) { super(args); }
  call(x: Variable): Variable { return F.avgPool2d(x, this.options()); }
}

registerLayer('Conv2D', (c) => new Conv2D(c.filters as number, c.kernelSize as [number, number], c as Conv2DArgs));
registerLayer('MaxPooling2D', (c) => new MaxPooling2D(c as Pooling2DArgs));
registerLayer('AveragePooling2D', (c) => new AveragePooling2D(c as Pooling2DArgs));
