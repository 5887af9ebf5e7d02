/**
 * x, y and sampleWeight as fit, evaluate, predict and trainOnBatch are given them (tensors or a
 * dataset's batches), put in the model's order before anything else looks at them. Keras takes each as
 * one tensor, a list (in the order of the model's inputs or outputs) or a dict keyed by name: x by the
 * Input layers' names, y and sampleWeight by the output layers' names (the names the logs use,
 * `<output>_loss`):
 *
 *   model.fit({ ids, features }, { reg: value, cls: label }, { sampleWeight: { reg: w1, cls: w2 } })
 *
 * A key the model does not have is refused, naming it and the names expected, rather than passed over:
 * a misspelt name would be data silently unused. sampleWeight follows Keras 3: one
 * tensor weighs every output alike; a list or an object gives each output its own. classWeight, as in
 * Keras, is for a model with one output only.
 */
import { Tensor, formatShape } from '@gradlab/tensor';
import { layerError } from '../layer.js';
import type { Layer } from '../layer.js';
import { isNamed } from '../data/structure.js';
import { exampleWeights, firstNonFinite } from './check-batch.js';
import type { GivenBatch, ModelBatch, Ordered } from './fit-data.js';

/** The model's inputs' names (null for a model whose inputs are not named: Sequential, a subclassed model) and outputs' names. */
export interface ModelNames { inputs: string[] | null; outputs: string[] }

const quoted = (names: string[]): string => names.map((n) => `'${n}'`).join(', ');

/** An object's values in the order of `names`: a key not among them, or a name without a key, is refused, naming both. */
function byName(model: Layer, op: string, what: string, given: Record<string, unknown>, names: string[], kind: 'input' | 'output'): unknown[] {
  const expected = `the model's ${kind}s: ${names.join(', ')}`;
  const unknown = Object.keys(given).filter((k) => !names.includes(k));
  if (unknown.length) throw layerError(model, `${op}: ${what} names ${quoted(unknown)}, not ${kind === 'input' ? 'an input' : 'an output'} of the model (${expected})`);
  const missing = names.filter((n) => !Object.prototype.hasOwnProperty.call(given, n));
  if (missing.length) throw layerError(model, `${op}: ${what} has no ${quoted(missing)} (${expected})`);
  return names.map((n) => given[n]);
}

/**
 * x or y given by name: every tensor has the same number of examples, checked here so that the message
 * names them (once ordered, the model's own checks could only say x[1]).
 */
function sameExamples(model: Layer, op: string, what: string, names: string[], values: unknown[]): void {
  const first = values.findIndex((v) => v instanceof Tensor && v.rank > 0);
  if (first < 0) return;
  const ref = values[first] as Tensor;
  values.forEach((v, i) => {
    if (v instanceof Tensor && (v.rank === 0 || v.shape[0] !== ref.shape[0])) {
      throw layerError(model, `${op}: ${what}.${names[i]} ${formatShape(v.shape)} and ${what}.${names[first]} ${formatShape(ref.shape)} must have the same number of examples (first axis)`);
    }
  });
}

/** x in the order of the model's inputs: as given when it is a tensor or a list (the model's checks look at it next). */
export function orderedX(model: Layer, op: string, x: unknown, names: ModelNames): Ordered {
  if (!isNamed(x)) return x as Ordered;
  if (names.inputs === null) {
    throw layerError(model, `${op}: x is keyed by name (${quoted(Object.keys(x))}), but only a functional model's inputs have names (its Input layers'); give this model x as a tensor`);
  }
  const list = byName(model, op, 'x', x, names.inputs, 'input') as Tensor[];
  sameExamples(model, op, 'x', names.inputs, list);
  return list.length === 1 ? list[0] : list; // a one-input model takes one tensor, as Keras unpacks its one key
}

/** y in the order of the model's outputs. */
export function orderedY(model: Layer, op: string, y: unknown, names: ModelNames): Ordered {
  if (!isNamed(y)) return y as Ordered;
  const list = byName(model, op, 'y', y, names.outputs, 'output') as Tensor[];
  sameExamples(model, op, 'y', names.outputs, list);
  return list.length === 1 ? list[0] : list;
}

/** One sampleWeight per output, as Keras 3: one tensor for every output, or a list or an object, one per output. */
export function weightsPerOutput(model: Layer, op: string, w: unknown, names: ModelNames): Tensor[] | undefined {
  if (w === undefined) return undefined;
  const n = names.outputs.length;
  const list = isNamed(w) ? byName(model, op, 'sampleWeight', w, names.outputs, 'output') : Array.isArray(w) ? w : names.outputs.map(() => w);
  if (list.length !== n) {
    throw layerError(model, `${op}: sampleWeight is a list of ${list.length} for the model's ${n} output${n === 1 ? '' : 's'} (${names.outputs.join(', ')}); ` +
      'give one tensor for every output, or one per output');
  }
  return list as Tensor[];
}

/**
 * Each output's sampleWeight holds one finite weight per example: [n]. Negative weights pass, as in Keras
 * and PyTorch (they push that example's loss up).
 */
export function checkSampleWeights(model: Layer, op: string, weights: Tensor[], n: number, names: ModelNames): void {
  weights.forEach((w, i) => {
    const which = weights.length > 1 ? `sampleWeight of output ${names.outputs[i]}` : 'sampleWeight';
    if (!(w instanceof Tensor) || w.rank !== 1 || w.shape[0] !== n) {
      throw layerError(model, `${op}: ${which} ${w instanceof Tensor ? formatShape(w.shape) : String(w)} must hold one weight per example, [${n}]`);
    }
    const bad = firstNonFinite(w);
    if (bad) throw layerError(model, `${op}: ${which} ${formatShape(w.shape)} holds ${bad.value} at row ${bad.at}; weights must be finite numbers (0 leaves an example out)`);
  });
}

/** classWeight reads the class from one y: Keras refuses it for several outputs, and so does gradlab, with Keras's rule in the message. */
export function checkClassWeight(model: Layer, op: string, classWeight: unknown, names: ModelNames): void {
  if (classWeight === undefined || names.outputs.length === 1) return;
  throw layerError(model, `${op}: classWeight is only supported for models with a single output (Keras's rule: "class_weight is only supported for ` +
    `Models with a single output"); this model has ${names.outputs.length} (${names.outputs.join(', ')}). Weigh each output's examples with ` +
    'sampleWeight (a list, or an object keyed by output name) instead');
}

/** A dataset's batch with x, y and sampleWeight in the model's order. */
export function orderedBatch(model: Layer, op: string, batch: GivenBatch, names: ModelNames): ModelBatch {
  const ordered: ModelBatch = { x: orderedX(model, op, batch.x, names) };
  if (batch.y !== undefined) ordered.y = orderedY(model, op, batch.y, names);
  if (batch.mask !== undefined) ordered.mask = batch.mask;
  if (batch.sampleWeight !== undefined) ordered.sampleWeight = weightsPerOutput(model, op, batch.sampleWeight, names);
  return ordered;
}

/**
 * Each output's example weights in a batch's loss (sampleWeight times classWeight, check-batch.ts), or
 * null when neither is given (the plain mean).
 */
export function batchWeights(op: string, batch: ModelBatch, classWeight: Record<number, number> | undefined): Array<Tensor | null> | null {
  if (!batch.sampleWeight && !classWeight) return null;
  const ys = Array.isArray(batch.y) ? batch.y : [batch.y!];
  return ys.map((y, i) => exampleWeights(op, y, batch.sampleWeight?.[i], classWeight));
}
