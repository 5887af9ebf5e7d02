/**
 * BatchNormalization and LayerNormalization, with Keras's defaults and semantics. The maths, as a
 * composite of primitives and as a fused op, is in @gradlab/autograd's ops/normalization.ts; the fused
 * op's kernels are the backend's (packages/tensor/src/cpu/normalization.ts on the CPU).
 */
import { F, Variable, noGrad } from '@gradlab/autograd';
import { Tensor, full, zeros, ones, formatShape } from '@gradlab/tensor';
import type { DType } from '@gradlab/tensor';
import { Layer, layerError, checkLayerArgs } from '../layer.js';
import type { CallOptions, LayerArgs, SymbolicShape } from '../layer.js';
import { registerLayer } from './registry.js';

/** Throw unless the normalised axis of x matches the parameters: names the layer and both shapes. */
export function checkFeatures(layer: string, x: Variable, gamma: Variable): void {
  if (x.shape[x.rank - 1] !== gamma.shape[0]) {
    throw new Error(`${layer}: input ${formatShape(x.shape)} has ${x.shape[x.rank - 1]} features, gamma ${formatShape(gamma.shape)} expects ${gamma.shape[0]}`);
  }
}

/**
 * BatchNorm at inference: fixed statistics, so it is an affine map per feature:
 *   y = γ·(x − μ_moving)·invstd + β = x·scale + shift,  scale = γ·invstd,  shift = β − μ_moving·scale
 * Folded into one scale and one shift it is one pass over x (F.mulAdd, equal to x.mul(scale).add(shift)).
 */
export function batchNormInference(x: Variable, gamma: Variable, beta: Variable, movingMean: Tensor, movingVariance: Tensor, epsilon: number): Variable {
  const { scale, shift } = foldBatchNorm(gamma, beta, movingMean, movingVariance, epsilon);
  return F.mulAdd(x, scale, shift);
}

/** scale = γ·invstd and shift = β − μ_moving·scale (as Variables: γ and β may need their gradients). */
function foldBatchNorm(gamma: Variable, beta: Variable, movingMean: Tensor, movingVariance: Tensor, epsilon: number): { scale: Variable; shift: Variable } {
  const invstd = movingVariance.add(epsilon).sqrt().reciprocal();
  const scale = gamma.mul(invstd);
  return { scale, shift: beta.sub(scale.mul(movingMean)) };
}

export interface BatchNormalizationArgs extends LayerArgs {
  /** Feature axis; only the last (-1) is supported, as for every channels-last layout gradlab uses. */
  axis?: number;
  /** Moving averages keep this much of their old value per step (Keras 0.99 = PyTorch momentum 0.01). */
  momentum?: number;
  epsilon?: number;
  center?: boolean;
  scale?: boolean;
  /** Use the fused op (default) or the composite graph of primitives (for teaching and testing). */
  fused?: boolean;
}

/**
 * BatchNormalization. Training: normalise each feature with the batch's mean and (biased) variance
 * over every other axis — batch for [B, F], batch and time for [B, T, F], batch, height and width
 * for [B, H, W, C] — then scale by γ and shift by β. The moving averages
 *     moving = momentum·moving + (1 − momentum)·batch_statistic
 * are updated on each training call; inference uses them instead of the batch's. A mask [B, T]
 * keeps padded steps out of the statistics.
 */
export class BatchNormalization extends Layer {
  /** The name saved files record (a minifier renames the class itself). */
  static readonly className = 'BatchNormalization';
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  fused: boolean;
  gamma?: Variable;
  beta?: Variable;

  constructor(args: BatchNormalizationArgs = {}) {
    super(args);
    checkLayerArgs(this, args, ['axis', 'momentum', 'epsilon', 'center', 'scale', 'fused']);
    if (args.axis !== undefined && args.axis !== -1) throw layerError(this, `only axis -1 (channels-last) is supported, got ${args.axis}`);
    this.momentum = args.momentum ?? 0.99;
    this.epsilon = args.epsilon ?? 1e-3;
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.fused = args.fused ?? true;
    if (!(this.momentum >= 0 && this.momentum <= 1)) throw layerError(this, `momentum must be in [0, 1], got ${this.momentum}`);
    if (!(this.epsilon > 0)) throw layerError(this, `epsilon must be positive, got ${this.epsilon}`);
    this.supportsMasking = true;
  }

  override build(inputShape: SymbolicShape): void {
    const features = inputShape[inputShape.length - 1];
    if (typeof features !== 'number') throw layerError(this, `the feature axis of the input must be known, got ${JSON.stringify(inputShape)}`);
    // γ and β are parameters only when used (Keras: scale=False means no gamma weight at all).
    if (this.scale) this.gamma = this.addParameter('gamma', ones([features]));
    if (this.center) this.beta = this.addParameter('beta', zeros([features]));
    this.addBuffer('movingMean', zeros([features]));
    this.addBuffer('movingVariance', ones([features]));
    super.build(inputShape);
  }

  get movingMean(): Tensor { return this.buffer('movingMean'); }
  get movingVariance(): Tensor { return this.buffer('movingVariance'); }

