/**
 * What save() writes about compile() (model.json's trainingConfig), so that load() can compile the model
 * again: the loss and metrics by name, or with several outputs each output's loss, weight and metrics,
 * and the optimizer's class and settings. A loss given to compile as a function has no name, so such a
 * model saves no training config (load gives it back uncompiled).
 */
import type { LossName, Loss } from '../losses.js';
import { lossFromName } from '../losses.js';
import { lookup } from '../lookup.js';
import type { Metric } from '../metrics.js';
import { Adam, AdamW, Optimizer, RMSprop, SGD } from '../optimizers/index.js';
import type { CompileArgs } from './model-options.js';
import type { OutputHead } from './outputs.js';

export interface TrainingConfig {
  /** The loss (with several outputs: the first output's, and `outputs` holds them all). */
  loss: { name: LossName; fromLogits: boolean };
  metrics: string[];
  /** compile's weightedMetrics (written only when there are some: files without them load as before). */
  weightedMetrics?: string[];
  /** Several outputs: each one's name, loss, weight, metrics and weighted metrics. */
  outputs?: Array<{ name: string; loss: { name: LossName; fromLogits: boolean }; weight: number; metrics: string[]; weightedMetrics?: string[] }>;
  optimizer: { className: string; config: Record<string, unknown> };
}

const OPTIMIZERS: Record<string, new (options: Record<string, unknown>) => Optimizer> = { SGD, Adam, AdamW, RMSprop };

/** What a compiled model holds: one output's loss and metrics, or each output's head (outputs.ts). */
interface Compiled { loss?: Loss; metrics: Metric[]; weightedMetrics: Metric[]; heads: OutputHead[] | null; optimizer?: Optimizer }

/** { weightedMetrics: names } when there are some, else nothing. */
const weightedNames = (metrics: Metric[]): { weightedMetrics?: string[] } => (metrics.length ? { weightedMetrics: metrics.map((m) => m.name) } : {});

/** The compile() arguments of `model` as JSON, or null when they cannot be saved (not compiled, or a loss given as a function). */
export function trainingConfigOf(model: Compiled): TrainingConfig | null {
  const { optimizer } = model;
  if (!optimizer) return null;
  const saved = { className: optimizer.className, config: optimizer.getConfig() };
  if (model.heads) {
    const outputs: NonNullable<TrainingConfig['outputs']> = [];
    for (const h of model.heads) {
      if (h.loss.kind === null) return null;
      outputs.push({
        name: h.name, loss: { name: h.loss.kind, fromLogits: h.loss.fromLogits }, weight: h.weight, metrics: h.metrics.map((m) => m.name), ...weightedNames(h.weightedMetrics),
      });
    }
    return { loss: outputs[0].loss, metrics: [], outputs, optimizer: saved };
  }
  if (!model.loss || model.loss.kind === null) return null;
  return { loss: { name: model.loss.kind, fromLogits: model.loss.fromLogits }, metrics: model.metrics.map((m) => m.name), ...weightedNames(model.weightedMetrics), optimizer: saved };
}

/**
 * compile()'s arguments from a training config read from a file: the optimizer's class is looked up
 * among the known ones and each output's entry is checked for its form (compile() then checks the names
 * against the model's outputs). `error` makes the error, naming the model.
 */
export function compileArgsFrom(config: TrainingConfig, error: (message: string) => Error): CompileArgs {
  const Ctor = lookup(OPTIMIZERS, config.optimizer.className);
  if (!Ctor) throw error(`cannot restore optimizer '${config.optimizer.className}' (known: ${Object.keys(OPTIMIZERS).join(', ')})`);
  const optimizer = new Ctor(config.optimizer.config);
  const names = (v: unknown): boolean => Array.isArray(v) && v.every((m) => typeof m === 'string');
  if (config.outputs === undefined) {
    if (config.weightedMetrics !== undefined && !names(config.weightedMetrics)) throw error(`trainingConfig.weightedMetrics must list metric names, got ${JSON.stringify(config.weightedMetrics)}`);
    return { optimizer, loss: lossFromName(config.loss.name, config.loss), metrics: config.metrics, weightedMetrics: config.weightedMetrics };
  }
  const outputs: unknown = config.outputs;
  const valid = (o: Record<string, unknown>): boolean => typeof o?.name === 'string' && typeof (o.loss as { name?: unknown })?.name === 'string' &&
    typeof o.weight === 'number' && names(o.metrics) && (o.weightedMetrics === undefined || names(o.weightedMetrics));
  if (!Array.isArray(outputs) || !outputs.every(valid)) {
    throw error(`trainingConfig.outputs must list { name, loss: { name, fromLogits }, weight, metrics, weightedMetrics? } per output, got ${JSON.stringify(outputs)}`);
  }
  const byName = <T>(pick: (o: NonNullable<TrainingConfig['outputs']>[number]) => T): Record<string, T> =>
    Object.fromEntries(config.outputs!.map((o) => [o.name, pick(o)]));
  return {
    optimizer, loss: byName((o) => lossFromName(o.loss.name, o.loss)), lossWeights: byName((o) => o.weight), metrics: byName((o) => o.metrics),
    weightedMetrics: byName((o) => o.weightedMetrics ?? []),
  };
}
