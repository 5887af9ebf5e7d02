/**
 * results/<example>.json: everything needed to reproduce and judge a run — the settings, the data sizes,
 * one record per epoch (training and validation loss and accuracy, seconds), the test accuracy and the
 * machine. docs/examples.md's table is generated from these files (see make-docs.ts), never typed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface EpochRecord {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  /** Wall-clock seconds of the training pass (validation excluded). */
  seconds: number;
  /**
   * CPU seconds this process spent in the training pass. On a machine shared with other work the wall
   * clock stretches while this does not: it is what the same epoch would take on an idle machine.
   */
  cpuSeconds?: number;
  /** The optimizer's learning rate during the epoch. */
  learningRate?: number;
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  node: string;
  backend: string;
}

export interface RunResults {
  example: string;
  /** What was trained and on what, in one line for the docs table. */
  description: string;
  settings: Record<string, unknown>;
  data: Record<string, unknown>;
  model: { params: number; trainable: number; nonTrainable: number };
  epochs: EpochRecord[];
  test: { loss: number; accuracy: number; examples: number };
  /** The accuracy the example must reach at its default settings, and whether this run did. */
  target: { accuracy: number; reached: boolean };
  secondsPerEpoch: number;
  /** Mean CPU seconds per epoch (see EpochRecord.cpuSeconds). */
  cpuSecondsPerEpoch?: number;
  totalSeconds: number;
  machine: Machine;
  date: string;
}

export function describeMachine(backend: string): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    // The cores this process may use (containers often allow fewer than the host has).
    cores: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    backend,
  };
}

/** Mean seconds per epoch over the recorded epochs. */
export const meanEpochSeconds = (epochs: readonly EpochRecord[]): number =>
  epochs.length === 0 ? 0 : epochs.reduce((s, e) => s + e.seconds, 0) / epochs.length;

/** Mean CPU seconds per epoch, when recorded. */
export const meanEpochCpuSeconds = (epochs: readonly EpochRecord[]): number =>
  epochs.length === 0 ? 0 : epochs.reduce((s, e) => s + (e.cpuSeconds ?? e.seconds), 0) / epochs.length;

export function writeResults(file: string, results: RunResults): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
}

/**
 * Write a run's results and learning curves into `out` as <name>.json and <name>.svg. While training
 * (final = false) they go to <name>.partial.json / .svg, which the docs table ignores, so that a run
 * that is stopped half-way never passes for a finished one; the final write removes the partial files.
 */
export function saveRun(out: string, name: string, results: RunResults, svg: string, final: boolean): string {
  const base = path.join(out, final ? name : `${name}.partial`);
  writeResults(`${base}.json`, results);
  fs.writeFileSync(`${base}.svg`, svg);
  if (final) for (const ext of ['json', 'svg']) fs.rmSync(path.join(out, `${name}.partial.${ext}`), { force: true });
  return `${base}.json`;
}

export function readResults(file: string): RunResults {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as RunResults;
}
