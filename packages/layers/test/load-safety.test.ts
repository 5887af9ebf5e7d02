/**
 * A model folder may come from someone else: load reads only regular files inside it, and checks
 * sizes and dtypes against the topology before it allocates or reads the weights.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { load, MODEL_FILE } from '../src/models/save.js';
import { model, values, readManifest, weightsPath, rewriteManifest } from './save-helpers.js';

let root: string;
let dir: string;
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'gradlab-load-'));
  dir = path.join(root, 'model');
  await model(8, 1).save(dir);
});
afterEach(async () => { await fs.rm(root, { recursive: true, force: true }); });

test('weights.file may not reach outside the folder: ../ and absolute paths are refused', async () => {
  await fs.mkdir(path.join(root, 'elsewhere'));
  await fs.copyFile(await weightsPath(dir), path.join(root, 'elsewhere', 'weights.bin'));
  for (const outside of ['../elsewhere/weights.bin', path.join(root, 'elsewhere', 'weights.bin'), '..', 'sub\\..\\x.bin']) {
    await rewriteManifest(dir, (f) => { f.weights.file = outside; });
    await expect(load(dir)).rejects.toThrow(/models\.load: .*model\.json: weights\.file must be a plain file name inside the model's folder/);
  }
});

test('a weights file that is a link to outside the folder is refused', async () => {
  const weights = await weightsPath(dir);
  await fs.rename(weights, path.join(root, 'outside.bin'));
  await fs.symlink(path.join(root, 'outside.bin'), weights);
  await expect(load(dir)).rejects.toThrow(/models\.load: cannot read .*weights-.*\.bin: it is a link to .*outside\.bin, outside the model's folder/);
});

test('a named pipe in place of a file is refused at once instead of waiting for a writer', async () => {
  const weights = await weightsPath(dir);
  await fs.rm(weights);
  execFileSync('mkfifo', [weights]);
  await expect(load(dir)).rejects.toThrow(/models\.load: .*weights-.*\.bin is not a regular file \(a pipe, socket or device\)/);
  await fs.rm(path.join(dir, MODEL_FILE));
  execFileSync('mkfifo', [path.join(dir, MODEL_FILE)]);
  await expect(load(dir)).rejects.toThrow(/models\.load: .*model\.json is not a regular file/);
});

test.each([1e8, 1e12])('Dense units %d in model.json fails fast with a named error, before the memory is taken', async (units) => {
  await rewriteManifest(dir, (f) => { (f.model.config.layers as Array<{ config: { units: number } }>)[0].config.units = units; });
  const before = process.memoryUsage().rss;
  const error = await load(dir).then(() => null, (e: Error) => e);
  expect(error?.constructor).toBe(Error); // not a RangeError from a typed array
  expect(error?.message).toMatch(/^models\.load: building the model of .*model\.json: refusing to allocate \d+ float32 elements \(\d+ bytes\): beyond the limit of \d+ bytes/);
  expect(process.memoryUsage().rss - before).toBeLessThan(100 * 2 ** 20);
});

test('a dtype changed in the manifest is refused: int32 (same bytes) against the layer, float64 against the byte length', async () => {
  await rewriteManifest(dir, (f) => { f.weights.entries[0].dtype = 'int32'; });
  await expect(load(dir)).rejects.toThrow(/models\.load: .* does not fit model '.*': layer '.*' \(Dense\) weight 'kernel' \[3,8\] is int32 in the file, but layer '.*' holds float32/);
  await rewriteManifest(dir, (f) => { f.weights.entries[0].dtype = 'float64'; });
  await expect(load(dir)).rejects.toThrow(/models\.load: .*model\.json: layer '.*' \(Dense\) weight 'kernel' \[3,8\] float64 takes 192 bytes, but its byteLength is 96/);
});

test('an edit that still parses (an epsilon) fails the checksum; with the checksum deleted the edited file loads', async () => {
  const original = values(await load(dir));
  const text = await fs.readFile(path.join(dir, MODEL_FILE), 'utf8');
  const edited = text.replace('"epsilon": 0.001', '"epsilon": 0.5');
  expect(edited).not.toBe(text);
  await fs.writeFile(path.join(dir, MODEL_FILE), edited);
  await expect(load(dir)).rejects.toThrow(/models\.load: .*model\.json: the content does not match its checksum/);
  const manifest = await readManifest(dir);
  delete manifest.checksum;
  await fs.writeFile(path.join(dir, MODEL_FILE), JSON.stringify(manifest));
  const loaded = await load(dir);
  expect((loaded.layers[1] as unknown as { epsilon: number }).epsilon).toBe(0.5);
  expect(values(loaded)).toEqual(original);
});
