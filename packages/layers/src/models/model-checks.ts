/**
 * The checks of Model's arguments and data (model.ts), made where they enter so that a wrong one is
 * refused naming it before any step runs: option objects and batchSize; x and y given as tensors (put in
 * the model's order by fit-inputs.ts, then checked) and their sampleWeight; each y against x; a
 * dataset's batch as it comes; validationData. The values every backend must agree on (labels within
 * the classes, ids within the vocabulary) are check-batch.ts's.
 *
 * Each function takes the model's internals (model-internals.ts): the hooks Sequential and Functional
 * override (checkInputs, dataExpectations, …) are reached through them.
 */
import { Tensor, formatShape } from '@gradlab/tensor';
import { formatSymbolicShape, layerError } from '../layer.js';
import type { Layer } from '../layer.js';
import type { Module } from '../module.js';
import { Dataset } from '../data/dataset.js';
import { isNamed } from '../data/structure.js';
import { checkHostBatch, realRows } from './check-batch.js';
import { examplesOf, range, tensorBatches } from './fit-data.js';
import type { GivenBatch, ModelBatch, ModelX, Ordered } from './fit-data.js';
import { checkSampleWeights, orderedBatch, orderedX, orderedY, weightsPerOutput } from './fit-inputs.js';
import type { ModelInternals } from './model-internals.js';
import type { FitOptions } from './model-options.js';
import { optionProblem } from './options.js';

/** An options object that is not one, or names an option `op` does not know, is refused, naming it (options.ts). */
export function checkOptions(model: Layer, op: string, options: unknown, known: readonly string[]): void {
  const problem = optionProblem(op, options, known);
  if (problem) throw layerError(model, problem);
}

/** batchSize 0 or −1 would never advance through the rows, and 1.5 or NaN would lose some. */
export function checkBatchSize(model: Layer, op: string, batchSize: number): void {
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw layerError(model, `${op}: batchSize must be a positive integer, got ${batchSize}`);
}

/** Shapes, then the values that must hold on every backend (models/check-batch.ts), once where the data enters (Model's checkData). */
export function checkModelData(m: ModelInternals, op: string, x: Ordered, y: Ordered): void {
  if (Array.isArray(y) || m.names().outputs.length > 1) checkTargets(m, op, x, y);
  else checkOneTarget(m, op, x, y);
}

/** x (one tensor or a list, one per input) and the one y of a model with one output. */
function checkOneTarget(m: ModelInternals, op: string, x: Ordered, y: Tensor): void {
  const { model } = m;
  if (Array.isArray(x)) {
    m.checkInputs(op, x);
    x.forEach((t, i) => {
      if (t.rank === 0 || y.rank === 0 || t.shape[0] !== y.shape[0]) {
        throw layerError(model, `${op}: x[${i}] ${formatShape(t.shape)} and y ${formatShape(y.shape)} must have the same number of examples (first axis)`);
      }
    });
    // The vocabulary check looks at the first input only (dataExpectations names the Embedding fed by it).
    checkHostBatch(op, x[0], y, { model: model.name, ...m.dataExpectations(x[0]) });
    return;
  }
  if (!(x instanceof Tensor)) throw layerError(model, `${op}: x must be a Tensor (or, for a model with several inputs, a list of them), got ${String(x)}`);
  if (x.rank === 0 || y.rank === 0 || x.shape[0] !== y.shape[0]) {
    throw layerError(model, `${op}: x ${formatShape(x.shape)} and y ${formatShape(y.shape)} must have the same number of examples (first axis)`);
  }
  checkHostBatch(op, x, y, { model: model.name, ...m.dataExpectations(x) });
}

/**
 * y for a model with several outputs: a list of one tensor per output, each with x's examples, and the
 * labels of a sparse crossentropy within that output's classes.
 */
function checkTargets(m: ModelInternals, op: string, x: Ordered, y: Ordered): void {
  const { model } = m;
  const names = m.names().outputs;
  const shapes = m.outputShapeList();
  const ys = Array.isArray(y) ? y : [y];
  const described = (t: unknown): string => (t instanceof Tensor ? formatShape(t.shape) : String(t));
  const expected = names.map((n, i) => `${n}${shapes ? ` ${formatSymbolicShape(shapes[i])}` : ''}`).join(', ');
  // One output takes y as one tensor: the loop reads a list as several outputs' targets.
  if (names.length === 1) throw layerError(model, `${op}: this model has one output (${expected}), so y is one tensor, not a list of ${ys.length}`);
  if (!Array.isArray(y) || ys.length !== names.length || !ys.every((t) => t instanceof Tensor)) {
    throw layerError(model, `${op}: y must be a list of ${names.length} tensor${names.length === 1 ? '' : 's'}, one per output (${expected}), or an object keyed by their names; ` +
      `got ${Array.isArray(y) ? `a list of ${ys.length}: ${ys.map(described).join(', ')}` : `one tensor ${described(y)}`}`);
  }
  const first = Array.isArray(x) ? x[0] : x;
  checkOneTarget(m, op, x, ys[0]); // x itself, against the first y
  ys.forEach((t, i) => {
    if (t.rank === 0 || t.shape[0] !== first.shape[0]) {
      throw layerError(model, `${op}: y[${i}] (${names[i]}) ${formatShape(t.shape)} must have the ${first.shape[0]} examples of x (first axis)`);
    }
    const head = model.heads?.[i];
    const classes = shapes?.[i][shapes[i].length - 1];
    if (head?.loss.kind === 'sparse_categorical_crossentropy' && typeof classes === 'number') {
      checkHostBatch(`${op} (output ${names[i]})`, first, t, { model: model.name, classes, embedding: null });
    }
  });
}

