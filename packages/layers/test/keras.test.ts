/**
 * Keras 3's .keras and .weights.h5 files, read through h5wasm. The fixtures (test/fixtures/keras) are
 * small versions of the article's three models written by make_fixtures.py with h5py in the layout
 * Keras 3's saving code writes — not by Keras itself, which cannot be installed here — with predictions
 * computed by NumPy from Keras's equations, independently of gradlab.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { tensor } from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import { layers, loadKerasModel, loadKerasWeights, models } from '../src/index';
import { gradlabLayerConfig } from '../src/formats/keras-config';
import { resetLayerNames } from '../src/layer';

jest.setTimeout(60_000);

const FIXTURES = path.join(__dirname, 'fixtures/keras');
const NAMES = ['image', 'speech', 'text'] as const;
type Name = typeof NAMES[number];
interface Expected { input: unknown; inputShape: number[]; output: number[][] }

let expected: Record<Name, Expected>;
beforeAll(async () => { expected = JSON.parse(await fs.readFile(path.join(FIXTURES, 'expected.json'), 'utf8')); });

const input = (name: Name): Tensor => tensor(expected[name].input as number[], { dtype: name === 'text' ? 'int32' : 'float32' });

async function maxDifferenceFromNumpy(model: models.Sequential, name: Name): Promise<number> {
  const ours = (await model.predict(input(name))).toArray() as number[][];
  expect([ours.length, ours[0].length]).toEqual([expected[name].output.length, expected[name].output[0].length]);
  return Math.max(...ours.flatMap((row, i) => row.map((v, j) => Math.abs(v - expected[name].output[i][j]))));
}

/** The same three models written with gradlab's layers (names chosen by gradlab, not by the file). */
function gradlabModel(name: Name): models.Sequential {
  if (name === 'image') {
    return new models.Sequential([
      layers.Conv2D(4, 3, { activation: 'relu', inputShape: [12, 12, 3] }), layers.BatchNormalization(), layers.MaxPooling2D({ poolSize: 2 }),
      layers.Conv2D(6, 3, { activation: 'relu' }), layers.BatchNormalization(), layers.MaxPooling2D({ poolSize: 2 }),
      layers.Flatten(), layers.Dropout(0.5), layers.Dense(8, { activation: 'relu' }), layers.BatchNormalization(), layers.Dense(10, { activation: 'softmax' }),
    ]);
  }
  if (name === 'speech') {
    return new models.Sequential([
      layers.LSTM(8, { returnSequences: true, inputShape: [null, 4] }), layers.BatchNormalization(), layers.LSTM(6),
      layers.BatchNormalization(), layers.Dense(10, { activation: 'softmax' }),
    ]);
  }
  return new models.Sequential([
    layers.Embedding(20, 6, { maskZero: true, inputShape: [null] }), layers.Bidirectional(layers.LSTM(5, { returnSequences: true })),
    layers.BatchNormalization(), layers.Bidirectional(layers.LSTM(4)), layers.BatchNormalization(), layers.Dense(1, { activation: 'sigmoid' }),
  ]);
}

test.each(NAMES)('loadKerasModel builds the %s model from its .keras file and predicts as NumPy does', async (name) => {
  const model = await loadKerasModel(path.join(FIXTURES, `${name}.keras`));
  expect(model.layers.map((l) => l.className)).toEqual(gradlabModel(name).layers.map((l) => l.className));
  expect(await maxDifferenceFromNumpy(model, name)).toBeLessThan(1e-5);
});

test('a .keras archive with deflated entries reads the same', async () => {
  expect(await maxDifferenceFromNumpy(await loadKerasModel(path.join(FIXTURES, 'speech-deflated.keras')), 'speech')).toBeLessThan(1e-5);
});

test.each(NAMES)('loadKerasWeights fills a gradlab-built %s model from .weights.h5 (a path, bytes, a Blob) and from .keras', async (name) => {
  resetLayerNames();
  layers.Dense(3); // gradlab's layer names now differ from the file's: Keras places weights by class and order, not by name
  const file = path.join(FIXTURES, `${name}.weights.h5`);
  const bytes = await fs.readFile(file);
  for (const source of [file, bytes, new Blob([bytes]), path.join(FIXTURES, `${name}.keras`)]) {
    const model = gradlabModel(name);
    await loadKerasWeights(model, source);
    expect(await maxDifferenceFromNumpy(model, name)).toBeLessThan(1e-5);
  }
});

