/**
 * Losses: functions of the predictions and the targets that return a scalar Variable, the mean of the
 * per-example losses over the batch (Keras's 'sum_over_batch_size' reduction). Arguments come in
 * PyTorch's order, prediction first: `sparseCategoricalCrossentropy(model.call(x), labels)`.
 *
 * Each loss is one fused op: its forward and its closed-form backward are single loops over the
 * typed arrays (in float64), side by side. The formulas are Keras's, clipping included:
 *
 *   on probabilities p (Keras's default) the values are clipped to [ε, 1 − ε], ε = 1e-7, before the log,
 *   so a confident wrong answer costs −log(1e-7) ≈ 16.1 instead of Infinity;
 *   with fromLogits the loss takes the raw scores z and uses a stable log-softmax (or log-sigmoid):
 *   no clipping needed, no overflow for large |z|. Sequential uses this form on its own when the last
 *   layer ends in a softmax or a sigmoid (Keras does the same), which is why a model ending in
 *   Dense(10, {activation: 'softmax'}) trains as stably as one trained on logits.
 *
 * Targets get no gradient (they are data), except in meanSquaredError where it is free.
 *
 * On a device (predictions in float32 on a backend other than the CPU's), the losses a model ends in
 * when Sequential folds its activation in (softmax and sigmoid crossentropy from logits) are computed
 * with the backend's ops instead of the loops, so that the predictions are not read back: the
 * softmax crossentropy through the backend's fused kernel (FusedKernels in @gradlab/tensor), the
 * binary one from elementwise ops. The loss stays a device scalar until someone reads it.
 */
import { Variable, asVariable, defineOp } from '@gradlab/autograd';
import { Tensor, allocate, arange, fromTypedArray, formatShape, fusedKernelFor, isOnDevice, sizeOf } from '@gradlab/tensor';
import { lookup } from './lookup.js';

// Math's functions as module locals: the loops below call them per element, and inside jest's sandbox
// every lookup of the global `Math` costs about 70 times more (plain Node does not care).
const { exp, log, log1p, abs } = Math;

/** Keras's backend.epsilon(): how far probabilities are kept from 0 and 1 before a log. */
export const EPSILON = 1e-7;

export interface CrossentropyOptions {
  /** The predictions are raw scores (logits), not probabilities. Default false, as Keras. */
  fromLogits?: boolean;
}

export type LossFunction = (yPred: Variable, yTrue: Variable | Tensor) => Variable;
export type LossName = 'sparse_categorical_crossentropy' | 'categorical_crossentropy' | 'binary_crossentropy' | 'mean_squared_error';

// ---- helpers ------------------------------------------------------------------------------------

const clipProb = (p: number): number => (p < EPSILON ? EPSILON : p > 1 - EPSILON ? 1 - EPSILON : p);
/** Whether the clip let p through (its gradient is 1 there and 0 outside, as TensorFlow's clip). */
const inRange = (p: number): boolean => p >= EPSILON && p <= 1 - EPSILON;

function checkFloat(op: string, pred: Tensor): void {
  if (pred.dtype === 'int32') throw new Error(`${op}: predictions ${formatShape(pred.shape)} must be floats, got int32`);
  if (pred.rank === 0) throw new Error(`${op}: predictions must have at least one axis, got a scalar`);
}

/** A scalar of the predictions' dtype. */
function scalarOf(like: Tensor, value: number): Tensor {
  const out = allocate(like.dtype, 1);
  out[0] = value;
  return fromTypedArray(out, []);
}

/** A gradient holding `values` (computed in float64) in the dtype and shape of `like`. */
function gradientLike(like: Tensor, values: Float64Array): Tensor {
  const out = allocate(like.dtype, values.length);
  out.set(values);
  return fromTypedArray(out, like.shape);
}

/**
 * Targets of the same shape as the predictions; as Keras, one trailing axis of size 1 may be missing on
 * either side ([32] against [32, 1]).
 */
