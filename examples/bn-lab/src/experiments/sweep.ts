/**
 * What experiments 2 and 3 share: train the same ReLU network with and without BN at each value of a
 * setting (learning rate, initial weight scale), record final test accuracy, the training loss at the
 * end and whether (and when) the loss diverged.
 */
import { optimizers } from 'gradlab';
import type { LabContext } from '../lab.js';
import { pct, num } from '../lab.js';
import { BatchStream } from '../mnist.js';
import { mlp } from '../nets.js';
import type { NetSpec } from '../nets.js';
import { accuracy, tailMean, trainFor } from '../train.js';

export interface SweepPoint {
  value: number;
  accuracy: number;
  /** Mean training loss over the last 50 steps (or up to divergence). */
  finalLoss: number;
  firstLoss: number;
  divergedAt: number | null;
}

export type SweepResults = Record<'none' | 'batch', SweepPoint[]>;

/** Train one network per (value, with/without BN). `specFor` and `lrFor` set what the sweep varies. */
export function sweep(
  ctx: LabContext,
  values: readonly number[],
  trainSteps: number,
  specFor: (value: number, norm: 'none' | 'batch') => NetSpec,
  lrFor: (value: number) => number,
  label: string,
): SweepResults {
  const results: SweepResults = { none: [], batch: [] };
  for (const value of values) {
    for (const norm of ['none', 'batch'] as const) {
      const model = mlp(specFor(value, norm));
      const log = trainFor(model, new optimizers.SGD({ lr: lrFor(value) }), new BatchStream(ctx.train, 60, ctx.seed), { steps: trainSteps });
      const acc = log.divergedAt === null ? accuracy(model, ctx.test) : NaN;
      const point: SweepPoint = { value, accuracy: acc, finalLoss: tailMean(log.losses, 50), firstLoss: log.losses[0], divergedAt: log.divergedAt };
      results[norm].push(point);
      ctx.log(`  ${label} ${num(value)} ${norm === 'batch' ? 'with BN' : 'without BN'}: ` +
        `${log.divergedAt === null ? `test accuracy ${pct(acc)}, final loss ${num(point.finalLoss)}` : `diverged at step ${log.divergedAt}`}`);
    }
  }
  return results;
}

/** Accuracy counting a diverged run as chance (10%). */
export const scored = (p: SweepPoint): number => (p.divergedAt === null ? p.accuracy : 0.1);

/** The values at which a run "learns": test accuracy at least `threshold`. */
export const learningValues = (points: readonly SweepPoint[], threshold: number): number[] =>
  points.filter((p) => p.divergedAt === null && p.accuracy >= threshold).map((p) => p.value);

/** "0.01 to 3" or "none". */
export function rangeText(values: readonly number[]): string {
  if (values.length === 0) return 'no value';
  return values.length === 1 ? num(values[0]) : `${num(Math.min(...values))} to ${num(Math.max(...values))}`;
}