test('a model that is not built as the saved one, layer for layer, is refused naming the layer and the shapes', async () => {
  const file = path.join(FIXTURES, 'speech.weights.h5');
  const wider = new models.Sequential([
    layers.LSTM(9, { returnSequences: true, inputShape: [null, 4] }), layers.BatchNormalization(), layers.LSTM(6), layers.BatchNormalization(), layers.Dense(10),
  ]);
  await expect(loadKerasWeights(wider, file)).rejects.toThrow(/layers\/lstm\/cell\/vars\/0 is \[4, 32\], layer '.*' \(LSTM\) expects kernel \[4, 36\]/);
  const shorter = new models.Sequential([layers.LSTM(8, { returnSequences: true, inputShape: [null, 4] }), layers.BatchNormalization()]);
  await expect(loadKerasWeights(shorter, file)).rejects.toThrow(/has layers the model has not: layers\/batch_normalization_1, layers\/dense, layers\/lstm_1/);
  const other = new models.Sequential([layers.Conv2D(2, 3, { inputShape: [5, 5, 1] })]);
  await expect(loadKerasWeights(other, file)).rejects.toThrow(/layer '.*' \(Conv2D\) has 2 weights \(kernel, bias\); .* has 0 at layers\/conv2d/);
});

test('files that are not Keras files are refused naming the file and what is wrong', async () => {
  const model = gradlabModel('speech');
  await expect(loadKerasWeights(model, path.join(FIXTURES, 'expected.json'))).rejects.toThrow(/loadKerasWeights: .*expected.json is not an HDF5 file/);
  await expect(loadKerasModel(path.join(FIXTURES, 'speech.weights.h5'))).rejects.toThrow(/is not a .keras archive .*use loadKerasWeights/);
  const archive = new Uint8Array(await fs.readFile(path.join(FIXTURES, 'speech.keras')));
  const damaged = archive.slice();
  damaged[archive.length - 2000] ^= 0xff; // inside model.weights.h5, stored last
  await expect(loadKerasModel(damaged)).rejects.toThrow(/the bytes given\/model.weights.h5: CRC-32 .* differs from the recorded .*; the archive is damaged/);
  await expect(loadKerasModel(archive.slice(0, archive.length - 10))).rejects.toThrow(/the bytes given: not a readable zip archive: no end-of-central-directory record/);
  await expect(loadKerasWeights(model, path.join(FIXTURES, 'missing.weights.h5'))).rejects.toThrow(/cannot read .*missing.weights.h5/);
});

test("Keras 3 settings gradlab cannot run are refused naming the layer and the setting", () => {
  const lstm = (config: Record<string, unknown>) => gradlabLayerConfig({ class_name: 'LSTM', config: { name: 'lstm', units: 4, ...config } }, "layer #0 'lstm' (LSTM)", 'loadKerasModel', 'keras3');
  expect(lstm({}).config.recurrentActivation).toBe('sigmoid'); // Keras 3's default
  expect(() => lstm({ recurrent_activation: 'hard_sigmoid' })).toThrow(/layer #0 'lstm' \(LSTM\) has recurrentActivation 'hard_sigmoid'; Keras 3's hard_sigmoid is relu6\(z \+ 3\)\/6/);
  expect(() => lstm({ dropout: 0.2 })).toThrow(/\(LSTM\) has dropout 0.2; gradlab's LSTM has no input dropout/);
  expect(() => gradlabLayerConfig({ class_name: 'Conv2D', config: { name: 'c', filters: 2, kernel_size: [3, 3], dilation_rate: [2, 2] } }, "layer #1 'c' (Conv2D)", 'loadKerasModel', 'keras3'))
    .toThrow(/layer #1 'c' \(Conv2D\) has dilationRate \[2,2\]; gradlab convolves without dilation/);
  // TF.js's dialect: hard_sigmoid is TF.js's, which gradlab has, and the default when absent
  expect(gradlabLayerConfig({ class_name: 'LSTM', config: { name: 'l', units: 4 } }, 'l', 'fromTfjsArtifacts', 'tfjs').config.recurrentActivation).toBe('hardSigmoid');
});
