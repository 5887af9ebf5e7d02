/**
 * Callbacks that set the optimizer's learning rate, as Keras's:
 *   LearningRateScheduler: lr ← schedule(epoch, lr) before each epoch (epoch counts from 0);
 *   ReduceLROnPlateau:     lr ← max(lr·factor, minLr) once the monitored value has not improved for
 *                          `patience` epochs, then waits `cooldown` epochs before counting again.
 * Both add the epoch's rate to its logs as `learning_rate` (so History and CSVLogger record it).
 */
import type { Callback, CallbackModel, Logs } from '../callbacks.js';
import { Monitor } from './monitor.js';
import type { MonitorMode } from './monitor.js';

function optimizerOf(owner: string, model: CallbackModel | undefined): { lr: number } {
  if (!model?.optimizer) throw new Error(`${owner}: the model has no optimizer; compile() it before fit()`);
  return model.optimizer;
}

export class LearningRateScheduler implements Callback {
  private model?: CallbackModel;

  /** schedule(epoch, lr): the rate of epoch `epoch` (0-based), given the current one. */
  constructor(private readonly schedule: (epoch: number, lr: number) => number, private readonly verbose = 0) {
    if (typeof schedule !== 'function') throw new Error(`LearningRateScheduler: schedule must be a function (epoch, lr) => lr, got ${String(schedule)}`);
  }

  setModel(model: CallbackModel): void { this.model = model; }

  onEpochBegin(epoch: number): void {
    const optimizer = optimizerOf('LearningRateScheduler', this.model);
    const lr = this.schedule(epoch, optimizer.lr);
    if (!(typeof lr === 'number' && Number.isFinite(lr) && lr > 0)) {
      throw new Error(`LearningRateScheduler: schedule(${epoch}, ${optimizer.lr}) returned ${lr}; it must return a positive finite number`);
    }
    optimizer.lr = lr;
    if (this.verbose > 0) console.log(`Epoch ${epoch + 1}: LearningRateScheduler setting learning rate to ${lr}.`);
  }

  onEpochEnd(_epoch: number, logs: Logs): void { logs.learning_rate = optimizerOf('LearningRateScheduler', this.model).lr; }
}

export interface ReduceLROnPlateauOptions {
  /** Default 'val_loss'. */
  monitor?: string;
  /** The rate is multiplied by this (< 1). Default 0.1. */
  factor?: number;
  /** Epochs without improvement before reducing. Default 10. */
  patience?: number;
  mode?: MonitorMode;
  /** The smallest change that counts as an improvement. Default 1e-4. */
  minDelta?: number;
  /** Epochs to wait after a reduction before counting again. Default 0. */
  cooldown?: number;
  /** The rate never goes below this. Default 0. */
  minLr?: number;
  verbose?: number;
}

export class ReduceLROnPlateau implements Callback {
  readonly factor: number;
  readonly patience: number;
  readonly cooldown: number;
  readonly minLr: number;
  wait = 0;
  best: number;
  private cooldownCounter = 0;
  private model?: CallbackModel;
  private readonly watch: Monitor;
  private readonly verbose: number;

  constructor(options: ReduceLROnPlateauOptions = {}) {
    this.watch = new Monitor('ReduceLROnPlateau', options.monitor ?? 'val_loss', options.mode, options.minDelta ?? 1e-4);
    this.factor = options.factor ?? 0.1;
    if (!(this.factor > 0 && this.factor < 1)) throw new Error(`ReduceLROnPlateau: factor must be in (0, 1), got ${this.factor}`);
    this.patience = options.patience ?? 10;
    this.cooldown = options.cooldown ?? 0;
    this.minLr = options.minLr ?? 0;
    for (const [name, v] of [['patience', this.patience], ['cooldown', this.cooldown]] as const) {
      if (!(Number.isInteger(v) && v >= 0)) throw new Error(`ReduceLROnPlateau: ${name} must be a non-negative integer, got ${v}`);
    }
    if (!(this.minLr >= 0)) throw new Error(`ReduceLROnPlateau: minLr must be >= 0, got ${this.minLr}`);
    this.verbose = options.verbose ?? 0;
    this.best = this.watch.worst;
  }

  setModel(model: CallbackModel): void { this.model = model; }

  onTrainBegin(): void {
    this.wait = 0;
    this.cooldownCounter = 0;
    this.best = this.watch.worst;
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    const optimizer = optimizerOf('ReduceLROnPlateau', this.model);
    logs.learning_rate = optimizer.lr;
    const current = this.watch.read(logs);
    if (current === undefined) return;
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.wait = 0;
    }
    if (this.watch.improves(current, this.best)) {
      this.best = current;
      this.wait = 0;
      return;
    }
    if (this.cooldownCounter > 0) return;
    this.wait++;
    if (this.wait < this.patience || optimizer.lr <= this.minLr) return;
    optimizer.lr = Math.max(optimizer.lr * this.factor, this.minLr);
    if (this.verbose > 0) console.log(`Epoch ${epoch + 1}: ReduceLROnPlateau reducing learning rate to ${optimizer.lr}.`);
    this.cooldownCounter = this.cooldown;
    this.wait = 0;
  }
}
