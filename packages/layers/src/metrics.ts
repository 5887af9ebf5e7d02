/**
 * Metrics: numbers reported during training that are not optimised (no gradients, plain tensors).
 * Each returns the count of correct predictions and the count of predictions, so that fit() can add them
 * up over batches of different sizes and report the exact accuracy of the epoch.
 *
 * 'accuracy' means one of three things, chosen as Keras chooses it, from the shapes of the targets and
 * the predictions (which in practice follows the loss):
 *   predictions with a last axis of 1                                  → binary accuracy (p > 0.5)
 *   targets of lower rank, or with a last axis of 1 against C > 1       → sparse categorical (argmax = label)
 *   otherwise (one-hot targets)                                        → categorical (argmax = argmax)
 *
 * compile's `weightedMetrics` (Keras's weighted_metrics) weigh each example by its sampleWeight (times
 * classWeight in training): Σ wᵢ·scoreᵢ / Σ wᵢ, where scoreᵢ is the example's mean over its predictions
 * (Keras's Mean with sample_weight). Plain `metrics` are never weighted, as in Keras 3.
 */
import { formatShape } from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import { lookupKerasName } from './lookup.js';

/**
 * A metric on one batch: the number of correct predictions as a scalar tensor (on the predictions'
 * backend: nothing is read back here, so the metric runs where the model runs) and the number of
 * predictions, known from the shapes. fit() reads the counts once per batch, with the loss.
 */
export interface MetricCount { correct: Tensor; count: number }

/** A weighted metric on one batch: Σ wᵢ·(example i's correct predictions) and Σ wᵢ·(its predictions), both scalar tensors. */
export interface WeightedCount { correct: Tensor; count: Tensor }
export type AccuracyKind = 'binary_accuracy' | 'sparse_categorical_accuracy' | 'categorical_accuracy';

/**
 * A metric function on a batch. `fromLogits` says the predictions are raw scores (Sequential passes them
 * when it skipped the final softmax or sigmoid): argmax is unchanged by softmax, and p > 0.5 ⇔ z > 0.
 */
export type MetricFunction = (yTrue: Tensor, yPred: Tensor, fromLogits?: boolean) => MetricCount;

/** A metric function from its scores: their sum (correct) and how many there are (count). */
const counted = (scores: Scores): MetricFunction => (yTrue, yPred, fromLogits) => {
  const s = scores(yTrue, yPred, fromLogits);
  return { correct: s.sum(), count: s.size };
};

/** Per row of predictions (one per example, or per example and time step), with the examples first: yPred's shape without its class axis. */
const rowShape = (yPred: Tensor): number[] => (yPred.rank > 1 ? yPred.shape.slice(0, -1) : [1]);

/** Keras's binary_accuracy: mean of [ (p > 0.5) = (t > 0.5) ] over every element (t is 0 or 1). */
const binaryScores: Scores = (yTrue, yPred, fromLogits = false) => {
  if (yTrue.size !== yPred.size) {
    throw new Error(`binary_accuracy: targets ${formatShape(yTrue.shape)} do not match predictions ${formatShape(yPred.shape)}`);
  }
  return yPred.gt(fromLogits ? 0 : 0.5).eq(yTrue.reshape(yPred.shape).gt(0.5));
};

/** Keras's sparse_categorical_accuracy: mean of [ argmax(p) = label ] over the rows (the first max on ties). */
const sparseCategoricalScores: Scores = (yTrue, yPred) => {
  const c = yPred.shape[yPred.rank - 1];
  const rows = yPred.size / c;
  if (yTrue.size !== rows) {
    throw new Error(`sparse_categorical_accuracy: labels ${formatShape(yTrue.shape)} do not match predictions ${formatShape(yPred.shape)}`);
  }
  return yPred.reshape([rows, c]).argmax(-1).eq(yTrue.reshape([rows]).astype('int32')).reshape(rowShape(yPred));
};

/** Keras's categorical_accuracy: mean of [ argmax(p) = argmax(t) ] over the rows. */
const categoricalScores: Scores = (yTrue, yPred) => {
  if (yTrue.size !== yPred.size) {
    throw new Error(`categorical_accuracy: targets ${formatShape(yTrue.shape)} do not match predictions ${formatShape(yPred.shape)}`);
  }
  const c = yPred.shape[yPred.rank - 1];
  const rows = yPred.size / c;
  return yPred.reshape([rows, c]).argmax(-1).eq(yTrue.reshape([rows, c]).argmax(-1)).reshape(rowShape(yPred));
};

