/**
 * What fit and evaluate add up over an epoch: each batch's loss, each output's loss (several outputs) and
 * each metric's counts, read back from the device, and the means Keras logs.
 */
import type { Logs } from '../callbacks.js';

/** A metric's count on one batch, read back: correct predictions out of count (for a weighted metric, both weighted by example). */
export interface Count { correct: number; count: number }

/** One batch's numbers, read back: the loss, each output's loss (several outputs only), each metric's counts. */
export interface BatchResult { loss: number; parts: number[]; counts: Count[] }

/**
 * Running sums over an epoch: the loss and each output's loss weighted by batch size (Keras's mean), and
 * each metric's counts, logged under the names given ('dense_loss', 'accuracy' or 'dense_accuracy'). A
 * weighted metric whose weights summed to 0 logs 0, as Keras's divide_no_nan.
 */
export class Totals {
  private loss = 0;
  private n = 0;
  private readonly parts: number[];
  private readonly counts: Count[];
  constructor(private readonly partNames: string[], private readonly metricNames: string[]) {
    this.parts = partNames.map(() => 0);
    this.counts = metricNames.map(() => ({ correct: 0, count: 0 }));
  }
  add({ loss, parts, counts }: BatchResult, size: number): void {
    this.loss += loss * size;
    this.n += size;
    parts.forEach((p, i) => { this.parts[i] += p * size; });
    counts.forEach((c, i) => { this.counts[i].correct += c.correct; this.counts[i].count += c.count; });
  }
  logs(prefix = ''): Logs {
    const logs: Logs = { [`${prefix}loss`]: this.loss / this.n };
    this.partNames.forEach((name, i) => { logs[`${prefix}${name}`] = this.parts[i] / this.n; });
    this.metricNames.forEach((name, i) => { logs[`${prefix}${name}`] = this.counts[i].count === 0 ? 0 : this.counts[i].correct / this.counts[i].count; });
    return logs;
  }
}
