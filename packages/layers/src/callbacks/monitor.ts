/**
 * The value a callback watches (EarlyStopping, ReduceLROnPlateau, ModelCheckpoint): its name in the
 * logs, whether lower or higher is better, and what counts as an improvement, as Keras decides it.
 */
import type { Logs } from '../callbacks.js';

export type MonitorMode = 'auto' | 'min' | 'max';

export class Monitor {
  readonly mode: 'min' | 'max';
  readonly minDelta: number;
  private warned = false;

  /** mode 'auto': max for names ending in acc, accuracy or auc, else min (Keras). */
  constructor(private readonly owner: string, readonly name: string, mode: MonitorMode = 'auto', minDelta = 0) {
    if (typeof name !== 'string' || name === '') throw new Error(`${owner}: monitor must be a log name such as 'val_loss', got ${String(name)}`);
    if (!['auto', 'min', 'max'].includes(mode)) throw new Error(`${owner}: mode must be 'auto', 'min' or 'max', got ${String(mode)}`);
    if (!Number.isFinite(minDelta)) throw new Error(`${owner}: minDelta must be a finite number, got ${minDelta}`);
    this.mode = mode === 'auto' ? (/(acc|accuracy|auc)$/.test(name) ? 'max' : 'min') : mode;
    this.minDelta = Math.abs(minDelta);
  }

  /** The starting "best": anything improves on it. */
  get worst(): number { return this.mode === 'min' ? Infinity : -Infinity; }

  /** Whether `value` beats `reference` by more than minDelta in the direction of the mode. */
  improves(value: number, reference: number): boolean {
    return this.mode === 'min' ? value + this.minDelta < reference : value - this.minDelta > reference;
  }

  /** The watched value, or undefined (with one warning) when the logs lack it. */
  read(logs: Logs): number | undefined {
    const value = logs[this.name];
    if (value === undefined && !this.warned) {
      this.warned = true;
      console.warn(`${this.owner}: monitor '${this.name}' is not in the logs (available: ${Object.keys(logs).join(', ')}); ` +
        'pass validation data to watch a val_ metric');
    }
    return value;
  }
}
