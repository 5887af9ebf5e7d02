/**
 * An optimizer's state on disk, beside a BackupAndRestore backup: optimizer.json (class, step count,
 * and for each slot its parameter, name, shape, dtype and byte range) and optimizer.bin (the slots'
 * values back to back, little-endian). Written into the backup's own folder before backup.json names
 * that folder, so a backup is complete or not used at all.
 */
import { fromTypedArray } from '@gradlab/tensor';
import type { DType } from '@gradlab/tensor';
import type { OptimizerState } from '../optimizers/optimizer.js';
import { nodeFiles } from './node-files.js';

const JSON_FILE = 'optimizer.json';
const BIN_FILE = 'optimizer.bin';

interface SlotEntry { param: number; name: string; shape: number[]; dtype: DType; offset: number; byteLength: number }

export async function writeOptimizerState(dir: string, state: OptimizerState): Promise<void> {
  const { fs, path } = await nodeFiles();
  const entries: SlotEntry[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const { param, name, value } of state.slots) {
    const data = value.contiguous().dataSync();
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    entries.push({ param, name, shape: [...value.shape], dtype: value.dtype, offset, byteLength: bytes.byteLength });
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  const all = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) { all.set(c, at); at += c.byteLength; }
  await fs.writeFile(path.join(dir, BIN_FILE), all);
  await fs.writeFile(path.join(dir, JSON_FILE), JSON.stringify({ className: state.className, iterations: state.iterations, slots: entries }));
}

/** The state written by writeOptimizerState, or null when the folder has none. */
export async function readOptimizerState(dir: string): Promise<OptimizerState | null> {
  const { fs, path } = await nodeFiles();
  let text: string;
  try { text = await fs.readFile(path.join(dir, JSON_FILE), 'utf8'); } catch { return null; }
  const file = JSON.parse(text) as { className: string; iterations: number; slots: SlotEntry[] };
  const bin = await fs.readFile(path.join(dir, BIN_FILE));
  const slots = file.slots.map((e) => {
    const size = e.shape.reduce((a, b) => a * b, 1);
    const Ctor = e.dtype === 'float64' ? Float64Array : e.dtype === 'int32' ? Int32Array : Float32Array;
    if (e.byteLength !== size * Ctor.BYTES_PER_ELEMENT || e.offset + e.byteLength > bin.byteLength) {
      throw new Error(`BackupAndRestore: ${path.join(dir, JSON_FILE)}: slot '${e.name}' of parameter ${e.param} does not fit ${BIN_FILE}`);
    }
    const copy = new Uint8Array(bin.subarray(e.offset, e.offset + e.byteLength)); // aligned
    return { param: e.param, name: e.name, value: fromTypedArray(new Ctor(copy.buffer), e.shape) };
  });
  return { className: file.className, iterations: file.iterations, slots };
}
