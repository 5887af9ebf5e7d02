/**
 * ONNX export against ONNX Runtime (onnxruntime-node, a devDependency only): the file gradlab writes
 * loads in ONNX Runtime and predicts what gradlab predicts, within 1e-4, on the article's three models
 * at full size, built by the examples' own builders (examples/{image,speech,text}/src/model.ts), and on
 * the other layers and settings the exporter maps.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { randn, setSeed, tensor } from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import { exportOnnx, layers, models } from '@gradlab/layers';
import { buildModel as imageModel } from '../examples/image/src/model';
import { buildModel as speechModel } from '../examples/speech/src/model';
import { buildModel as textModel } from '../examples/text/src/model';

jest.setTimeout(120_000);

let dir: string;
beforeAll(async () => { dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gradlab-onnx-')); });
afterAll(async () => { await fs.rm(dir, { recursive: true, force: true }); });

/** ONNX Runtime's prediction for x from the model's ONNX file (in a child process: support/ort-run.cjs), and gradlab's, as flat lists. */
async function bothPredictions(model: models.Sequential, x: Tensor): Promise<{ ours: number[]; theirs: number[] }> {
  const modelFile = path.join(dir, 'model.onnx'), inputFile = path.join(dir, 'input.json');
  await fs.writeFile(modelFile, exportOnnx(model));
  await fs.writeFile(inputFile, JSON.stringify({ dtype: x.dtype === 'int32' ? 'int32' : 'float32', shape: x.shape, values: Array.from(x.dataSync() as ArrayLike<number>) }));
  const result = JSON.parse(execFileSync(process.execPath, [path.join(__dirname, 'support/ort-run.cjs'), modelFile, inputFile], { encoding: 'utf8' }));
  const prediction = await model.predict(x);
  expect(result.dims).toEqual(prediction.shape);
  return { ours: Array.from(prediction.dataSync() as Float32Array), theirs: result.data };
}

const maxDifference = ({ ours, theirs }: { ours: number[]; theirs: number[] }): number => {
  expect(ours.length).toBe(theirs.length);
  return Math.max(...ours.map((v, i) => Math.abs(v - theirs[i])));
};

/** BatchNorm's moving statistics away from 0 and 1, so that the folded inference form is really checked. */
function movedStatistics(model: models.Sequential): models.Sequential {
  model.loadStateDict(new Map([...model.stateDict()].map(([name, t]) => [name, /moving|gamma|beta/.test(name) ? t.add(randn(t.shape).abs().mul(0.4)) : t])));
  return model;
}

/** `length` word ids in 1…19999 (0 is padding), different for each `seed`. */
function review(length: number, seed: number): number[] {
  return Array.from({ length }, (_, i) => 1 + ((i * 7919 + seed * 104729) % 19999));
}

const cases: Array<[string, () => { model: models.Sequential; x: Tensor }]> = [
  // The article's sizes: 64×64×3 images; 40 filterbank bands over 100 frames (1 s); a 20,000-word
  // vocabulary of 300-dimensional vectors over reviews of up to 200 words (examples/text's defaults).
  ['the image model, full size (Conv2D 32 and 64, BatchNorm, MaxPooling2D, Flatten, Dense 128, BatchNorm, Dense 10)', () => ({
    model: movedStatistics(imageModel(64)),
    x: randn([2, 64, 64, 3]),
  })],
  ['the speech model, full size (LSTM 128, BatchNorm, LSTM 64, BatchNorm, Dense 10)', () => ({
    model: movedStatistics(speechModel(40)),
    x: randn([2, 100, 40]),
  })],
  ['the text model, full size (Embedding 20000×300 with maskZero, Bidirectional LSTM 128 and 64, BatchNorm, Dense 1), the second review right-padded', () => ({
    model: movedStatistics(textModel(20000)),
    x: tensor([review(200, 1), [...review(57, 2), ...new Array<number>(143).fill(0)]], { dtype: 'int32' }),
  })],
  ["'same' padding, strides, AveragePooling2D, LayerNormalization, Activation layers", () => ({
    model: new models.Sequential([
      layers.Conv2D(5, [3, 2], { strides: 2, padding: 'same', activation: 'tanh', inputShape: [9, 7, 2] }),
      layers.AveragePooling2D({ poolSize: 2, padding: 'same' }), layers.LayerNormalization(), layers.Activation('softplus'),
      layers.Flatten(), layers.Dense(4), layers.Activation('sigmoid'),
    ]),
    x: randn([2, 9, 7, 2]),
  })],
  ["LSTMs with hardSigmoid gates, goBackwards, and Bidirectional merged by 'sum', 'mul' and 'ave'", () => ({
    model: new models.Sequential([
      layers.LSTM(6, { returnSequences: true, goBackwards: true, recurrentActivation: 'hardSigmoid', inputShape: [null, 3] }),
      layers.Bidirectional(layers.LSTM(4, { returnSequences: true, recurrentActivation: 'hardSigmoid' }), { mergeMode: 'sum' }),
      layers.Bidirectional(layers.LSTM(4, { returnSequences: true }), { mergeMode: 'mul' }),
      layers.Bidirectional(layers.LSTM(3), { mergeMode: 'ave' }), layers.Dense(2),
    ]),
    x: randn([2, 6, 3]).mul(3),
  })],
];

test.each(cases)('ONNX Runtime predicts what gradlab predicts: %s', async (_label, make) => {
  setSeed(11);
  const { model, x } = make();
  expect(maxDifference(await bothPredictions(model, x))).toBeLessThan(1e-4);
});

test('model.exportOnnx(path) writes the same bytes to a file; what cannot be exported is refused naming the layer', async () => {
  setSeed(12);
  const model = new models.Sequential([layers.Dense(3, { activation: 'relu', inputShape: [4] }), layers.Dense(2)]);
  const file = path.join(dir, 'written.onnx');
  const bytes = await model.exportOnnx(file);
  expect(new Uint8Array(await fs.readFile(file))).toEqual(bytes);
  const grouped = new models.Sequential([layers.Dense(4, { inputShape: [6] }), layers.GroupNormalization({ groups: 2 })]);
  expect(() => exportOnnx(grouped)).toThrow(/exportOnnx: layer #1 '.*' \(GroupNormalization\): the exporter has no mapping for GroupNormalization/);
  const masked = new models.Sequential([layers.Embedding(10, 3, { maskZero: true, inputShape: [null] }), layers.LSTM(2, { returnSequences: true })]);
  expect(() => exportOnnx(masked)).toThrow(/layer #1 '.*' \(LSTM\) returns sequences under a mask: Keras repeats the last output at padded steps/);
  const unbuilt = new models.Sequential([layers.Dense(2)]);
  expect(() => exportOnnx(unbuilt)).toThrow(/exportOnnx: model '.*' is not built yet/);
  unbuilt.build([null, 3]); // built without an inputShape on its first layer: the shape it was built for is used
  expect(maxDifference(await bothPredictions(unbuilt, randn([2, 3])))).toBeLessThan(1e-4);
});