function checkSameSize(op: string, pred: Tensor, target: Tensor): void {
  const a = pred.shape, b = target.shape;
  const drop1 = (s: readonly number[]): readonly number[] => (s.length > 0 && s[s.length - 1] === 1 ? s.slice(0, -1) : s);
  const same = (x: readonly number[], y: readonly number[]): boolean => x.length === y.length && x.every((d, k) => d === y[k]);
  if (!(same(a, b) || same(drop1(a), b) || same(a, drop1(b)))) {
    throw new Error(`${op}: targets ${formatShape(b)} do not match predictions ${formatShape(a)}`);
  }
}

/** Labels of a sparse loss: one per row of the predictions, shaped [...rows] or [...rows, 1]. */
function checkLabelShape(op: string, pred: Tensor, labels: Tensor): void {
  const rowsShape = pred.shape.slice(0, -1);
  const ok = sizeOf(labels.shape) === sizeOf(rowsShape) &&
    (labels.rank === rowsShape.length || (labels.rank === rowsShape.length + 1 && labels.shape[labels.rank - 1] === 1));
  if (!ok) {
    throw new Error(`${op}: labels ${formatShape(labels.shape)} do not match predictions ${formatShape(pred.shape)} ` +
      `(expected ${formatShape(rowsShape)} or ${formatShape([...rowsShape, 1])}: one class index per example)`);
  }
}

/** The labels of a sparse loss as integers in [0, classes), one per row of the predictions. */
function readLabels(op: string, pred: Tensor, labels: Tensor): ArrayLike<number> {
  checkLabelShape(op, pred, labels);
  const classes = pred.shape[pred.rank - 1];
  const values = labels.dataSync();
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < 0 || v >= classes) {
      throw new Error(`${op}: label ${v} (at ${i}) is outside the valid range [0, ${classes}) for predictions ${formatShape(pred.shape)}`);
    }
  }
  return values;
}

/** For row r of width C starting at o: the max and log Σ exp(z − max), so log softmax = z − max − logSum. */
function logSumExpRow(z: ArrayLike<number>, o: number, c: number): { max: number; logSum: number } {
  let max = -Infinity;
  for (let j = 0; j < c; j++) if (z[o + j] > max) max = z[o + j];
  let s = 0;
  for (let j = 0; j < c; j++) s += exp(z[o + j] - max);
  return { max, logSum: log(s) };
}

// ---- sparse categorical crossentropy -------------------------------------------------------------

interface SparseAttrs {
  fromLogits: boolean;
  /** Set by forward when it ran on the device: backward then forms the gradient there too. */
  onDevice?: boolean;
}

/**
 * One label y per row of C scores. N = number of rows.
 * fromLogits:  L = mean( logΣₖ exp zₖ − z_y )                      ∂L/∂zⱼ = (softmaxⱼ − [j = y]) / N
 * probabilities (Keras: clip, log, then the same softmax crossentropy on log c, c = clip(p)):
 *              L = mean( −log c_y + log Σₖ cₖ )                   ∂L/∂pⱼ = in(pⱼ)·(1/Σc − [j = y]/c_y) / N
 * where in(p) is 1 where the clip let p through and 0 where it clamped.
 */
