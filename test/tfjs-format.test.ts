/**
 * TF.js's Layers format against TensorFlow.js 4.22 itself (bench/models's devDependency; no gradlab
 * package depends on it): models gradlab exports are loaded by tf.loadLayersModel and predict what
 * gradlab predicts, and a model TF.js saved loads into gradlab and predicts what TF.js predicts.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { randn, setSeed, tensor } from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import { layers, models, toTfjsArtifacts, fromTfjsArtifacts } from '@gradlab/layers';
import type { TfjsArtifacts } from '@gradlab/layers';

jest.setTimeout(120_000);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Tf = any;
const tf: Tf = createRequire(path.join(__dirname, '../bench/models/package.json'))('@tensorflow/tfjs');

const maxDifference = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  return Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
};

/** The article's three models, small. */
function gradlabModels(): Array<{ name: string; model: models.Sequential; x: Tensor }> {
  setSeed(5);
  const image = new models.Sequential([
    layers.Conv2D(4, 3, { activation: 'relu', inputShape: [8, 8, 3] }), layers.BatchNormalization(), layers.MaxPooling2D({ poolSize: 2 }),
    layers.Flatten(), layers.Dropout(0.5), layers.Dense(10, { activation: 'softmax' }),
  ]);
  const speech = new models.Sequential([
    layers.LSTM(8, { returnSequences: true, inputShape: [null, 5] }), layers.BatchNormalization(), layers.LSTM(6),
    layers.BatchNormalization(), layers.Dense(10, { activation: 'softmax' }),
  ]);
  const text = new models.Sequential([layers.Embedding(20, 4, { inputShape: [7] }), layers.LSTM(5), layers.Dense(1, { activation: 'sigmoid' })]);
  // Moving statistics away from 0 and 1, so that inference-mode BatchNorm is really checked.
  for (const m of [image, speech]) {
    m.loadStateDict(new Map([...m.stateDict()].map(([name, t]) => [name, /moving/.test(name) ? t.add(randn(t.shape).abs().mul(0.3)) : t])));
  }
  return [
    { name: 'image', model: image, x: randn([3, 8, 8, 3]) },
    { name: 'speech', model: speech, x: randn([3, 4, 5]) },
    { name: 'text', model: text, x: tensor([[1, 2, 3, 4, 5, 6, 7], [19, 0, 3, 3, 8, 1, 2]], { dtype: 'int32' }) },
  ];
}

test('tf.loadLayersModel loads what gradlab exports, and predicts the same on the three article models', async () => {
  for (const { name, model, x } of gradlabModels()) {
    const artifacts = await toTfjsArtifacts(model);
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    const theirs = loaded.predict(tf.tensor(x.toArray(), x.shape, x.dtype)).dataSync();
    const ours = (await model.predict(x)).dataSync();
    expect({ name, difference: maxDifference(ours, theirs) < 1e-5 }).toEqual({ name, difference: true });
  }
});

test('a speech model saved by TF.js loads into gradlab and predicts the same; hardSigmoid is refused naming the layer', async () => {
  const build = (recurrentActivation: string) => {
    const m = tf.sequential();
    m.add(tf.layers.lstm({ units: 8, returnSequences: true, inputShape: [null, 5], recurrentActivation }));
    m.add(tf.layers.batchNormalization());
    m.add(tf.layers.lstm({ units: 6, recurrentActivation }));
    m.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
    return m;
  };
  const saveOf = async (m: Tf): Promise<TfjsArtifacts> => {
    let saved: TfjsArtifacts | undefined;
    await m.save(tf.io.withSaveHandler(async (a: TfjsArtifacts) => { saved = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }; }));
    return saved!;
  };
  const theirs = build('sigmoid');
  const ours = fromTfjsArtifacts(await saveOf(theirs));
  const x = randn([2, 3, 5]);
  const expected = theirs.predict(tf.tensor(x.toArray(), x.shape)).dataSync();
  expect(maxDifference((await ours.predict(x)).dataSync(), expected)).toBeLessThan(1e-5);
  const hard = await saveOf(build('hardSigmoid'));
  expect(() => fromTfjsArtifacts(hard)).toThrow(/layer #0 '.*' \(LSTM\) has recurrentActivation 'hard_sigmoid'|recurrentActivation 'hardSigmoid'/);
});
