/**
 * The one place where gradlab's layers package reads values: the data a model is given, checked once
 * on the host where it enters (fit, evaluate, trainOnBatch), before any batch is cut from it. Everything
 * after this point composes backend ops and never reads a value back, so a step can run on a device
 * (synchronously or not) without stalls, and the same bad input gives the same clear error on every
 * backend instead of a NaN on one and an exception on another.
 *
 * What is checked (each only where it applies):
 *   - labels of a sparse categorical crossentropy are integers in [0, classes);
 *   - the ids reaching an Embedding first layer are integers in [0, inputDim);
 *   - sample weights are finite numbers (a NaN weight would turn the loss into NaN without a word).
 * Data whose values are still being computed on an asynchronous device is not waited for: those
 * checks are skipped (the kernels then give NaN for a bad label or id, as docs/gpu.md says).
 */
import type { Tensor, TypedArray } from '@gradlab/tensor';
import { formatShape, fromTypedArray } from '@gradlab/tensor';

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

/** The first value of t that is not a finite number, with its position; null when there is none or t is still pending. */
export function firstNonFinite(t: Tensor): { value: number; at: number } | null {
  const values = readable(t);
  if (values === null) return null;
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return { value: values[i], at: i };
  return null;
}

/** How many real rows a batch holds: the ones of its mask, else its first axis. Null while pending. */
export function realRows(x: Tensor, mask: Tensor | undefined): number | null {
  if (!mask) return x.shape[0];
  const values = readable(mask);
  if (values === null) return null;
  let n = 0;
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) n++;
  return n;
}

/** The class of each row of y: the label itself ([B] or [B, 1]), or the index of the largest value (one-hot [B, C]). */
function classesOf(y: TypedArray, shape: readonly number[]): number[] {
  const rows = shape[0];
  const width = y.length / Math.max(1, rows);
  return Array.from({ length: rows }, (_, r) => {
    if (width === 1) return Math.round(y[r]);
    let best = 0;
    for (let c = 1; c < width; c++) if (y[r * width + c] > y[r * width + best]) best = c;
    return best;
  });
}

/**
 * Each example's weight in the loss, Keras's way: sampleWeight (default 1) times classWeight of its
 * class. Null when neither is given (the plain mean). Reads y on the host (the labels are host data).
 */
export function exampleWeights(
  op: string, y: Tensor, sampleWeight: Tensor | undefined, classWeight: Record<number, number> | undefined,
): Tensor | null {
  if (!sampleWeight && !classWeight) return null;
  const rows = y.shape[0];
  if (sampleWeight && !(sampleWeight.rank === 1 && sampleWeight.shape[0] === rows)) {
    throw new Error(`${op}: sampleWeight ${formatShape(sampleWeight.shape)} must hold one weight per example, [${rows}]`);
  }
  const hostValues = (t: Tensor, name: string): TypedArray => {
    const values = readable(t);
    if (values === null) throw new Error(`${op}: ${name} is still being computed on the device; weights need host values (make the batch's tensors on the host)`);
    return values;
  };
  const weights = sampleWeight ? Float32Array.from(hostValues(sampleWeight, 'sampleWeight')) : new Float32Array(rows).fill(1);
  if (classWeight) {
    classesOf(hostValues(y, 'y (for classWeight)'), y.shape).forEach((c, r) => {
      const w = classWeight[c];
      if (w === undefined) throw new Error(`${op}: classWeight has no weight for class ${c} (at row ${r}); give one for every class`);
      weights[r] *= w;
    });
  }
  return fromTypedArray(weights, [rows]);
}
