/**
 * Losses: functions of the predictions and the targets that return a scalar Variable, the mean of the
 * per-example losses over the batch (Keras's 'sum_over_batch_size' reduction). Arguments come in
 * PyTorch's order, prediction first: `sparseCategoricalCrossentropy(model.call(x), labels)`.
 *
 * Each loss is composed of differentiable ops, with Keras's formulas, clipping included:
 *
 *   on probabilities p (Keras's default) the values are clipped to [ε, 1 − ε], ε = 1e-7, before the log,
 *   so a confident wrong answer costs −log(1e-7) ≈ 16.1 instead of Infinity (the clip's gradient is 1
 *   inside and 0 where it clamped, as TensorFlow's);
 *   with fromLogits the loss takes the raw scores z and uses the fused softmax or sigmoid cross-entropy
 *   (F.softmaxCrossEntropy, F.sigmoidCrossEntropy: the backend's stable kernels, no clipping needed, no
 *   overflow for large |z|). Sequential uses this form on its own when the last layer ends in a softmax
 *   or a sigmoid (Keras does the same), which is why a model ending in Dense(10, {activation:
 *   'softmax'}) trains as stably as one trained on logits.
 *
 * Targets get no gradient (they are data), except in meanSquaredError where it is free. Nothing here
 * reads a value, so every loss runs where its inputs live (a device backend included); labels are
 * checked on the host where a batch enters fit (models/check-batch.ts).
 */
import { F, Variable, asVariable } from '@gradlab/autograd';
import { Tensor, formatShape, sizeOf } from '@gradlab/tensor';
import { lookupKerasName } from './lookup.js';

/** Keras's backend.epsilon(): how far probabilities are kept from 0 and 1 before a log. */
export const EPSILON = 1e-7;

export interface CrossentropyOptions {
  /** The predictions are raw scores (logits), not probabilities. Default false, as Keras. */
  fromLogits?: boolean;
  /**
   * 'mean' (default): one number, the mean over every example (and time step, and element).
   * 'none': the unreduced losses, one per row ([...rows]; per element for binary crossentropy), which
   * fit weighs by sampleWeight and classWeight before taking the mean.
   */
  reduction?: 'mean' | 'none';
}

/** The losses' last step: their mean, or the losses themselves for reduction 'none'. */
const reduce = (losses: Variable, options: CrossentropyOptions): Variable => (options.reduction === 'none' ? losses : losses.mean());

export type LossFunction = (yPred: Variable, yTrue: Variable | Tensor) => Variable;
export type LossName = 'sparse_categorical_crossentropy' | 'categorical_crossentropy' | 'binary_crossentropy' | 'mean_squared_error' | 'mean_absolute_error';

/** The losses on values rather than probabilities: no fromLogits, no fused softmax or sigmoid. */
export const isRegressionLoss = (kind: LossName | null): boolean => kind === 'mean_squared_error' || kind === 'mean_absolute_error';

// ---- checks ---------------------------------------------------------------------------------------

function checkFloat(op: string, pred: Variable): void {
  if (pred.dtype === 'int32') throw new Error(`${op}: predictions ${formatShape(pred.shape)} must be floats, got int32`);
  if (pred.rank === 0) throw new Error(`${op}: predictions must have at least one axis, got a scalar`);
}

/**
 * Targets of the same shape as the predictions; as Keras, one trailing axis of size 1 may be missing on
 * either side ([32] against [32, 1]). Returns the targets in the predictions' shape.
 */
function sameShapeTargets(op: string, pred: Variable, target: Variable): Variable {
  const a = pred.shape, b = target.shape;
  const drop1 = (s: readonly number[]): readonly number[] => (s.length > 0 && s[s.length - 1] === 1 ? s.slice(0, -1) : s);
  const same = (x: readonly number[], y: readonly number[]): boolean => x.length === y.length && x.every((d, k) => d === y[k]);
  if (!(same(a, b) || same(drop1(a), b) || same(a, drop1(b)))) {
    throw new Error(`${op}: targets ${formatShape(b)} do not match predictions ${formatShape(a)}`);
  }
  return target.reshape(a);
}