export const binaryAccuracy: MetricFunction = counted(binaryScores);
export const sparseCategoricalAccuracy: MetricFunction = counted(sparseCategoricalScores);
export const categoricalAccuracy: MetricFunction = counted(categoricalScores);

const ACCURACIES: Record<AccuracyKind, Scores> = {
  binary_accuracy: binaryScores,
  sparse_categorical_accuracy: sparseCategoricalScores,
  categorical_accuracy: categoricalScores,
};

/** Which accuracy 'accuracy' means for these target and prediction shapes (Keras's rule, above). */
export function accuracyKind(yTrueShape: readonly number[], yPredShape: readonly number[]): AccuracyKind {
  const tLast = yTrueShape[yTrueShape.length - 1], pLast = yPredShape[yPredShape.length - 1];
  if (pLast === 1) return 'binary_accuracy';
  if (yTrueShape.length < yPredShape.length || (tLast === 1 && pLast > 1)) return 'sparse_categorical_accuracy';
  return 'categorical_accuracy';
}

/** A metric as compile() resolves it: the name it is reported under and how to compute it, plainly or weighted by example. */
export interface Metric {
  readonly name: string;
  compute(yTrue: Tensor, yPred: Tensor, fromLogits?: boolean): MetricCount;
  /** The counts with each example weighted by `weights` ([examples]); the plain counts when weights is null. */
  computeWeighted(yTrue: Tensor, yPred: Tensor, fromLogits: boolean, weights: Tensor | null): MetricCount | WeightedCount;
}

/**
 * A metric's scores (what `correct` sums: 0/1 for accuracies, |d| or d² for errors), one per prediction
 * with the examples on the first axis, for weighting them by example.
 */
type Scores = (yTrue: Tensor, yPred: Tensor, fromLogits?: boolean) => Tensor;

/** Each example's summed score times its weight, and each example's number of predictions times its weight, summed over the batch. */
function weighted(scores: Tensor, weights: Tensor): WeightedCount {
  const examples = scores.shape[0];
  const perExample = scores.size / examples;
  const dtype = scores.dtype === 'float64' ? 'float64' : 'float32';
  const w = weights.astype(dtype);
  return { correct: scores.astype(dtype).reshape([examples, perExample]).sum(-1).mul(w).sum(), count: w.sum().mul(perExample) };
}

/** A metric named `name` from its scores: counted plainly, or weighted by example. */
function metricOf(name: string, scores: Scores): Metric {
  const compute = counted(scores);
  return { name, compute, computeWeighted: (yTrue, yPred, fromLogits, weights) => (weights === null ? compute(yTrue, yPred, fromLogits) : weighted(scores(yTrue, yPred, fromLogits), weights)) };
}

/** Errors on values, as metrics: |p − t| (or (p − t)²) per element, summed over the batch and divided by the count of elements at the epoch's end. */
function elementError(name: string, error: (difference: Tensor) => Tensor): Scores {
  return (yTrue, yPred) => {
    if (yTrue.size !== yPred.size) throw new Error(`${name}: targets ${formatShape(yTrue.shape)} do not match predictions ${formatShape(yPred.shape)}`);
    return error(yPred.sub(yTrue.reshape(yPred.shape).astype(yPred.dtype)));
  };
}

const ERRORS: Record<string, Scores> = {
  mean_absolute_error: elementError('mean_absolute_error', (d) => d.abs()),
  mean_squared_error: elementError('mean_squared_error', (d) => d.square()),
};
ERRORS.mae = ERRORS.mean_absolute_error;
ERRORS.mse = ERRORS.mean_squared_error;

/**
 * Resolve a metric name. 'accuracy' and 'acc' pick their kind on the first batch (from the shapes) but
 * keep the name the user wrote, as Keras reports them; the explicit kinds are accepted too.
 */
export function getMetric(name: string): Metric {
  if (name === 'accuracy' || name === 'acc') {
    let chosen: Scores | undefined;
    return metricOf(name, (yTrue, yPred, fromLogits) => {
      chosen ??= ACCURACIES[accuracyKind(yTrue.shape, yPred.shape)];
      return chosen(yTrue, yPred, fromLogits);
    });
  }
  const scores = lookupKerasName(ACCURACIES, name) ?? lookupKerasName(ERRORS, name);
  if (!scores) throw new Error(`metrics: unknown metric '${name}' (known: accuracy, acc, ${[...Object.keys(ACCURACIES), ...Object.keys(ERRORS)].join(', ')}, or the same in camelCase as TF.js writes them)`);
  return metricOf(name, scores);
}
