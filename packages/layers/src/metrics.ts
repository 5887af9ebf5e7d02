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
export type AccuracyKind = 'binary_accuracy' | 'sparse_categorical_accuracy' | 'categorical_accuracy';

/**
 * A metric function on a batch. `fromLogits` says the predictions are raw scores (Sequential passes them
 * when it skipped the final softmax or sigmoid): argmax is unchanged by softmax, and p > 0.5 ⇔ z > 0.
 */
export type MetricFunction = (yTrue: Tensor, yPred: Tensor, fromLogits?: boolean) => MetricCount;

/** Keras's binary_accuracy: mean of [ (p > 0.5) = (t > 0.5) ] over every element (t is 0 or 1). */
export const binaryAccuracy: MetricFunction = (yTrue, yPred, fromLogits = false) => {
  if (yTrue.size !== yPred.size) {
    throw new Error(`binary_accuracy: targets ${formatShape(yTrue.shape)} do not match predictions ${formatShape(yPred.shape)}`);
  }
  const predicted = yPred.gt(fromLogits ? 0 : 0.5), actual = yTrue.reshape(yPred.shape).gt(0.5);
  return { correct: predicted.eq(actual).sum(), count: yPred.size };
};

/** Keras's sparse_categorical_accuracy: mean of [ argmax(p) = label ] over the rows (the first max on ties). */
export const sparseCategoricalAccuracy: MetricFunction = (yTrue, yPred) => {
  const c = yPred.shape[yPred.rank - 1];
  const rows = yPred.size / c;
  if (yTrue.size !== rows) {
    throw new Error(`sparse_categorical_accuracy: labels ${formatShape(yTrue.shape)} do not match predictions ${formatShape(yPred.shape)}`);
  }
  const predicted = yPred.reshape([rows, c]).argmax(-1);
  return { correct: predicted.eq(yTrue.reshape([rows]).astype('int32')).sum(), count: rows };
};

/** Keras's categorical_accuracy: mean of [ argmax(p) = argmax(t) ] over the rows. */
export const categoricalAccuracy: MetricFunction = (yTrue, yPred) => {
  if (yTrue.size !== yPred.size) {
    throw new Error(`categorical_accuracy: targets ${formatShape(yTrue.shape)} do not match predictions ${formatShape(yPred.shape)}`);
  }
  const c = yPred.shape[yPred.rank - 1];
  const rows = yPred.size / c;
  const correct = yPred.reshape([rows, c]).argmax(-1).eq(yTrue.reshape([rows, c]).argmax(-1)).sum();
  return { correct, count: rows };
};

const ACCURACIES: Record<AccuracyKind, MetricFunction> = {
  binary_accuracy: binaryAccuracy,
  sparse_categorical_accuracy: sparseCategoricalAccuracy,
  categorical_accuracy: categoricalAccuracy,
};

/** Which accuracy 'accuracy' means for these target and prediction shapes (Keras's rule, above). */
export function accuracyKind(yTrueShape: readonly number[], yPredShape: readonly number[]): AccuracyKind {
  const tLast = yTrueShape[yTrueShape.length - 1], pLast = yPredShape[yPredShape.length - 1];
  if (pLast === 1) return 'binary_accuracy';
  if (yTrueShape.length < yPredShape.length || (tLast === 1 && pLast > 1)) return 'sparse_categorical_accuracy';
  return 'categorical_accuracy';
}

/** A metric as compile() resolves it: the name it is reported under and how to compute it. */
export interface Metric { readonly name: string; compute(yTrue: Tensor, yPred: Tensor, fromLogits?: boolean): MetricCount }

/** Errors on values, as metrics: the sum of |p − t| (or (p − t)²) over the batch, divided by the count of elements at the epoch's end. */
function elementError(name: string, error: (difference: Tensor) => Tensor): MetricFunction {
  return (yTrue, yPred) => {
    if (yTrue.size !== yPred.size) throw new Error(`${name}: targets ${formatShape(yTrue.shape)} do not match predictions ${formatShape(yPred.shape)}`);
    return { correct: error(yPred.sub(yTrue.reshape(yPred.shape).astype(yPred.dtype))).sum(), count: yPred.size };
  };
}

const ERRORS: Record<string, MetricFunction> = {
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
    let chosen: MetricFunction | undefined;
    return {
      name,
      compute(yTrue, yPred, fromLogits) {
        chosen ??= ACCURACIES[accuracyKind(yTrue.shape, yPred.shape)];
        return chosen(yTrue, yPred, fromLogits);
      },
    };
  }
  const fn = lookupKerasName(ACCURACIES, name) ?? lookupKerasName(ERRORS, name);
  if (!fn) throw new Error(`metrics: unknown metric '${name}' (known: accuracy, acc, ${[...Object.keys(ACCURACIES), ...Object.keys(ERRORS)].join(', ')}, or the same in camelCase as TF.js writes them)`);
  return { name, compute: fn };
}