/** Labels of a sparse loss: one per row of the predictions, shaped [...rows] or [...rows, 1]; returned as [...rows]. */
function rowLabels(op: string, pred: Variable, labels: Tensor): Tensor {
  const rowsShape = pred.shape.slice(0, -1);
  const ok = sizeOf(labels.shape) === sizeOf(rowsShape) &&
    (labels.rank === rowsShape.length || (labels.rank === rowsShape.length + 1 && labels.shape[labels.rank - 1] === 1));
  if (!ok) {
    throw new Error(`${op}: labels ${formatShape(labels.shape)} do not match predictions ${formatShape(pred.shape)} ` +
      `(expected ${formatShape(rowsShape)} or ${formatShape([...rowsShape, 1])}: one class index per example)`);
  }
  return labels.reshape(rowsShape);
}

/** The values of a Variable or Tensor argument, as data (targets get no gradient). */
const dataOf = (t: Variable | Tensor): Tensor => (t instanceof Variable ? t.data : t);

/** c = clip(p, ε, 1 − ε) */
const clipProb = (p: Variable): Variable => p.clip(EPSILON, 1 - EPSILON);

// ---- sparse categorical crossentropy -------------------------------------------------------------

/**
 * sparse_categorical_crossentropy: predictions [..., C] (probabilities, or logits with fromLogits) and
 * integer labels [...] (or [..., 1]); the mean over all rows of
 *   fromLogits:     log Σₖ e^{zₖ} − z_y                            (F.softmaxCrossEntropy)
 *   probabilities:  −log c_y + log Σₖ cₖ,  c = clip(p)            (Keras: clip, log, then the same on log c,
 *                   which is exactly the softmax cross-entropy of the logits log c)
 */
export function sparseCategoricalCrossentropy(yPred: Variable, labels: Variable | Tensor, options: CrossentropyOptions = {}): Variable {
  const op = 'sparse_categorical_crossentropy';
  checkFloat(op, yPred);
  const y = rowLabels(op, yPred, dataOf(labels));
  const logits = options.fromLogits ? yPred : clipProb(yPred).log();
  return reduce(F.softmaxCrossEntropy(logits, y), options);
}

// ---- categorical crossentropy --------------------------------------------------------------------

/**
 * categorical_crossentropy: targets t [..., C] (one-hot or soft); the mean over the rows of
 *   fromLogits:     Σⱼ tⱼ·(log Σₖ e^{zₖ} − zⱼ)  = −Σⱼ tⱼ·logSoftmax(z)ⱼ
 *   probabilities:  −Σⱼ tⱼ·log cⱼ,  c = clip(p / Σₖ pₖ)           (Keras rescales each row to sum 1 first)
 */
export function categoricalCrossentropy(yPred: Variable, yTrue: Variable | Tensor, options: CrossentropyOptions = {}): Variable {
  const op = 'categorical_crossentropy';
  checkFloat(op, yPred);
  const t = dataOf(yTrue);
  if (!(t.rank === yPred.rank && t.shape.every((d, k) => d === yPred.shape[k]))) {
    throw new Error(`${op}: targets ${formatShape(t.shape)} do not match predictions ${formatShape(yPred.shape)} ` +
      '(one probability per class; for integer labels use sparse_categorical_crossentropy)');
  }
  const target = t.astype(yPred.dtype);
  const logP = options.fromLogits ? F.logSoftmax(yPred, -1) : clipProb(yPred.div(yPred.sum(-1, true))).log();
  return reduce(logP.mul(target).sum(-1).neg(), options);
}

// ---- binary crossentropy -------------------------------------------------------------------------

/**
 * binary_crossentropy: each element is its own two-class problem with target t ∈ [0, 1]; the mean over
 * every element (Keras takes the mean over the last axis, then over the batch: the same thing) of
 *   fromLogits:     max(x, 0) − x·t + log(1 + e^−|x|)              (F.sigmoidCrossEntropy)
 *   probabilities:  −t·log c − (1 − t)·log(1 − c),  c = clip(p)
 */
export function binaryCrossentropy(yPred: Variable, yTrue: Variable | Tensor, options: CrossentropyOptions = {}): Variable {
  const op = 'binary_crossentropy';
  checkFloat(op, yPred);
  const t = sameShapeTargets(op, yPred, new Variable(dataOf(yTrue).astype(yPred.dtype)));
  if (options.fromLogits) return reduce(F.sigmoidCrossEntropy(yPred, t.data), options);
  const c = clipProb(yPred);
  return reduce(t.mul(c.log()).add(t.neg().add(1).mul(c.neg().add(1).log())).neg(), options);
}

// ---- mean squared error --------------------------------------------------------------------------

/** The target of a loss on values, checked against the prediction (int32 targets become floats); it gets its gradient too. */
function valueTarget(op: string, yPred: Variable, yTrue: Variable | Tensor): Variable {
  checkFloat(op, yPred);
  const t = asVariable(yTrue);
  return sameShapeTargets(op, yPred, t.dtype === 'int32' ? new Variable(t.data.astype(yPred.dtype)) : t);
}

