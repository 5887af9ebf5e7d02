import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Layer, layers } from '@gradlab/layers';
import { Sequential } from '../src/models/sequential.js';
import { load, crc32, MODEL_FILE } from '../src/models/save.js';
import { data, model, values, readManifest, weightsPath } from './save-helpers.js';
import { Adam } from '../src/optimizers/index.js';

let dir: string;
beforeEach(async () => { dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gradlab-save-')); });
afterEach(async () => { await fs.rm(dir, { recursive: true, force: true }); });

test('round trip: the loaded model predicts exactly what the saved one did, and is compiled again', async () => {
  const { x, y } = data(64);
  const original = model();
  original.compile({ optimizer: new Adam({ lr: 0.01 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  await original.fit(x, y, { epochs: 2, verbose: 0 }); // moves weights and BatchNorm's moving statistics
  await original.save(dir);
  const files = (await fs.readdir(dir)).sort();
  expect(files).toEqual([MODEL_FILE, path.basename(await weightsPath(dir))]); // no temporary files left
  expect(files[1]).toMatch(/^weights-[0-9a-z]+\.bin$/);

  const loaded = await load(dir);
  expect(loaded).toBeInstanceOf(Sequential);
  expect(loaded.layers.map((l) => l.name)).toEqual(original.layers.map((l) => l.name));
  expect(values(loaded)).toEqual(values(original));
  expect(Array.from((await loaded.predict(x)).dataSync())).toEqual(Array.from((await original.predict(x)).dataSync()));
  expect(loaded.summary({ printFn: () => undefined })).toBe(original.summary({ printFn: () => undefined }));
  expect(loaded.optimizer).toBeInstanceOf(Adam);
  expect(loaded.optimizer!.lr).toBe(0.01);
  expect(await loaded.evaluate(x, y)).toEqual(await original.evaluate(x, y));
  await loaded.fit(x, y, { epochs: 1, verbose: 0 }); // and it trains
});

test('the manifest lists every weight with shape, dtype, offset, length and checksum', async () => {
  const m = model(4);
  await m.save(dir);
  const file = await readManifest(dir);
  const bytes = await fs.readFile(await weightsPath(dir));
  // Dense 3→4: kernel [3,4], bias [4]; BatchNorm(4): gamma, beta, movingMean, movingVariance; Dense 4→2
  expect(file.weights.entries.map((e) => [e.layerIndex, e.name, e.shape])).toEqual([
    [0, 'kernel', [3, 4]], [0, 'bias', [4]],
    [1, 'gamma', [4]], [1, 'beta', [4]], [1, 'movingMean', [4]], [1, 'movingVariance', [4]],
    [2, 'kernel', [4, 2]], [2, 'bias', [2]],
  ]);
  const total = (12 + 4 + 16 + 8 + 2) * 4;
  expect(file.weights.byteLength).toBe(total);
  expect(bytes.byteLength).toBe(total);
  let offset = 0;
  for (const e of file.weights.entries) {
    expect(e.offset).toBe(offset);
    expect(e.dtype).toBe('float32');
    expect(e.crc32).toBe(crc32(bytes.subarray(e.offset, e.offset + e.byteLength)));
    offset += e.byteLength;
  }
  expect(file.model.config.layers).toHaveLength(3);
});

test('crc32 is the standard CRC-32 ("123456789" → 0xCBF43926)', () => {
  expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
});

test('a truncated weights file is refused, naming the layer and shape whose bytes are missing; nothing is loaded', async () => {
  await model().save(dir);
  const file = await weightsPath(dir);
  const bytes = await fs.readFile(file);
  // 3·8 + 8 + 4·8 + 8·2 + 2 = 82 floats = 328 bytes; the last Dense's bias [2] takes bytes 320–328
  await fs.writeFile(file, bytes.subarray(0, bytes.byteLength - 4));
  await expect(load(dir)).rejects.toThrow(/has 324 bytes but model.json describes 328 \(truncated\); layer 'dense_\d+' \(Dense\) weight 'bias' \[2\] needs bytes 320–328/);
  const target = model(8, 99);
  const before = values(target);
  await expect(target.loadWeights(dir)).rejects.toThrow(/truncated/);
  expect(values(target)).toEqual(before);
});

test('a damaged byte fails the checksum of the weight it belongs to', async () => {
  await model().save(dir);
  const file = await weightsPath(dir);
  const bytes = await fs.readFile(file);
  bytes[(24 + 8) * 4 + 1] ^= 0xff; // inside BatchNorm's gamma (after the first kernel [3,8] and bias [8])
  await fs.writeFile(file, bytes);
  await expect(load(dir)).rejects.toThrow(/weight 'gamma' \[8\] fail their checksum/);
});

test('weights.bin from another save of the same architecture is caught by the checksums', async () => {
  const other = path.join(dir, 'other');
  await model(8, 1).save(dir);
  await model(8, 2).save(other);
  await fs.copyFile(await weightsPath(other), await weightsPath(dir));
  await expect(load(dir)).rejects.toThrow(/does not match model.json.*comes from another save/);
});

test('weights from another model: the error names the layer and both shapes, and the model is untouched', async () => {
  await model(8).save(dir);
  const wrong = model(5);
  const before = values(wrong);
  await expect(wrong.loadWeights(dir)).rejects.toThrow(/layer '(dense_\d+|dense)' \(Dense\) weight 'kernel' \[3,8\] in the file, but layer '.*' \(Dense\) expects \[3,5\]/);
  expect(values(wrong)).toEqual(before);
  const shorter = new Sequential([layers.Dense(2, { inputShape: [3] })]);
  await expect(shorter.loadWeights(dir)).rejects.toThrow(/the file holds 3 layers \(Dense, BatchNormalization, Dense\), the model 1 \(Dense\)/);
});

test('weights load by position, so a rebuilt model with other automatic names accepts them', async () => {
  const a = model(6, 3);
  await a.save(dir);
  const b = model(6, 4); // same architecture, built later: dense_7 instead of dense_5, different initial weights
  expect(b.layers[0].name).not.toBe(a.layers[0].name);
  await b.loadWeights(dir);
  expect(values(b)).toEqual(values(a));
});

test('missing files and foreign files give clear errors', async () => {
  await expect(load(path.join(dir, 'nothing-here'))).rejects.toThrow(/cannot read .*nothing-here.*model\.json/);
  await model().save(dir);
  await fs.rm(await weightsPath(dir));
  await expect(load(dir)).rejects.toThrow(/cannot read .*weights-[0-9a-z]+\.bin/);
  await fs.writeFile(path.join(dir, MODEL_FILE), '{"model": ');
  await expect(load(dir)).rejects.toThrow(/model\.json is not valid JSON/);
  await fs.writeFile(path.join(dir, MODEL_FILE), '{"hello": 1}');
  await expect(load(dir)).rejects.toThrow(/not a gradlab model file/);
});

test('an unregistered layer class, and saving an unbuilt model, are explained', async () => {
  class Mystery extends Layer { call(x: never): never { return x; } }
  const m = new Sequential([new Mystery({ inputShape: [3] })]);
  await m.save(dir);
  await expect(load(dir)).rejects.toThrow(/unknown layer class 'Mystery'.*registerLayer/);
  await expect(new Sequential([layers.Dense(2)]).save(dir)).rejects.toThrow(/not built yet/);
});

test('saving over an existing model replaces both files', async () => {
  await model(8, 1).save(dir);
  const second = model(8, 2);
  await second.save(dir);
  expect(values(await load(dir))).toEqual(values(second));
});

test('every layer kind saves and loads back exactly (the load builds them within its memory budget)', async () => {
  const images = new Sequential([
    layers.Conv2D(4, 3, { inputShape: [8, 8, 2], activation: 'relu' }),
    layers.GroupNormalization({ groups: 2 }),
    layers.MaxPooling2D(),
    layers.AveragePooling2D({ poolSize: 1 }),
    layers.Flatten(),
    layers.Dropout(0.2),
    layers.Dense(3),
    layers.Activation('softmax'),
  ]);
  const sequences = new Sequential([
    layers.Embedding(20, 6, { inputShape: [5], maskZero: true }),
    layers.Bidirectional(layers.LSTM(4, { returnSequences: true })),
    layers.LayerNormalization(),
    layers.LSTM(3),
    layers.Dense(1, { activation: 'sigmoid' }),
  ]);
  for (const original of [images, sequences]) {
    await original.save(dir);
    const loaded = await load(dir);
    expect(loaded.layers.map((l) => l.className)).toEqual(original.layers.map((l) => l.className));
    expect(values(loaded)).toEqual(values(original));
  }
});
