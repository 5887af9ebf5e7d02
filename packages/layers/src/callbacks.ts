/**
 * Callbacks: code that fit() runs at fixed points of training, as Keras's. A callback is any object with
 * some of the methods below (a plain `{ onEpochEnd(epoch, logs) { … } }` will do); each may be async.
 * `logs` holds the numbers of the moment: { loss, accuracy } after a batch, and after an epoch also
 * { val_loss, val_accuracy } when there is validation data.
 */
import type { Tensor } from '@gradlab/tensor';
import type { Variable } from '@gradlab/autograd';
import type { Module } from './module.js';
import { Monitor } from './callbacks/monitor.js';
import type { MonitorMode } from './callbacks/monitor.js';

export type Logs = Record<string, number>;

/**
 * What a callback may touch: whether to stop, the weights (EarlyStopping's restoreBestWeights), the
 * optimizer's learning rate (LearningRateScheduler), saving (ModelCheckpoint, BackupAndRestore), the
 * epoch to resume at, and the layers and forward pass (BatchNormRecalibration). Sequential has them all.
 */
export interface CallbackModel {
  name?: string;
  stopTraining: boolean;
  stateDict(): Map<string, Tensor>;
  loadStateDict(state: Map<string, Tensor>): void;
  optimizer?: { lr: number };
  save?(dir: string): Promise<void>;
  loadWeights?(dir: string, options?: { includeOptimizer?: boolean }): Promise<void>;
  /** Set in onTrainBegin to make fit start at this epoch (BackupAndRestore). */
  resumeEpoch?: number;
  layers?: readonly Module[];
  call?(x: Variable, options: { training?: boolean; mask?: Tensor | null }): Variable;
}

export interface Callback {
  /** fit() sets this before training starts. */
  setModel?(model: CallbackModel): void;
  onTrainBegin?(logs?: Logs): void | Promise<void>;
  onTrainEnd?(logs?: Logs): void | Promise<void>;
  onEpochBegin?(epoch: number, logs?: Logs): void | Promise<void>;
  /**
   * gradlab's addition: after an epoch's training batches, before its validation (so a callback that
   * changes the model, as BatchNormRecalibration, is what validation measures).
   */
  onEpochTrainEnd?(epoch: number, logs: Logs): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: Logs): void | Promise<void>;
  onBatchBegin?(batch: number, logs?: Logs): void | Promise<void>;
  onBatchEnd?(batch: number, logs: Logs): void | Promise<void>;
}

/** The record fit() returns: `history.loss[e]` is the mean training loss of epoch e, and so on. */
export class History {
  readonly epoch: number[] = [];
  readonly history: Record<string, number[]> = {};
  /** fit's settings, as Keras's History.params: epochs, steps per epoch (null when unknown), verbose. */
  params: { epochs: number; steps: number | null; verbose: number | 'auto' } = { epochs: 0, steps: null, verbose: 'auto' };
  /** The last epoch's logs ({} before any epoch): what onTrainEnd receives. */
  lastLogs(): Logs {
    return Object.fromEntries(Object.entries(this.history).map(([k, v]) => [k, v[v.length - 1]]));
  }
  /** Append one epoch's logs. */
  record(epoch: number, logs: Logs): void {
    this.epoch.push(epoch);
    for (const [key, value] of Object.entries(logs)) (this.history[key] ??= []).push(value);
  }
}

export interface EarlyStoppingOptions {
  /** The log to watch. Default 'val_loss'. */
  monitor?: string;
  /** The smallest change that counts as an improvement. Default 0. */
  minDelta?: number;
  /** Epochs without improvement before stopping. Default 0. */
  patience?: number;
  /** 'min', 'max' or 'auto' (max for names ending in acc/accuracy/auc, else min). Default 'auto'. */
  mode?: MonitorMode;
  /** Stop also if the monitored value does not beat this. */
  baseline?: number;
  /** At the end of training, put back the weights of the best epoch. Default false. */
  restoreBestWeights?: boolean;
  /** Say when and why training stopped. Default 0 (silent). */
  verbose?: number;
}

/**
 * Stop when the monitored value has stopped improving, as Keras 3's EarlyStopping:
 * after each epoch, wait ← wait + 1; if the value improved on the best by more than minDelta, it becomes
 * the best (its weights are kept if restoreBestWeights) and wait ← 0 (if it also beats the baseline);
 * once wait ≥ patience (and not on the first epoch) training stops. With restoreBestWeights, the best
 * epoch's weights are restored when training ends, whether it stopped early or not.
 */
