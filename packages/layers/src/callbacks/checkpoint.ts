/**
 * Callbacks that write the model to disk, through model.save (atomic: a save killed at any moment
 * leaves the folder's previous model loadable; see models/files.ts).
 *
 *   ModelCheckpoint:  after each epoch (or only when the monitored value improved, saveBestOnly), save
 *                     to a folder named by a template: 'ckpt/epoch-{epoch:02d}-{val_loss:.3f}'.
 *   BackupAndRestore: keep the last finished epoch in backupDir; a run that was interrupted (killed,
 *                     crashed) and is started again with the same callback resumes after that epoch with
 *                     its weights and its optimizer's state (Adam's moments and step count), both in
 *                     the saved model (model.save keeps the optimizer's state). The backup is removed
 *                     when training completes (deleteCheckpoint).
 */
import type { Callback, CallbackModel, Logs } from '../callbacks.js';
import { Monitor } from './monitor.js';
import type { MonitorMode } from './monitor.js';
import { nodeFiles } from './node-files.js';

/**
 * A path from Keras's template: {epoch} is the 1-based epoch, {name} a log value; a Python format spec
 * may follow the name: {epoch:02d} pads with zeros, {val_loss:.4f} fixes the decimals.
 */
export function formatCheckpointPath(template: string, epoch: number, logs: Logs): string {
  return template.replace(/\{([A-Za-z_][A-Za-z0-9_]*)(?::(0?)(\d*)(?:\.(\d+))?([dfe]?))?\}/g, (whole, name: string, zero: string, width: string, decimals: string, kind: string) => {
    const value = name === 'epoch' ? epoch + 1 : logs[name];
    if (value === undefined) {
      throw new Error(`ModelCheckpoint: the path template '${template}' names '${name}', which is not in the logs (available: epoch, ${Object.keys(logs).join(', ')})`);
    }
    let text = kind === 'e' ? value.toExponential(decimals ? Number(decimals) : 6)
      : decimals !== undefined || kind === 'f' ? value.toFixed(decimals ? Number(decimals) : 6)
        : String(kind === 'd' ? Math.round(value) : value);
    if (width) text = text.padStart(Number(width), zero ? '0' : ' ');
    return text;
  });
}

function saver(owner: string, model: CallbackModel | undefined): (dir: string) => Promise<void> {
  if (!model?.save) throw new Error(`${owner}: the model cannot be saved (no save method)`);
  return (dir) => model.save!(dir);
}

export interface ModelCheckpointOptions {
  /** Default 'val_loss'. */
  monitor?: string;
  /** Save only when the monitored value improved on the best so far. Default false. */
  saveBestOnly?: boolean;
  mode?: MonitorMode;
  /** With saveBestOnly: the value the first save must beat. */
  initialValueThreshold?: number;
  verbose?: number;
}

export class ModelCheckpoint implements Callback {
  readonly saveBestOnly: boolean;
  best: number;
  /** The folders saved so far, in order. */
  readonly saved: string[] = [];
  private model?: CallbackModel;
  private readonly watch: Monitor;
  private readonly verbose: number;

  constructor(readonly filepath: string, options: ModelCheckpointOptions = {}) {
    if (typeof filepath !== 'string' || filepath === '') throw new Error(`ModelCheckpoint: filepath must be a folder path (template), got ${String(filepath)}`);
    this.watch = new Monitor('ModelCheckpoint', options.monitor ?? 'val_loss', options.mode);
    this.saveBestOnly = options.saveBestOnly ?? false;
    this.best = options.initialValueThreshold ?? this.watch.worst;
    this.verbose = options.verbose ?? 0;
  }

  setModel(model: CallbackModel): void { this.model = model; }

  async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    const save = saver('ModelCheckpoint', this.model);
    const dir = formatCheckpointPath(this.filepath, epoch, logs);
    if (this.saveBestOnly) {
      const current = this.watch.read(logs);
      if (current === undefined || !this.watch.improves(current, this.best)) {
        if (this.verbose > 0 && current !== undefined) console.log(`Epoch ${epoch + 1}: ${this.watch.name} did not improve from ${this.best}`);
        return;
      }
      if (this.verbose > 0) console.log(`Epoch ${epoch + 1}: ${this.watch.name} improved from ${this.best} to ${current}, saving model to ${dir}`);
      this.best = current;
    } else if (this.verbose > 0) console.log(`Epoch ${epoch + 1}: saving model to ${dir}`);
    await save(dir);
    this.saved.push(dir);
  }
}

/** BackupAndRestore's record of the last finished epoch, and the folder holding its weights. */
interface BackupState { epoch: number; folder: string }
const STATE_FILE = 'backup.json';

export class BackupAndRestore implements Callback {
  private model?: CallbackModel;

  constructor(readonly backupDir: string, private readonly options: { deleteCheckpoint?: boolean } = {}) {
    if (typeof backupDir !== 'string' || backupDir === '') throw new Error(`BackupAndRestore: backupDir must be a folder path, got ${String(backupDir)}`);
  }

  setModel(model: CallbackModel): void { this.model = model; }

  private async readState(): Promise<BackupState | null> {
    const { fs, path } = await nodeFiles();
    let text: string;
    try { text = await fs.readFile(path.join(this.backupDir, STATE_FILE), 'utf8'); } catch { return null; }
    const state = JSON.parse(text) as BackupState;
    if (!(Number.isInteger(state.epoch) && state.epoch >= 0 && /^epoch-\d+$/.test(state.folder))) {
      throw new Error(`BackupAndRestore: ${path.join(this.backupDir, STATE_FILE)} is not a backup record: ${text.slice(0, 200)}`);
    }
    return state;
  }

  /** Resume: put back the weights and optimizer state of the last finished epoch, and start after it. */
  async onTrainBegin(): Promise<void> {
    const { path } = await nodeFiles();
    const model = this.model;
    if (!model?.loadWeights) throw new Error('BackupAndRestore: the model cannot load weights (no loadWeights method)');
    saver('BackupAndRestore', model);
    const state = await this.readState();
    if (!state) return;
    const folder = path.join(this.backupDir, state.folder);
    await model.loadWeights(folder, { includeOptimizer: true });
    model.resumeEpoch = state.epoch + 1;
  }

  /**
   * Save the epoch into a folder of its own, then point backup.json at it (written beside and renamed
   * over, so it names a complete folder at every moment), then remove the folder before it.
   */
  async onEpochEnd(epoch: number): Promise<void> {
    const { fs, path } = await nodeFiles();
    const folder = `epoch-${epoch}`;
    await saver('BackupAndRestore', this.model)(path.join(this.backupDir, folder)); // the weights and the optimizer's state
    const previous = await this.readState();
    const temporary = path.join(this.backupDir, `${STATE_FILE}.tmp-${process.pid}`);
    await fs.writeFile(temporary, JSON.stringify({ epoch, folder } satisfies BackupState));
    await fs.rename(temporary, path.join(this.backupDir, STATE_FILE));
    if (previous && previous.folder !== folder) await fs.rm(path.join(this.backupDir, previous.folder), { recursive: true, force: true });
  }

  /** Training completed: the backup is no longer needed (unless deleteCheckpoint is false). */
  async onTrainEnd(): Promise<void> {
    const { fs } = await nodeFiles();
    if (this.options.deleteCheckpoint ?? true) await fs.rm(this.backupDir, { recursive: true, force: true });
  }
}
