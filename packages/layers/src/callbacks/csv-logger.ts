/**
 * Keras's CSVLogger: one row per epoch, `epoch` (0-based) then the logs' names in sorted order, written
 * as each epoch ends, so a run that is stopped keeps what it did.
 */
import type { Callback, Logs } from '../callbacks.js';
import { nodeFiles } from './node-files.js';

export class CSVLogger implements Callback {
  private columns: string[] | null = null;

  constructor(readonly filename: string, private readonly options: { separator?: string; append?: boolean } = {}) {
    if (typeof filename !== 'string' || filename === '') throw new Error(`CSVLogger: filename must be a file path, got ${String(filename)}`);
  }

  async onTrainBegin(): Promise<void> {
    const { fs } = await nodeFiles();
    this.columns = null;
    if (this.options.append) {
      // Appending to a file that has a header: keep its columns.
      const old = await fs.readFile(this.filename, 'utf8').catch(() => '');
      const header = old.split('\n')[0];
      if (header) this.columns = header.split(this.options.separator ?? ',').slice(1);
    } else await fs.writeFile(this.filename, '');
  }

  async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    const { fs } = await nodeFiles();
    const sep = this.options.separator ?? ',';
    let text = '';
    if (this.columns === null) {
      this.columns = Object.keys(logs).sort();
      text += ['epoch', ...this.columns].join(sep) + '\n';
    }
    text += [String(epoch), ...this.columns.map((k) => (logs[k] === undefined ? 'NA' : String(logs[k])))].join(sep) + '\n';
    await fs.appendFile(this.filename, text);
  }
}
