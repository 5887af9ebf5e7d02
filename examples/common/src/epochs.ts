/**
 * What the examples hand model.fit besides the data: a callback that turns each epoch's logs into an
 * EpochRecord for results/<example>.json (with the wall-clock and CPU seconds of the training pass,
 * validation excluded, and the learning rate), and the step-decay schedule two of them use.
 */
import { callbacks } from 'gradlab';
import type { EpochRecord } from './results.js';

type Logs = Record<string, number>;

/** Records every epoch (1-based in the record) and calls onRecord with it, to save results as the run goes. */
export class EpochRecorder implements callbacks.Callback {
  readonly records: EpochRecord[] = [];
  private started = 0;
  private cpuStart: NodeJS.CpuUsage = process.cpuUsage();
  private seconds = 0;
  private cpuSeconds = 0;
  private optimizer?: { lr: number };

  constructor(private readonly onRecord: (record: EpochRecord, all: readonly EpochRecord[]) => void = () => undefined) {}

  setModel(model: callbacks.CallbackModel): void { this.optimizer = model.optimizer; }

  onEpochBegin(): void {
    this.started = performance.now();
    this.cpuStart = process.cpuUsage();
  }

  onEpochTrainEnd(): void {
    this.seconds = (performance.now() - this.started) / 1000;
    const cpu = process.cpuUsage(this.cpuStart);
    this.cpuSeconds = (cpu.user + cpu.system) / 1e6;
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    const record: EpochRecord = {
      epoch: epoch + 1, loss: logs.loss, accuracy: logs.accuracy, seconds: this.seconds, cpuSeconds: this.cpuSeconds,
      learningRate: logs.learning_rate ?? this.optimizer?.lr,
    };
    if (logs.val_loss !== undefined) record.valLoss = logs.val_loss;
    if (logs.val_accuracy !== undefined) record.valAccuracy = logs.val_accuracy;
    this.records.push(record);
    this.onRecord(record, this.records);
  }
}

/**
 * Step decay for LearningRateScheduler: lr in the first epoch, multiplied by `decay` after each one,
 * lr·decay^epoch (epoch counts from 0, as Keras's). decay 1 keeps it constant.
 */
export function stepDecay(lr: number, decay: number): (epoch: number) => number {
  if (!(lr > 0) || !(decay > 0 && decay <= 1)) {
    throw new Error(`stepDecay: expected lr > 0 and 0 < decay <= 1, got lr ${lr}, decay ${decay}`);
  }
  return (epoch) => lr * decay ** epoch;
}