  call(x: Variable, options: CallOptions): Variable {
    const { gamma, beta } = this.affineParameters(x.dtype);
    checkFeatures(`${this.name} (BatchNormalization)`, x, gamma);
    if (!options.training) {
      return batchNormInference(x, gamma, beta, this.movingMean.astype(x.dtype), this.movingVariance.astype(x.dtype), this.epsilon);
    }
    const mask = options.mask ?? null;
    const rows = x.size / this.movingMean.size;
    if (mask !== null && mask.size !== rows) {
      throw layerError(this, `mask ${formatShape(mask.shape)} does not match input ${formatShape(x.shape)} (expected ${rows} entries, one per position)`);
    }
    // A batch with at most one (unmasked) row per feature has variance 0: x̂ = 0 and y = β. That is
    // checked where a batch enters fit (models/check-batch.ts), not here: counting the mask's ones
    // would read a device tensor back in the middle of a step.
    const stats = (this.fused ? F.batchNorm : F.batchNormComposite)(x, gamma, beta, this.epsilon, mask);
    this.updateMovingAverages(stats.mean, stats.variance);
    return stats.y;
  }

  /**
   * This layer at inference as its folded scale and shift ([features] each, in `dtype`), the numbers
   * batchNormInference computes: what a Sequential model's predict hands to the Conv2D before it, which
   * then applies them as it writes its output (models/sequential.ts).
   */
  inferenceAffine(dtype: DType): { scale: Tensor; shift: Tensor } {
    const { gamma, beta } = this.affineParameters(dtype);
    const { scale, shift } = noGrad(() => foldBatchNorm(gamma, beta, this.movingMean.astype(dtype), this.movingVariance.astype(dtype), this.epsilon));
    return { scale: scale.data, shift: shift.data };
  }

  /** γ and β, or their defaults (1 and 0) where center or scale is off. */
  private affineParameters(dtype: DType): { gamma: Variable; beta: Variable } {
    const features = this.movingMean.size;
    return {
      gamma: this.gamma ?? new Variable(full([features], 1, dtype)),
      beta: this.beta ?? new Variable(full([features], 0, dtype)),
    };
  }

  /** moving ← momentum·moving + (1 − momentum)·batch, using the biased batch variance (as Keras). */
  private updateMovingAverages(mean: Tensor, variance: Tensor): void {
    const blend = (moving: Tensor, batch: Tensor) => moving.mul(this.momentum).add(batch.astype(moving.dtype).mul(1 - this.momentum));
    this.setBuffer('movingMean', blend(this.movingMean, mean));
    this.setBuffer('movingVariance', blend(this.movingVariance, variance));
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), momentum: this.momentum, epsilon: this.epsilon, center: this.center, scale: this.scale, fused: this.fused };
  }
}

export interface LayerNormalizationArgs extends LayerArgs {
  axis?: number;
  epsilon?: number;
  center?: boolean;
  scale?: boolean;
  fused?: boolean;
}

/**
 * LayerNormalization: normalise each position over its own features (the last axis), then γ and
 * β. No batch statistics, so training and inference agree and batch size does not matter.
 */
export class LayerNormalization extends Layer {
  /** The name saved files record (a minifier renames the class itself). */
  static readonly className = 'LayerNormalization';
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  fused: boolean;
  gamma?: Variable;
  beta?: Variable;

  constructor(args: LayerNormalizationArgs = {}) {
    super(args);
    checkLayerArgs(this, args, ['axis', 'epsilon', 'center', 'scale', 'fused']);
    if (args.axis !== undefined && args.axis !== -1) throw layerError(this, `only axis -1 is supported, got ${args.axis}`);
    this.epsilon = args.epsilon ?? 1e-3;
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.fused = args.fused ?? true;
    // ε keeps 1/√(variance + ε) finite for a constant row; ε ≤ 0 gives NaN there.
    if (!(this.epsilon > 0)) throw layerError(this, `epsilon must be positive, got ${this.epsilon}`);
    this.supportsMasking = true;
  }

  override build(inputShape: SymbolicShape): void {
    const features = inputShape[inputShape.length - 1];
    if (typeof features !== 'number') throw layerError(this, `the feature axis of the input must be known, got ${JSON.stringify(inputShape)}`);
    if (this.scale) this.gamma = this.addParameter('gamma', ones([features]));
    if (this.center) this.beta = this.addParameter('beta', zeros([features]));
    super.build(inputShape);
  }

  call(x: Variable): Variable {
    const features = x.shape[x.rank - 1];
    const gamma = this.gamma ?? new Variable(full([features], 1, x.dtype));
    const beta = this.beta ?? new Variable(full([features], 0, x.dtype));
    checkFeatures(`${this.name} (LayerNormalization)`, x, gamma);
    return (this.fused ? F.layerNorm : F.layerNormComposite)(x, gamma, beta, this.epsilon);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), epsilon: this.epsilon, center: this.center, scale: this.scale, fused: this.fused };
  }
}


registerLayer('BatchNormalization', (c) => new BatchNormalization(c as BatchNormalizationArgs));
registerLayer('LayerNormalization', (c) => new LayerNormalization(c as LayerNormalizationArgs));