const sparseCrossentropyOp = defineOp<SparseAttrs>('sparseCategoricalCrossentropy', {
  forward(ctx, [pred, labels], attrs) {
    const { fromLogits } = attrs;
    const op = 'sparse_categorical_crossentropy';
    checkFloat(op, pred);
    const device = fromLogits ? fusedKernelFor('softmaxCrossEntropy', pred, labels) : null;
    if (device) {
      // labels already on the device are not read back to be checked: an invalid one gives a NaN loss
      if (labels.backend === 'cpu') readLabels(op, pred, labels); else checkLabelShape(op, pred, labels);
      const c = pred.shape[pred.rank - 1];
      const { loss, softmax } = device.softmaxCrossEntropy(pred.reshape([-1, c]), labels.reshape([-1]));
      attrs.onDevice = true;
      ctx.save(softmax, labels);
      return loss.mean();
    }
    const y = readLabels(op, pred, labels);
    const c = pred.shape[pred.rank - 1];
    const p = pred.dataSync();
    const rows = p.length / c;
    let total = 0;
    for (let r = 0; r < rows; r++) {
      const o = r * c;
      if (fromLogits) {
        const { max, logSum } = logSumExpRow(p, o, c);
        total += max + logSum - p[o + y[r]];
      } else {
        let s = 0;
        for (let j = 0; j < c; j++) s += clipProb(p[o + j]);
        total += -log(clipProb(p[o + y[r]])) + log(s);
      }
    }
    ctx.save(pred, labels);
    return scalarOf(pred, rows > 0 ? total / rows : NaN);
  },
  backward(ctx, dy, { fromLogits, onDevice }) {
    const [pred, labels] = ctx.saved;
    const c = pred.shape[pred.rank - 1];
    if (onDevice) {
      // pred is the saved softmax [rows, c]: ∂L/∂z = (softmax − onehot(label))·dy / rows, on the device
      const rows = pred.shape[0];
      const onehot = labels.reshape([rows, 1]).eq(arange(0, c, 1, 'int32').reshape([1, c]));
      return [pred.sub(onehot).mul(dy.div(rows)).reshape(ctx.inputShapes[0]), null];
    }
    const p = pred.dataSync(), y = labels.dataSync();
    const rows = p.length / c;
    const scale = dy.item() / rows;
    const g = new Float64Array(p.length);
    for (let r = 0; r < rows; r++) {
      const o = r * c;
      if (fromLogits) {
        const { max, logSum } = logSumExpRow(p, o, c);
        for (let j = 0; j < c; j++) g[o + j] = scale * exp(p[o + j] - max - logSum);
        g[o + y[r]] -= scale;
      } else {
        let s = 0;
        for (let j = 0; j < c; j++) s += clipProb(p[o + j]);
        for (let j = 0; j < c; j++) if (inRange(p[o + j])) g[o + j] = scale / s;
        const k = o + y[r];
        if (inRange(p[k])) g[k] -= scale / clipProb(p[k]);
      }
    }
    return [gradientLike(pred, g), null];
  },
});

/**
 * sparse_categorical_crossentropy: predictions [..., C] (probabilities, or logits with fromLogits) and
 * integer labels [...] (or [..., 1]); the mean over all rows of −log p(label).
 */
export function sparseCategoricalCrossentropy(yPred: Variable, labels: Variable | Tensor, options: CrossentropyOptions = {}): Variable {
  return sparseCrossentropyOp([yPred, asVariable(labels)], { fromLogits: options.fromLogits ?? false });
}

// ---- categorical crossentropy --------------------------------------------------------------------

/**
 * Targets t [..., C] (one-hot or soft), T = Σⱼ tⱼ (1 for one-hot). N = number of rows.
 * fromLogits:  L = mean( Σⱼ tⱼ (logΣₖ exp zₖ − zⱼ) )                ∂L/∂zⱼ = (softmaxⱼ·T − tⱼ) / N
 * probabilities (Keras: rescale each row to sum 1, q = p / S, then clip, c = clip(q)):
 *              L = mean( −Σⱼ tⱼ log cⱼ )
 *   with gⱼ = ∂/∂qⱼ = −in(qⱼ)·tⱼ / cⱼ and the rescaling's Jacobian ∂qⱼ/∂pₖ = ([j = k] − qⱼ) / S:
 *              ∂L/∂pₖ = (gₖ − Σⱼ gⱼ qⱼ) / (S·N)
 */