/**
 * A batch from a dataset, checked as it is produced and before its step: x and y (and mask,
 * sampleWeight) agree on the number of examples, the values checkData checks, and in training that
 * BatchNormalization gets at least two real rows (one example, or a mask of one real step, has no
 * variance to normalise by).
 */
export function checkBatch(m: ModelInternals, op: string, given: GivenBatch, training: boolean): ModelBatch {
  const { model } = m;
  const tensors = (v: unknown): boolean => v instanceof Tensor || (Array.isArray(v) && v.length > 0 && v.every((t) => t instanceof Tensor));
  const batch = given && typeof given === 'object' ? orderedBatch(model, op, given, m.names()) : null;
  if (!batch || !tensors(batch.x)) {
    throw layerError(model, `${op}: a batch must be { x, y, mask?, sampleWeight? } with x a Tensor (a list or an object of them for several inputs); got ${String(given?.x)}`);
  }
  if (!tensors(batch.y)) throw layerError(model, `${op}: the batch has no y (labels) to compute the loss with`);
  m.checkData(op, batch.x, batch.y!);
  // A mask goes to the first input, so it is checked against that one.
  const x = Array.isArray(batch.x) ? batch.x[0] : batch.x;
  const n = x.shape[0];
  if (batch.mask && !(batch.mask.rank === 2 && batch.mask.shape[0] === n && (x.rank < 2 || batch.mask.shape[1] === x.shape[1]))) {
    throw layerError(model, `${op}: mask ${formatShape(batch.mask.shape)} must be [batch, time] of x ${formatShape(x.shape)}`);
  }
  if (batch.sampleWeight) checkSampleWeights(model, op, batch.sampleWeight, n, m.names());
  if (training && hasBatchNorm(model)) {
    const rows = realRows(x, batch.mask);
    if (rows !== null && (n < 2 || rows < 2)) {
      throw layerError(model, `${op}: BatchNormalization needs at least two real rows in a training batch; this batch has ${n} example(s)` +
        (batch.mask ? ` and ${rows} real step(s) in its mask` : '') + ' (batch more examples, or drop such batches)');
    }
  }
  return batch;
}

/** Whether any BatchNormalization is inside the model (at any depth). */
function hasBatchNorm(model: Module): boolean {
  const visit = (m: Module): boolean => (m as Module & { className?: string }).className === 'BatchNormalization' || m.children().some(([, c]) => visit(c));
  return visit(model);
}

/**
 * x and y given as tensors, put in the model's order (fit-inputs.ts) and checked (checkData): y must
 * be there, one tensor, a list or an object keyed by output name.
 */
export function tensorData(m: ModelInternals, op: string, x: ModelX, y: unknown): { x: Ordered; y: Ordered } {
  if (!(y instanceof Tensor || Array.isArray(y) || isNamed(y))) {
    throw layerError(m.model, `${op}: y must be a Tensor (for several outputs a list, or an object keyed by output name) when x is given as tensors (or pass a Dataset), got ${String(y)}`);
  }
  const data = { x: orderedX(m.model, op, x, m.names()), y: orderedY(m.model, op, y, m.names()) };
  m.checkData(op, data.x, data.y);
  return data;
}

/** sampleWeight given with tensors: one tensor per output (fit-inputs.ts), each of one weight per example; undefined when not given. */
export function sampleWeightFor(m: ModelInternals, op: string, given: unknown, n: number): Tensor[] | undefined {
  const weights = weightsPerOutput(m.model, op, given, m.names());
  if (weights) checkSampleWeights(m.model, op, weights, n, m.names());
  return weights;
}

/**
 * validationData as a source of batches: [x, y] or [x, y, sampleWeight] (Keras's tuple; checked now) or a
 * dataset (checked batch by batch).
 */
export function validationBatches(m: ModelInternals, data: NonNullable<FitOptions['validationData']>, batchSize: number): () => AsyncIterable<GivenBatch> | Iterable<GivenBatch> {
  if (data instanceof Dataset) return () => data;
  const tensors = (v: unknown): boolean => v instanceof Tensor || Array.isArray(v) || isNamed(v);
  if (!Array.isArray(data) || !(data.length === 2 || data.length === 3) || !tensors(data[0]) || !tensors(data[1])) {
    throw layerError(m.model, 'fit: validationData must be [x, y] or [x, y, sampleWeight] tensors (for several inputs or outputs, lists or objects keyed by name) ' +
      `or a Dataset, got ${Array.isArray(data) ? `a list of ${data.length}` : String(data)}`);
  }
  const op = 'fit (validationData)';
  const { x, y } = tensorData(m, op, data[0], data[1]);
  const sampleWeight = data.length === 3 ? sampleWeightFor(m, op, data[2], examplesOf(x)) : undefined;
  if (data.length === 3 && !sampleWeight) throw layerError(m.model, `${op}: the third entry, sampleWeight, is undefined; give [x, y] without it`);
  return () => tensorBatches({ x, y, sampleWeight, rows: range(0, examplesOf(x)) }, batchSize);
}
