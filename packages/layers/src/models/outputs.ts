/**
 * compile() for a model with several outputs (a functional model made with outputs: [y1, y2]), as Keras:
 * each output gets its own loss, weight and metrics, and training minimises Σ weightᵢ · lossᵢ.
 *
 *   model.compile({ optimizer: 'adam', loss: ['mse', 'sparse_categorical_crossentropy'], lossWeights: [1, 0.5],
 *                   metrics: { class_out: ['accuracy'] } });
 *
 * loss, lossWeights and metrics may each be a list (one entry per output, in the outputs' order) or an
 * object keyed by output name (the name of the layer that made the output); a single loss or one list of
 * metrics applies to every output; weightedMetrics (Keras's weighted_metrics, weighted by sampleWeight) take
 * the same forms as metrics. The logs are named as Keras names them: 'loss' (the weighted sum),
 * '<output>_loss' for each output, '<output>_<metric>' for each metric (metricLogNames).
 */
import { getLoss } from '../losses.js';
import type { Loss, LossSpec } from '../losses.js';
import { getMetric } from '../metrics.js';
import type { Metric } from '../metrics.js';

/** One output's part of the compiled training: its name, loss, weight in the total, metrics and weighted metrics (by sampleWeight). */
export interface OutputHead { name: string; loss: Loss; weight: number; metrics: Metric[]; weightedMetrics: Metric[] }

/** Per-output settings: one value for all, a list in the outputs' order, or an object keyed by output name. */
export type PerOutput<T> = T | T[] | Record<string, T>;

/** The value of `given` for each output, checked: a list must have one entry per output, an object only known names. */
function perOutput<T>(what: string, given: PerOutput<T> | undefined, names: string[], isOne: (v: unknown) => boolean, fallback: T): T[] {
  if (given === undefined) return names.map(() => fallback);
  if (isOne(given)) return names.map(() => given as T);
  if (Array.isArray(given)) {
    if (given.length !== names.length) {
      throw new Error(`compile: ${what} lists ${given.length} entr${given.length === 1 ? 'y' : 'ies'} for the model's ${names.length} outputs (${names.join(', ')})`);
    }
    return given as T[];
  }
  if (typeof given !== 'object' || given === null) throw new Error(`compile: ${what} must be a list or an object keyed by output name, got ${String(given)}`);
  const record = given as Record<string, T>;
  const unknown = Object.keys(record).filter((k) => !names.includes(k));
  if (unknown.length) throw new Error(`compile: ${what} names ${unknown.map((k) => `'${k}'`).join(', ')}, not an output of the model (outputs: ${names.join(', ')})`);
  return names.map((n) => (Object.prototype.hasOwnProperty.call(record, n) ? record[n] : fallback));
}

const isLossSpec = (v: unknown): boolean => typeof v === 'string' || typeof v === 'function' || (typeof v === 'object' && v !== null && 'call' in v);

/** The heads of a model whose outputs are named `names`, from compile()'s loss, lossWeights, metrics and weightedMetrics. */
export function compileHeads(
  names: string[], loss: PerOutput<LossSpec>, lossWeights: PerOutput<number> | undefined, metrics: PerOutput<string[]> | undefined,
  weightedMetrics?: PerOutput<string[]>,
): OutputHead[] {
  const losses = perOutput<LossSpec>('loss', loss, names, isLossSpec, null as unknown as LossSpec);
  const missing = names.filter((_, i) => losses[i] === null);
  if (missing.length) throw new Error(`compile: no loss for output${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (loss must give one per output)`);
  const weights = perOutput<number>('lossWeights', lossWeights, names, (v) => typeof v === 'number', 1);
  weights.forEach((w, i) => {
    if (!(typeof w === 'number' && Number.isFinite(w) && w >= 0)) throw new Error(`compile: lossWeights of output ${names[i]} must be a finite number ≥ 0, got ${String(w)}`);
  });
  // One plain list of names (['accuracy']) is for every output, as Keras 2; a list of lists is per output.
  const allSame = (v: unknown): boolean => Array.isArray(v) && v.every((m) => typeof m === 'string');
  const lists = perOutput<string[]>('metrics', metrics, names, allSame, []);
  const weightedLists = perOutput<string[]>('weightedMetrics', weightedMetrics, names, allSame, []);
  return names.map((name, i) => ({
    name, loss: getLoss(losses[i]), weight: weights[i],
    metrics: (lists[i] ?? []).map((m) => getMetric(m)), weightedMetrics: (weightedLists[i] ?? []).map((m) => getMetric(m)),
  }));
}

/**
 * The metrics' names in the logs, as Keras 3 names them: each output's plain metrics, then each output's
 * weighted ones, '<output>_<metric>' (the bare name for a model with one output, prefix ''). A weighted
 * metric whose name is already taken by a plain one is logged as '<output>_weighted_<metric>'
 * (metrics: ['accuracy'], weightedMetrics: ['accuracy'] log 'accuracy' and 'weighted_accuracy').
 */
export function metricLogNames(outputs: Array<{ prefix: string; metrics: Metric[]; weightedMetrics: Metric[] }>): string[] {
  const names = outputs.flatMap(({ prefix, metrics }) => metrics.map((m) => `${prefix}${m.name}`));
  const taken = new Set(names);
  for (const { prefix, weightedMetrics } of outputs) {
    for (const m of weightedMetrics) {
      let name = taken.has(`${prefix}${m.name}`) ? `${prefix}weighted_${m.name}` : `${prefix}${m.name}`;
      for (let k = 1; taken.has(name); k++) name = `${prefix}weighted_${m.name}_${k}`; // Keras numbers a repeat
      taken.add(name);
      names.push(name);
    }
  }
  return names;
}