const categoricalCrossentropyOp = defineOp<SparseAttrs>('categoricalCrossentropy', {
  forward(ctx, [pred, target], { fromLogits }) {
    const op = 'categorical_crossentropy';
    checkFloat(op, pred);
    if (!(target.rank === pred.rank && target.shape.every((d, k) => d === pred.shape[k]))) {
      throw new Error(`${op}: targets ${formatShape(target.shape)} do not match predictions ${formatShape(pred.shape)} ` +
        '(one probability per class; for integer labels use sparse_categorical_crossentropy)');
    }
    const c = pred.shape[pred.rank - 1];
    const p = pred.dataSync(), t = target.dataSync();
    const rows = p.length / c;
    let total = 0;
    for (let r = 0; r < rows; r++) {
      const o = r * c;
      if (fromLogits) {
        const { max, logSum } = logSumExpRow(p, o, c);
        for (let j = 0; j < c; j++) if (t[o + j] !== 0) total += t[o + j] * (max + logSum - p[o + j]);
      } else {
        let s = 0;
        for (let j = 0; j < c; j++) s += p[o + j];
        for (let j = 0; j < c; j++) if (t[o + j] !== 0) total -= t[o + j] * log(clipProb(p[o + j] / s));
      }
    }
    ctx.save(pred, target);
    return scalarOf(pred, rows > 0 ? total / rows : NaN);
  },
  backward(ctx, dy, { fromLogits }) {
    const [pred, target] = ctx.saved;
    const c = pred.shape[pred.rank - 1];
    const p = pred.dataSync(), t = target.dataSync();
    const rows = p.length / c;
    const scale = dy.item() / rows;
    const g = new Float64Array(p.length);
    for (let r = 0; r < rows; r++) {
      const o = r * c;
      if (fromLogits) {
        const { max, logSum } = logSumExpRow(p, o, c);
        let tSum = 0;
        for (let j = 0; j < c; j++) tSum += t[o + j];
        for (let j = 0; j < c; j++) g[o + j] = scale * (exp(p[o + j] - max - logSum) * tSum - t[o + j]);
      } else {
        let s = 0;
        for (let j = 0; j < c; j++) s += p[o + j];
        let gq = 0; // Σⱼ gⱼ qⱼ
        for (let j = 0; j < c; j++) {
          const q = p[o + j] / s;
          g[o + j] = inRange(q) ? -t[o + j] / clipProb(q) : 0;
          gq += g[o + j] * q;
        }
        for (let j = 0; j < c; j++) g[o + j] = scale * (g[o + j] - gq) / s;
      }
    }
    return [gradientLike(pred, g), null];
  },
});

/** categorical_crossentropy: predictions and one-hot (or soft) targets, both [..., C]. */
export function categoricalCrossentropy(yPred: Variable, yTrue: Variable | Tensor, options: CrossentropyOptions = {}): Variable {
  return categoricalCrossentropyOp([yPred, asVariable(yTrue)], { fromLogits: options.fromLogits ?? false });
}

// ---- binary crossentropy -------------------------------------------------------------------------

/**
 * Each element is its own two-class problem with target t ∈ [0, 1]. N = number of elements (Keras takes
 * the mean over the last axis, then over the batch: the same thing).
 * fromLogits (stable form: no exp of a large positive number, no log of 0):
 *              L = mean( max(x, 0) − x·t + log(1 + e^−|x|) )       ∂L/∂x = (σ(x) − t) / N
 * probabilities, c = clip(p):
 *              L = mean( −t log c − (1 − t) log(1 − c) )          ∂L/∂p = in(p)·(−t/c + (1 − t)/(1 − c)) / N
 */
const binaryCrossentropyOp = defineOp<SparseAttrs>('binaryCrossentropy', {
  forward(ctx, [pred, target], attrs) {
    const { fromLogits } = attrs;
    checkFloat('binary_crossentropy', pred);
    checkSameSize('binary_crossentropy', pred, target);
    if (fromLogits && isOnDevice(pred) && target.dtype !== 'float64') {
      // the same stable form with the backend's elementwise ops: max(x, 0) − x·t + softplus(−|x|)
      const t = target.reshape(pred.shape);
      attrs.onDevice = true;
      ctx.save(pred, t);
      return pred.relu().sub(pred.mul(t)).add(pred.abs().neg().softplus()).mean();
    }
    const p = pred.dataSync(), t = target.dataSync();
    let total = 0;
    for (let i = 0; i < p.length; i++) {
      const x = p[i];
      if (fromLogits) total += (x > 0 ? x : 0) - x * t[i] + log1p(exp(-abs(x)));
      else {
        const c = clipProb(x);
        total -= t[i] * log(c) + (1 - t[i]) * log(1 - c);
      }
    }
    ctx.save(pred, target);
    return scalarOf(pred, p.length > 0 ? total / p.length : NaN);
  },
  backward(ctx, dy, { fromLogits, onDevice }) {
    const [pred, target] = ctx.saved;
    if (onDevice) return [pred.sigmoid().sub(target).mul(dy.div(pred.size)), null]; // (σ(x) − t)·dy / N
    const p = pred.dataSync(), t = target.dataSync();
    const scale = dy.item() / p.length;
    const g = new Float64Array(p.length);
    for (let i = 0; i < p.length; i++) {
      const x = p[i];
      if (fromLogits) {
        const sigma = x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x));
        g[i] = scale * (sigma - t[i]);
      } else if (inRange(x)) {
        g[i] = scale * (-t[i] / x + (1 - t[i]) / (1 - x));
      }
    }
    return [gradientLike(pred, g), null];
  },
});

