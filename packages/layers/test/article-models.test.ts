/**
 * The article's three Keras models, built in gradlab: Keras's exact parameter counts, and each one
 * learning a small synthetic task with learnable structure (accuracy well above chance).
 */
import { Random, Tensor, fromTypedArray, setSeed } from '@gradlab/tensor';
import { layers, models, resetLayerNames } from '@gradlab/layers';

function imageModel(size: number) {
  const model = new models.Sequential();
  model.add(layers.Conv2D(32, [3, 3], { activation: 'relu', inputShape: [size, size, 3] }));
  model.add(layers.BatchNormalization());
  model.add(layers.MaxPooling2D({ poolSize: [2, 2] }));
  model.add(layers.Conv2D(64, [3, 3], { activation: 'relu' }));
  model.add(layers.BatchNormalization());
  model.add(layers.MaxPooling2D({ poolSize: [2, 2] }));
  model.add(layers.Flatten());
  model.add(layers.Dense(128, { activation: 'relu' }));
  model.add(layers.BatchNormalization());
  model.add(layers.Dense(10, { activation: 'softmax' }));
  model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  return model;
}

function speechModel(features = 40) {
  const model = new models.Sequential();
  model.add(layers.LSTM(128, { returnSequences: true, inputShape: [null, features] }));
  model.add(layers.BatchNormalization());
  model.add(layers.LSTM(64));
  model.add(layers.BatchNormalization());
  model.add(layers.Dense(10, { activation: 'softmax' }));
  model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  return model;
}

function textModel(features = 300, units: [number, number] = [128, 64]) {
  const model = new models.Sequential();
  model.add(layers.Bidirectional(layers.LSTM(units[0], { returnSequences: true }), { inputShape: [null, features] }));
  model.add(layers.BatchNormalization());
  model.add(layers.Bidirectional(layers.LSTM(units[1])));
  model.add(layers.BatchNormalization());
  model.add(layers.Dense(1, { activation: 'sigmoid' }));
  model.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: ['accuracy'] });
  return model;
}

const counts = (m: InstanceType<typeof models.Sequential>) => m.countParams();

describe("the article's models have Keras's parameter counts", () => {
  beforeEach(() => resetLayerNames());

  it('image CNN, input 64×64×3: total 1,627,338, trainable 1,626,890, non-trainable 448', () => {
    const m = imageModel(64);
    expect(counts(m)).toEqual({ total: 1627338, trainable: 1626890, nonTrainable: 448 });
    const table = m.summary({ printFn: () => {} });
    expect(table).toContain('Total params: 1,627,338');
    expect(table).toContain('(None, 62, 62, 32)');
    expect(table).toContain('(None, 12544)');
  });

  it('speech LSTM, input [T, 40]: total 137,354, trainable 136,970, non-trainable 384', () => {
    expect(counts(speechModel())).toEqual({ total: 137354, trainable: 136970, nonTrainable: 384 });
  });

  it('text bidirectional LSTM, input [T, 300]: total 605,313, trainable 604,545, non-trainable 768', () => {
    expect(counts(textModel())).toEqual({ total: 605313, trainable: 604545, nonTrainable: 768 });
  });
});

/** Fraction of predictions equal to the labels (argmax for several classes, > 0.5 for one). */
function accuracy(pred: Tensor, labels: Int32Array): number {
  const p = pred.dataSync();
  const k = pred.shape[pred.rank - 1];
  let right = 0;
  for (let i = 0; i < labels.length; i++) {
    let guess: number;
    if (k === 1) guess = p[i] > 0.5 ? 1 : 0;
    else { guess = 0; for (let j = 1; j < k; j++) if (p[i * k + j] > p[i * k + guess]) guess = j; }
    if (guess === labels[i]) right++;
  }
  return right / labels.length;
}

describe("the article's models learn", () => {
  beforeEach(() => { resetLayerNames(); setSeed(1); });

  it('image CNN (at 16×16×3): 10 classes, each a bright 3×3 patch at its own place, in noise', async () => {
    const size = 16, n = 400, rng = new Random(2);
    const makeSet = (count: number) => {
      const x = new Float32Array(count * size * size * 3), y = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const label = rng.int(10);
        y[i] = label;
        for (let p = 0; p < size * size * 3; p++) x[i * size * size * 3 + p] = rng.normal(0, 0.5);
        const r0 = 2 + 6 * Math.floor(label / 5), c0 = 1 + 3 * (label % 5);
        for (let r = r0; r < r0 + 3; r++) for (let c = c0; c < c0 + 3; c++) for (let ch = 0; ch < 3; ch++) x[((i * size + r) * size + c) * 3 + ch] += 2;
      }
      return { x: fromTypedArray(x, [count, size, size, 3]), y };
    };
    const train = makeSet(n), test = makeSet(200);
    const model = imageModel(size);
    await model.fit(train.x, fromTypedArray(train.y), { epochs: 3, batchSize: 32, verbose: 0, seed: 3 });
    expect(accuracy(await model.predict(test.x), test.y)).toBeGreaterThan(0.6); // chance: 0.1
  }, 120_000);

  it('speech LSTM (smaller features): the class is which feature pulses, and when', async () => {
    const T = 12, F = 8, n = 320, rng = new Random(4);
    const makeSet = (count: number) => {
      const x = new Float32Array(count * T * F), y = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const label = rng.int(10);
        y[i] = label;
        for (let p = 0; p < T * F; p++) x[i * T * F + p] = rng.normal(0, 0.3);
        const feature = label % 5, start = label < 5 ? 1 : 7;
        for (let t = start; t < start + 4; t++) x[(i * T + t) * F + feature] += 1.5;
      }
      return { x: fromTypedArray(x, [count, T, F]), y };
    };
    const train = makeSet(n), test = makeSet(200);
    const model = speechModel(F);
    await model.fit(train.x, fromTypedArray(train.y), { epochs: 8, batchSize: 32, verbose: 0, seed: 5 });
    expect(accuracy(await model.predict(test.x), test.y)).toBeGreaterThan(0.5); // chance: 0.1
  }, 120_000);

  it('text BiLSTM (smaller units and vectors): positive if a "good" vector occurs before a "bad" one', async () => {
    const T = 10, F = 16, n = 320, rng = new Random(6);
    const good = Array.from({ length: F }, () => rng.normal()), bad = Array.from({ length: F }, () => rng.normal());
    const makeSet = (count: number) => {
      const x = new Float32Array(count * T * F), y = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        for (let p = 0; p < T * F; p++) x[i * T * F + p] = rng.normal(0, 0.3);
        const a = rng.int(T), b = (a + 1 + rng.int(T - 1)) % T; // two different positions
        y[i] = a < b ? 1 : 0;
        for (let f = 0; f < F; f++) { x[(i * T + a) * F + f] += good[f]; x[(i * T + b) * F + f] += bad[f]; }
      }
      return { x: fromTypedArray(x, [count, T, F]), y };
    };
    const train = makeSet(n), test = makeSet(200);
    const model = textModel(F, [16, 8]);
    await model.fit(train.x, fromTypedArray(train.y), { epochs: 10, batchSize: 32, verbose: 0, seed: 7 });
    expect(accuracy(await model.predict(test.x), test.y)).toBeGreaterThan(0.75); // chance: 0.5
  }, 120_000);
});
