/**
 * ONNX export against ONNX Runtime (onnxruntime-node, a devDependency only): the file gradlab writes
 * loads in ONNX Runtime and predicts what gradlab predicts, within 1e-4, on the article's three models
 * (small) and on the other layers and settings the exporter maps.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { randn, setSeed, tensor } from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import { exportOnnx, layers, models } from '@gradlab/layers';

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

const cases: Array<[string, () => { model: models.Sequential; x: Tensor }]> = [
  ['image (Conv2D, BatchNorm, MaxPooling2D, Flatten, Dropout, Dense)', () => ({
    model: movedStatistics(new models.Sequential([
      layers.Conv2D(4, 3, { activation: 'relu', inputShape: [12, 12, 3] }), layers.BatchNormalization(), layers.MaxPooling2D({ poolSize: 2 }),
      layers.Conv2D(6, 3, { activation: 'relu' }), layers.BatchNormalization(), layers.MaxPooling2D({ poolSize: 2 }),
      layers.Flatten(), layers.Dropout(0.5), layers.Dense(8, { activation: 'relu' }), layers.BatchNormalization(), layers.Dense(10, { activation: 'softmax' }),
    ])),
    x: randn([3, 12, 12, 3]),
  })],
  ['speech (LSTM, BatchNorm, LSTM, BatchNorm, Dense)', () => ({
    model: movedStatistics(new models.Sequential([
      layers.LSTM(8, { returnSequences: true, inputShape: [null, 5] }), layers.BatchNormalization(), layers.LSTM(6),
      layers.BatchNormalization(), layers.Dense(10, { activation: 'softmax' }),
    ])),
    x: randn([3, 7, 5]),
  })],
  ['text (Embedding with maskZero, Bidirectional LSTMs, BatchNorm, Dense), rows right-padded', () => ({
    model: movedStatistics(new models.Sequential([
      layers.Embedding(20, 6, { maskZero: true, inputShape: [null] }), layers.Bidirectional(layers.LSTM(5, { returnSequences: true })),
      layers.BatchNormalization(), layers.Bidirectional(layers.LSTM(4)), layers.BatchNormalization(), layers.Dense(1, { activation: 'sigmoid' }),
    ])),
    x: tensor([[3, 17, 5, 9, 12, 1, 4], [8, 2, 19, 11, 0, 0, 0], [7, 0, 0, 0, 0, 0, 0]], { dtype: 'int32' }),
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
