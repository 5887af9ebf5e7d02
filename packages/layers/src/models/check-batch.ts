/**
 * The one place where gradlab's layers package reads values: the data a model is given, checked once
 * on the host where it enters (fit, evaluate, trainOnBatch), before any batch is cut from it. Everything
 * after this point composes backend ops and never reads a value back, so a step can run on a device
 * (synchronously or not) without stalls, and the same bad input gives the same clear error on every
 * backend instead of a NaN on one and an exception on another.
 *
 * What is checked (each only where it applies):
 *   - labels of a sparse categorical crossentropy are integers in [0, classes);
 *   - the ids reaching an Embedding first layer are integers in [0, inputDim).
 * Data whose values are still being computed on an asynchronous device is not waited for: those
 * checks are skipped (the kernels then give NaN for a bad label or id, as docs/gpu.md says).
 */
import type { Tensor, TypedArray } from '@gradlab/tensor';
import { formatShape } from '@gradlab/tensor';

/** The values of t when they can be read now, else null (pending on an asynchronous device). */
function readable(t: Tensor): TypedArray | null {
  return t.storage.pending ? null : t.dataSync();
}

/** The first value that is not an integer in [0, limit), with its position, or null. */
function firstOutside(values: ArrayLike<number>, limit: number): { value: number; at: number } | null {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(Number.isInteger(v) && v >= 0 && v < limit)) return { value: v, at: i };
  }
  return null;
}

export interface BatchExpectations {
  /** The model's name, for the messages. */
  model: string;
  /** Number of classes when the loss takes integer labels (sparse categorical crossentropy), else null. */
  classes: number | null;
  /** The first layer's vocabulary size and name when it is an Embedding, else null. */
  embedding: { name: string; inputDim: number } | null;
}

/** Throw, naming the model, the argument and the value, when x or y break an expectation above. */
export function checkHostBatch(op: string, x: Tensor, y: Tensor | null, expect: BatchExpectations): void {
  if (expect.embedding !== null) {
    const ids = readable(x);
    const bad = ids && firstOutside(ids, expect.embedding.inputDim);
    if (bad) {
      throw new Error(`${expect.model}: ${op}: x ${formatShape(x.shape)} holds id ${bad.value} at flat position ${bad.at}, ` +
        `outside the vocabulary [0, ${expect.embedding.inputDim}) of ${expect.embedding.name} (Embedding)`);
    }
  }
  if (y !== null && expect.classes !== null) {
    const labels = readable(y);
    const bad = labels && firstOutside(labels, expect.classes);
    if (bad) {
      throw new Error(`${expect.model}: ${op}: label ${bad.value} (at ${bad.at}) of y ${formatShape(y.shape)} is outside the valid range ` +
        `[0, ${expect.classes}) of the model's ${expect.classes} classes (sparse_categorical_crossentropy)`);
    }
  }
}