/** mean_squared_error (alias 'mse'): the mean of (prediction − target)² over every element. */
export function meanSquaredError(yPred: Variable, yTrue: Variable | Tensor, options: Pick<CrossentropyOptions, 'reduction'> = {}): Variable {
  return reduce(yPred.sub(valueTarget('mean_squared_error', yPred, yTrue)).square(), options);
}

/** mean_absolute_error (alias 'mae'): the mean of |prediction − target| over every element. */
export function meanAbsoluteError(yPred: Variable, yTrue: Variable | Tensor, options: Pick<CrossentropyOptions, 'reduction'> = {}): Variable {
  return reduce(yPred.sub(valueTarget('mean_absolute_error', yPred, yTrue)).abs(), options);
}

// ---- names, as compile() takes them ------------------------------------------------------------

/** A named loss with its options, as compile() resolves it; `call` computes it. */
export interface Loss {
  readonly name: LossName | string;
  /** Which Keras loss this is (null for a user's own function): decides the accuracy metric and the fused path. */
  readonly kind: LossName | null;
  readonly fromLogits: boolean;
  call(yPred: Variable, yTrue: Variable | Tensor): Variable;
  /** The unreduced losses (reduction 'none'), for weighting; absent for a user's own function. */
  unreduced?(yPred: Variable, yTrue: Variable | Tensor): Variable;
}

const ALIASES: Record<string, LossName> = {
  sparse_categorical_crossentropy: 'sparse_categorical_crossentropy',
  categorical_crossentropy: 'categorical_crossentropy',
  binary_crossentropy: 'binary_crossentropy',
  mean_squared_error: 'mean_squared_error',
  mse: 'mean_squared_error',
  mean_absolute_error: 'mean_absolute_error',
  mae: 'mean_absolute_error',
};

/** Build a Loss from a Keras name ('mse', 'sparse_categorical_crossentropy', …) or a TF.js one ('sparseCategoricalCrossentropy'). */
export function lossFromName(name: string, options: CrossentropyOptions = {}): Loss {
  const kind = lookupKerasName(ALIASES, name);
  if (!kind) throw new Error(`loss: unknown loss '${name}' (known: ${Object.keys(ALIASES).join(', ')}, or the same in camelCase as TF.js writes them)`);
  const fromLogits = !isRegressionLoss(kind) && (options.fromLogits ?? false);
  const fn = (reduction: 'mean' | 'none'): ((p: Variable, t: Variable | Tensor) => Variable) => ({
    sparse_categorical_crossentropy: (p: Variable, t: Variable | Tensor) => sparseCategoricalCrossentropy(p, t, { fromLogits, reduction }),
    categorical_crossentropy: (p: Variable, t: Variable | Tensor) => categoricalCrossentropy(p, t, { fromLogits, reduction }),
    binary_crossentropy: (p: Variable, t: Variable | Tensor) => binaryCrossentropy(p, t, { fromLogits, reduction }),
    mean_squared_error: (p: Variable, t: Variable | Tensor) => meanSquaredError(p, t, { reduction }),
    mean_absolute_error: (p: Variable, t: Variable | Tensor) => meanAbsoluteError(p, t, { reduction }),
  })[kind];
  return { name: kind, kind, fromLogits, call: fn('mean'), unreduced: fn('none') };
}

/** Keras's loss classes, e.g. `loss: losses.SparseCategoricalCrossentropy({ fromLogits: true })`. */
export const SparseCategoricalCrossentropy = (o: CrossentropyOptions = {}): Loss => lossFromName('sparse_categorical_crossentropy', o);
export const CategoricalCrossentropy = (o: CrossentropyOptions = {}): Loss => lossFromName('categorical_crossentropy', o);
export const BinaryCrossentropy = (o: CrossentropyOptions = {}): Loss => lossFromName('binary_crossentropy', o);
export const MeanSquaredError = (): Loss => lossFromName('mean_squared_error');

/** What compile() accepts as a loss: a name, a Loss, or any function of (prediction, target). */
export type LossSpec = string | Loss | LossFunction;

export function getLoss(spec: LossSpec): Loss {
  if (typeof spec === 'string') return lossFromName(spec);
  if (typeof spec === 'function') return { name: spec.name || 'loss', kind: null, fromLogits: false, call: spec };
  return spec;
}
