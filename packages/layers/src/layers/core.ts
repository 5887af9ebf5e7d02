/** The everyday layers: Dense, Activation, Flatten, Dropout. */
import { Variable } from '@gradlab/autograd';
import { Random, globalRandom, fromTypedArray, formatShape } from '@gradlab/tensor';
import { Layer, layerError, checkLayerArgs } from '../layer.js';
import type { CallOptions, LayerArgs, SymbolicShape } from '../layer.js';
import { getActivation } from '../activations.js';
import type { ActivationName } from '../activations.js';
import { getInitializer } from '../initializers.js';
import { registerLayer } from './registry.js';
import type { Initializer, InitializerName } from '../initializers.js';

export interface DenseArgs extends LayerArgs {
  activation?: ActivationName;
  useBias?: boolean;
  kernelInitializer?: InitializerName | Initializer;
  biasInitializer?: InitializerName | Initializer;
}

/**
 * Dense:  y = activation(x · W + b),  W [in, units], b [units]. Applied to the last axis, so a
 * [batch, time, in] input gives [batch, time, units] (as Keras).
 */
export class Dense extends Layer {
  /** The name saved files record (a minifier renames the class itself). */
  static readonly className = 'Dense';
  readonly units: number;
  readonly activationName: ActivationName;
  readonly useBias: boolean;
  private readonly args: DenseArgs;
  kernel?: Variable;
  bias?: Variable;

  constructor(units: number, args: DenseArgs = {}) {
    super(args);
    checkLayerArgs(this, args, ['units', 'activation', 'useBias', 'kernelInitializer', 'biasInitializer']);
    if (!Number.isInteger(units) || units <= 0) throw layerError(this, `units must be a positive integer, got ${units}`);
    this.units = units;
    this.activationName = args.activation ?? 'linear';
    getActivation(this.activationName, this.name); // fail at construction on a typo, not at the first call
    this.useBias = args.useBias ?? true;
    this.args = args;
    this.supportsMasking = true;
  }

  override build(inputShape: SymbolicShape): void {
    const inFeatures = inputShape[inputShape.length - 1];
    if (inFeatures === null || inFeatures === undefined) throw layerError(this, `the last axis of the input must be known, got ${JSON.stringify(inputShape)}`);
    this.kernel = this.addParameter('kernel', getInitializer(this.args.kernelInitializer ?? 'glorot_uniform', this.name)([inFeatures, this.units]));
    if (this.useBias) this.bias = this.addParameter('bias', getInitializer(this.args.biasInitializer ?? 'zeros', this.name)([this.units]));
    super.build(inputShape);
  }

  /** x · W + b, before the activation: the logits that a fused softmax cross-entropy wants. */
  preActivation(x: Variable): Variable {
    const inFeatures = this.kernel!.shape[0];
    if (x.shape[x.rank - 1] !== inFeatures) {
      throw layerError(this, `input ${formatShape(x.shape)} has ${x.shape[x.rank - 1]} features, kernel ${formatShape(this.kernel!.shape)} expects ${inFeatures}`);
    }
    const flat = x.rank === 2 ? x : x.reshape([-1, inFeatures]);
    let y = flat.matmul(this.kernel!);
    if (this.bias) y = y.add(this.bias);
    return x.rank === 2 ? y : y.reshape([...x.shape.slice(0, -1), this.units]);
  }

  call(x: Variable, _options: CallOptions): Variable {
    return getActivation(this.activationName, this.name)(this.preActivation(x));
  }

  override computeOutputShape(inputShape: SymbolicShape): SymbolicShape {
    return [...inputShape.slice(0, -1), this.units];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), units: this.units, activation: this.activationName, useBias: this.useBias };
  }
}

/** Activation: applies a named activation function, nothing else. */
export class Activation extends Layer {
  /** The name saved files record (a minifier renames the class itself). */
  static readonly className = 'Activation';
  readonly activationName: ActivationName;
  constructor(activation: ActivationName, args: LayerArgs = {}) {
    super(args);
    checkLayerArgs(this, args, ['activation']);
    this.activationName = activation;
    getActivation(activation, this.name);
    this.supportsMasking = true;
  }
  /** The input itself: what a fused softmax/sigmoid cross-entropy needs in place of the activation's output. */
  preActivation(x: Variable): Variable { return x; }
  call(x: Variable): Variable { return getActivation(this.activationName, this.name)(x); }
  override getConfig(): Record<string, unknown> { return { ...super.getConfig(), activation: this.activationName }; }
}

/** Flatten: [batch, d1, d2, …] → [batch, d1·d2·…]. A reshape: copies nothing when the input is contiguous. */
export class Flatten extends Layer {
  /** The name saved files record (a minifier renames the class itself). */
  static readonly className = 'Flatten';
  constructor(args: LayerArgs = {}) {
    super(args);
    checkLayerArgs(this, args, []); // Keras's dataFormat, say, is refused by name rather than ignored
  }

  call(x: Variable): Variable { return x.reshape([x.shape[0], -1]); }
  override computeOutputShape(inputShape: SymbolicShape): SymbolicShape {
    const rest = inputShape.slice(1);
    return [inputShape[0], rest.some((d) => d === null) ? null : rest.reduce<number>((n, d) => n * (d as number), 1)];
  }
}

export interface DropoutArgs extends LayerArgs { seed?: number }

/**
 * Dropout (inverted): in training each element is kept with probability 1 − rate and scaled by
 * 1/(1 − rate), so the expected activation is unchanged and inference is the identity.
 */
export class Dropout extends Layer {
  /** The name saved files record (a minifier renames the class itself). */
  static readonly className = 'Dropout';
  readonly rate: number;
  private readonly rng: Random;
  private readonly seed?: number;
  constructor(rate: number, args: DropoutArgs = {}) {
    super(args);
    checkLayerArgs(this, args, ['rate', 'seed']);
    if (!(rate >= 0 && rate < 1)) throw layerError(this, `rate must be in [0, 1), got ${rate}`);
    this.rate = rate;
    this.seed = args.seed;
    this.rng = args.seed === undefined ? globalRandom : new Random(args.seed);
    this.supportsMasking = true;
  }
  call(x: Variable, options: CallOptions): Variable {
    if (!options.training || this.rate === 0) return x;
    const keep = 1 - this.rate;
    const mask = new Float32Array(x.size);
    for (let i = 0; i < mask.length; i++) mask[i] = this.rng.next() < keep ? 1 / keep : 0;
    return x.mul(fromTypedArray(mask, x.shape).astype(x.dtype));
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), rate: this.rate, ...(this.seed !== undefined ? { seed: this.seed } : {}) };
  }
}

// How models.load rebuilds each layer from its saved getConfig().
registerLayer('Dense', (c) => new Dense(c.units as number, c as DenseArgs));
registerLayer('Activation', (c) => new Activation(c.activation as ActivationName, c as LayerArgs));
registerLayer('Flatten', (c) => new Flatten(c as LayerArgs));
registerLayer('Dropout', (c) => new Dropout(c.rate as number, c as DropoutArgs));
