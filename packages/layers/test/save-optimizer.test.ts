/**
 * The optimizer's state saved with the model (Keras's include_optimizer): train 2 epochs, save, load,
 * train 1 more gives, bit for bit, what 3 epochs straight give; includeOptimizer: false leaves it out;
 * the optimizer section of model.json is checked as the weights are.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { load } from '../src/models/save.js';
import type { Model } from '../src/models/model.js';
import { Adam, AdamW, Optimizer, RMSprop, SGD } from '../src/optimizers/index.js';
import { data, model, readManifest, rewriteManifest, values, weightsPath } from './save-helpers.js';

let dir: string;
beforeEach(async () => { dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gradlab-save-opt-')); });
afterEach(async () => { await fs.rm(dir, { recursive: true, force: true }); });

const { x, y } = data(48);
const FIT = { batchSize: 16, shuffle: false, verbose: 0 } as const;

function compiled(optimizer: Optimizer): Model {
  const m = model(8, 3);
  m.compile({ optimizer, loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  return m;
}

const optimizers: Array<[string, () => Optimizer]> = [
  ['Adam', () => new Adam({ lr: 0.01 })],
  ['AdamW', () => new AdamW({ lr: 0.01, weightDecay: 0.01 })],
  ['RMSprop', () => new RMSprop({ lr: 0.01 })],
  ['SGD with momentum', () => new SGD({ lr: 0.05, momentum: 0.9 })],
];

test.each(optimizers)('%s: 2 epochs, save, load, 1 more epoch = 3 epochs straight, bit for bit', async (_name, make) => {
  const straight = compiled(make());
  const h3 = await straight.fit(x, y, { ...FIT, epochs: 3 });

  const first = compiled(make());
  await first.fit(x, y, { ...FIT, epochs: 2 });
  await first.save(dir);
  const resumed = await load(dir);
  expect(resumed.optimizer!.iterations).toBe(first.optimizer!.iterations);
  const h = await resumed.fit(x, y, { ...FIT, epochs: 1 });

  expect(h.history.loss[0]).toBe(h3.history.loss[2]);
  expect(values(resumed)).toEqual(values(straight));
  expect(resumed.optimizer!.iterations).toBe(straight.optimizer!.iterations);
  const file = await readManifest(dir);
  expect(file.formatVersion).toBe(2);
  expect(file.optimizer!.iterations).toBe(6); // 2 epochs of 3 batches
});

test('includeOptimizer: false saves no optimizer state: the loaded optimizer starts afresh, and the third epoch differs', async () => {
  const straight = compiled(new Adam({ lr: 0.01 }));
  await straight.fit(x, y, { ...FIT, epochs: 3 });
  const first = compiled(new Adam({ lr: 0.01 }));
  await first.fit(x, y, { ...FIT, epochs: 2 });
  await first.save(dir, { includeOptimizer: false });
  const file = await readManifest(dir);
  expect(file.optimizer).toBeUndefined();
  expect((await fs.stat(await weightsPath(dir))).size).toBe(file.weights.entries.reduce((n, e) => n + e.byteLength, 0));
  const loaded = await load(dir);
  expect(loaded.optimizer!.iterations).toBe(0);
  await loaded.fit(x, y, { ...FIT, epochs: 1 });
  expect(values(loaded)).not.toEqual(values(straight));
});

test('save refuses an option it does not know, naming it', async () => {
  const m = compiled(new Adam());
  await expect(m.save(dir, { includeOptimiser: false } as never)).rejects.toThrow("save: unknown option 'includeOptimiser' (known: includeOptimizer)");
  await expect(m.save(dir, { includeOptimizer: 'no' } as never)).rejects.toThrow('save: includeOptimizer must be true or false, got no');
});

describe('a damaged or crafted optimizer section is refused, naming the slot', () => {
  beforeEach(async () => {
    const m = compiled(new Adam({ lr: 0.01 }));
    await m.fit(x, y, { ...FIT, epochs: 1 });
    await m.save(dir);
  });

  test('a flipped byte in a slot fails its checksum', async () => {
    const file = await readManifest(dir);
    const slot = file.optimizer!.slots[1];
    const weights = await fs.readFile(await weightsPath(dir));
    weights[slot.offset] ^= 0xff;
    await fs.writeFile(await weightsPath(dir), weights);
    await expect(load(dir)).rejects.toThrow(`the bytes of optimizer slot '${slot.slot}' of layer #${slot.layerIndex} weight '${slot.weight}' [${slot.shape.join(',')}] fail their checksum`);
  });

  test('sizes are checked before anything is read: a slot beyond the file, a byteLength that does not fit the shape', async () => {
    await rewriteManifest(dir, (f) => { f.optimizer!.slots[0].offset = f.weights.byteLength; });
    await expect(load(dir)).rejects.toThrow(/optimizer slot 'm' of layer #0 weight 'kernel' \[3,8\] lies at bytes \d+–\d+, beyond the \d+ bytes of the weights/);
    await rewriteManifest(dir, (f) => { f.optimizer!.slots[0].shape = [3, 9]; });
    await expect(load(dir)).rejects.toThrow(/optimizer slot 'm' of layer #0 weight 'kernel' \[3,9\] float32 takes 108 bytes, but its byteLength is 96/);
  });

  test('a slot for a weight the model lacks, a slot the optimizer does not keep, a bad step count', async () => {
    const original = await fs.readFile(path.join(dir, 'model.json'), 'utf8');
    await rewriteManifest(dir, (f) => { f.optimizer!.slots[0].weight = 'moving_mean'; });
    await expect(load(dir)).rejects.toThrow(/optimizer slot 'm' of layer #0 weight 'moving_mean' \[3,8\]: the model has no such trainable weight/);
    await fs.writeFile(path.join(dir, 'model.json'), original);
    await rewriteManifest(dir, (f) => { f.optimizer!.slots[0].slot = 'velocity'; });
    await expect(load(dir)).rejects.toThrow(/cannot restore the optimizer's state: Adam: loadState: unknown slot 'velocity' \(Adam keeps m, v\)/);
    await fs.writeFile(path.join(dir, 'model.json'), original);
    await rewriteManifest(dir, (f) => { f.optimizer!.iterations = -1; });
    await expect(load(dir)).rejects.toThrow('optimizer.iterations must be a non-negative integer, got -1');
    await fs.writeFile(path.join(dir, 'model.json'), original);
    await rewriteManifest(dir, (f) => { f.trainingConfig = null; });
    await expect(load(dir)).rejects.toThrow('an optimizer section needs the trainingConfig that rebuilds its optimizer');
  });
});

test('loadWeights reads the weights only, unless { includeOptimizer: true } (what BackupAndRestore resumes with)', async () => {
  const first = compiled(new Adam({ lr: 0.01 }));
  await first.fit(x, y, { ...FIT, epochs: 2 });
  await first.save(dir);
  const weightsOnly = compiled(new Adam({ lr: 0.01 }));
  await weightsOnly.loadWeights(dir);
  expect(values(weightsOnly)).toEqual(values(first));
  expect(weightsOnly.optimizer!.iterations).toBe(0);
  const both = compiled(new Adam({ lr: 0.01 }));
  await both.loadWeights(dir, { includeOptimizer: true });
  expect(both.optimizer!.iterations).toBe(6);
  await both.fit(x, y, { ...FIT, epochs: 1 });
  await first.fit(x, y, { ...FIT, epochs: 1 });
  expect(values(both)).toEqual(values(first));
  await expect(compiled(new RMSprop()).loadWeights(dir, { includeOptimizer: true })).rejects.toThrow(/cannot restore the optimizer's state: RMSprop: loadState: the state is Adam's/);
  await expect(model(8, 3).loadWeights(dir, { includeOptimizer: true })).rejects.toThrow(/loadWeights with includeOptimizer needs a compiled model/);
  await expect(first.loadWeights(dir, { optimizer: true } as never)).rejects.toThrow("loadWeights: unknown option 'optimizer' (known: includeOptimizer)");
});