export class EarlyStopping implements Callback {
  readonly monitor: string;
  readonly patience: number;
  readonly minDelta: number;
  readonly mode: 'min' | 'max';
  readonly baseline?: number;
  readonly restoreBestWeights: boolean;
  readonly verbose: number;
  /** Epochs since the last improvement. */
  wait = 0;
  best = Infinity;
  bestEpoch = 0;
  /** The epoch (0-based) at which training was stopped, or 0 if it was not. */
  stoppedEpoch = 0;
  private bestWeights: Map<string, Tensor> | null = null;
  private model?: CallbackModel;
  private readonly watch: Monitor;

  constructor(options: EarlyStoppingOptions = {}) {
    this.watch = new Monitor('EarlyStopping', options.monitor ?? 'val_loss', options.mode, options.minDelta ?? 0);
    this.monitor = this.watch.name;
    this.patience = options.patience ?? 0;
    this.minDelta = this.watch.minDelta;
    this.mode = this.watch.mode;
    this.baseline = options.baseline;
    this.restoreBestWeights = options.restoreBestWeights ?? false;
    this.verbose = options.verbose ?? 0;
  }

  setModel(model: CallbackModel): void { this.model = model; }

  private isImprovement(value: number, reference: number): boolean { return this.watch.improves(value, reference); }

  onTrainBegin(): void {
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.best = this.watch.worst;
    this.bestWeights = null;
    this.bestEpoch = 0;
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    const current = this.watch.read(logs);
    if (current === undefined) return;
    const model = this.requireModel();
    // Tensors are immutable, so keeping the current state dict keeps these weights.
    if (this.restoreBestWeights && this.bestWeights === null) {
      this.bestWeights = model.stateDict();
      this.bestEpoch = epoch;
    }
    this.wait++;
    if (this.isImprovement(current, this.best)) {
      this.best = current;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights) this.bestWeights = model.stateDict();
      if (this.baseline === undefined || this.isImprovement(current, this.baseline)) this.wait = 0;
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      model.stopTraining = true;
    }
  }

  onTrainEnd(): void {
    if (this.stoppedEpoch > 0 && this.verbose > 0) console.log(`Epoch ${this.stoppedEpoch + 1}: early stopping`);
    if (this.restoreBestWeights && this.bestWeights !== null) {
      if (this.verbose > 0) console.log(`Restoring model weights from the end of the best epoch: ${this.bestEpoch + 1}.`);
      this.requireModel().loadStateDict(this.bestWeights);
    }
  }

  private requireModel(): CallbackModel {
    if (!this.model) throw new Error('EarlyStopping: no model (fit() calls setModel before training)');
    return this.model;
  }
}

/**
 * Keras's TerminateOnNaN: stop training at the end of the first batch whose loss is NaN or infinite
 * (a diverging learning rate, or a NaN in the data). The epoch still ends (onEpochEnd, History) with
 * the logs of the batches it ran, as in Keras.
 */
export class TerminateOnNaN implements Callback {
  private model?: CallbackModel;
  setModel(model: CallbackModel): void { this.model = model; }
  onBatchEnd(batch: number, logs: Logs): void {
    const loss = logs.loss;
    if (loss === undefined || Number.isFinite(loss)) return;
    console.log(`Batch ${batch}: Invalid loss, terminating training`);
    if (!this.model) throw new Error('TerminateOnNaN: no model (fit() calls setModel before training)');
    this.model.stopTraining = true;
  }
}

/** A callback from plain functions: `new LambdaCallback({ onEpochEnd: (e, logs) => … })`. */
export class LambdaCallback implements Callback {
  constructor(hooks: Omit<Callback, 'setModel'>) { Object.assign(this, hooks); }
}

export { LearningRateScheduler, ReduceLROnPlateau } from './callbacks/schedules.js';
export type { ReduceLROnPlateauOptions } from './callbacks/schedules.js';
export { ModelCheckpoint, BackupAndRestore, formatCheckpointPath } from './callbacks/checkpoint.js';
export type { ModelCheckpointOptions } from './callbacks/checkpoint.js';
export { CSVLogger } from './callbacks/csv-logger.js';
export { BatchNormRecalibration, recalibrateBatchNorm } from './callbacks/recalibrate.js';
export { Monitor } from './callbacks/monitor.js';
export type { MonitorMode } from './callbacks/monitor.js';
