/**
 * TF.js's Layers format against TensorFlow.js 4.22 itself (bench/models's devDependency; no gradlab
 * package depends on it): models gradlab exports are loaded by tf.loadLayersModel and predict what
 * gradlab predicts, and a model TF.js saved loads into gradlab and predicts what TF.js predicts.
 */
import { randn, setSeed, tensor } from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import { layers, models, toTfjsArtifacts, fromTfjsArtifacts, LSTM } from '@gradlab/layers';
import { tf, maxDifference, saveOf } from './support/tfjs-oracle';

jest.setTimeout(120_000);

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

test('a speech model saved by TF.js loads into gradlab and predicts the same, with sigmoid and with hardSigmoid (TF.js\'s default) gates', async () => {
  const build = (recurrentActivation: string | undefined) => {
    const m = tf.sequential();
    const gates = recurrentActivation === undefined ? {} : { recurrentActivation };
    m.add(tf.layers.lstm({ units: 8, returnSequences: true, inputShape: [null, 5], ...gates }));
    m.add(tf.layers.batchNormalization());
    m.add(tf.layers.lstm({ units: 6, ...gates }));
    m.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
    return m;
  };
  // inputs ×3, so that many hardSigmoid gates are clipped at 0 or 1 and others are not
  const x = randn([2, 6, 5]).mul(3);
  for (const recurrentActivation of ['sigmoid', 'hardSigmoid', undefined]) {
    const theirs = build(recurrentActivation);
    const artifacts = await saveOf(theirs);
    const ours = fromTfjsArtifacts(artifacts);
    expect((ours.layers[0] as LSTM).recurrentActivation).toBe(recurrentActivation ?? 'hardSigmoid');
    const expected = theirs.predict(tf.tensor(x.toArray(), x.shape)).dataSync();
    expect({ recurrentActivation, difference: maxDifference((await ours.predict(x)).dataSync(), expected) < 1e-5 }).toEqual({ recurrentActivation, difference: true });
  }
  const tanhGates = await saveOf(build('tanh'));
  expect(() => fromTfjsArtifacts(tanhGates)).toThrow(/layer #0 '.*' \(LSTM\) has recurrentActivation 'tanh'/);
});

test('a gradlab LSTM with hardSigmoid gates exports to TF.js and predicts the same there', async () => {
  setSeed(9);
  const model = new models.Sequential([
    layers.LSTM(8, { returnSequences: true, inputShape: [null, 5], recurrentActivation: 'hardSigmoid' }), layers.LSTM(4, { recurrentActivation: 'hardSigmoid' }),
    layers.Dense(3, { activation: 'softmax' }),
  ]);
  const x = randn([3, 6, 5]).mul(3);
  const loaded = await tf.loadLayersModel(tf.io.fromMemory(await toTfjsArtifacts(model)));
  expect(loaded.layers[0].getConfig().recurrentActivation).toBe('hardSigmoid');
  const theirs = loaded.predict(tf.tensor(x.toArray(), x.shape)).dataSync();
  expect(maxDifference((await model.predict(x)).dataSync(), theirs)).toBeLessThan(1e-5);
});