/** binary_crossentropy: probabilities (or logits) and 0/1 targets of the same shape. */
export function binaryCrossentropy(yPred: Variable, yTrue: Variable | Tensor, options: CrossentropyOptions = {}): Variable {
  return binaryCrossentropyOp([yPred, asVariable(yTrue)], { fromLogits: options.fromLogits ?? false });
}

// ---- mean squared error --------------------------------------------------------------------------

/**
 * L = mean( (p − t)² )  over every element.       ∂L/∂p = 2(p − t)/N,   ∂L/∂t = −2(p − t)/N
 */
const meanSquaredErrorOp = defineOp('meanSquaredError', {
  forward(ctx, [pred, target]) {
    checkFloat('mean_squared_error', pred);
    checkSameSize('mean_squared_error', pred, target);
    const p = pred.dataSync(), t = target.dataSync();
    let total = 0;
    for (let i = 0; i < p.length; i++) total += (p[i] - t[i]) ** 2;
    ctx.save(pred, target);
    return scalarOf(pred, p.length > 0 ? total / p.length : NaN);
  },
  backward(ctx, dy) {
    const [pred, target] = ctx.saved;
    const p = pred.dataSync(), t = target.dataSync();
    const scale = (2 * dy.item()) / p.length;
    const g = new Float64Array(p.length);
    for (let i = 0; i < p.length; i++) g[i] = scale * (p[i] - t[i]);
    const gt = ctx.needs(1) && target.dtype !== 'int32' ? gradientLike(target, g.map((v) => -v)) : null;
    return [gradientLike(pred, g), gt];
  },
});

/** mean_squared_error (alias 'mse'): the mean of (prediction − target)² over every element. */
export function meanSquaredError(yPred: Variable, yTrue: Variable | Tensor): Variable {
  return meanSquaredErrorOp([yPred, asVariable(yTrue)], undefined);
}

// ---- names, as compile() takes them ------------------------------------------------------------

/** A named loss with its options, as compile() resolves it; `call` computes it. */
export interface Loss {
  readonly name: LossName | string;
  /** Which Keras loss this is (null for a user's own function): decides the accuracy metric and the fused path. */
  readonly kind: LossName | null;
  readonly fromLogits: boolean;
  call(yPred: Variable, yTrue: Variable | Tensor): Variable;
}

const ALIASES: Record<string, LossName> = {
  sparse_categorical_crossentropy: 'sparse_categorical_crossentropy',
  categorical_crossentropy: 'categorical_crossentropy',
  binary_crossentropy: 'binary_crossentropy',
  mean_squared_error: 'mean_squared_error',
  mse: 'mean_squared_error',
};

/** Build a Loss from a Keras name ('mse', 'sparse_categorical_crossentropy', …). */
export function lossFromName(name: string, options: CrossentropyOptions = {}): Loss {
  const kind = lookup(ALIASES, name);
  if (!kind) throw new Error(`loss: unknown loss '${name}' (known: ${Object.keys(ALIASES).join(', ')})`);
  const fromLogits = kind !== 'mean_squared_error' && (options.fromLogits ?? false);
  const fn: Record<LossName, (p: Variable, t: Variable | Tensor) => Variable> = {
    sparse_categorical_crossentropy: (p, t) => sparseCategoricalCrossentropy(p, t, { fromLogits }),
    categorical_crossentropy: (p, t) => categoricalCrossentropy(p, t, { fromLogits }),
    binary_crossentropy: (p, t) => binaryCrossentropy(p, t, { fromLogits }),
    mean_squared_error: (p, t) => meanSquaredError(p, t),
  };
  return { name: kind, kind, fromLogits, call: fn[kind] };
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
