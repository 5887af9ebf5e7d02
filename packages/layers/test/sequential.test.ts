import { Variable, noGrad } from '@gradlab/autograd';
import { Tensor, Random, fromTypedArray, randn, setSeed, tensor } from '@gradlab/tensor';
import { Layer, layers, resetLayerNames, BatchNormalization } from '@gradlab/layers';
import type { CallOptions } from '@gradlab/layers';
import { Sequential } from '../src/models/sequential.js';
import { EarlyStopping } from '../src/callbacks.js';
import type { CallbackModel, Logs } from '../src/callbacks.js';
import { sparseCategoricalCrossentropy } from '../src/losses.js';
import { Adam, SGD } from '../src/optimizers/index.js';

/** XOR of the signs of two coordinates: not linearly separable, easy for a small MLP. */
function xorData(n: number, seed: number): { x: Tensor; y: Tensor } {
  const rng = new Random(seed);
  const xs = new Float32Array(n * 2), ys = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const a = rng.uniform(-1, 1), b = rng.uniform(-1, 1);
    xs[2 * i] = a; xs[2 * i + 1] = b;
    ys[i] = a * b > 0 ? 1 : 0;
  }
  return { x: fromTypedArray(xs, [n, 2]), y: fromTypedArray(ys, [n]) };
}

function mlp(seed = 1): Sequential {
  setSeed(seed);
  const model = new Sequential();
  model.add(layers.Dense(16, { activation: 'relu', inputShape: [2] }));
  model.add(layers.Dense(2, { activation: 'softmax' }));
  return model;
}

const silent = { verbose: 0 as const };

describe('building and summary', () => {
  beforeEach(() => resetLayerNames());

  test('the first layer\'s inputShape builds the model at once: Keras\'s table, character for character', () => {
    const model = new Sequential();
    model.add(layers.Dense(128, { activation: 'relu', inputShape: [784] }));
    model.add(layers.Dense(10, { activation: 'softmax' }));
    expect(model.built).toBe(true);
    const lines: string[] = [];
    const text = model.summary({ printFn: (t) => lines.push(t) });
    // As tf.keras 2.11 prints it (65 columns; params 784·128 + 128 = 100480 and 128·10 + 10 = 1290):
    const expected = [
      'Model: "sequential"',
      '_________________________________________________________________',
      ' Layer (type)                Output Shape              Param #   ',
      '=================================================================',
      ' dense (Dense)               (None, 128)               100480    ',
      '                                                                 ',
      ' dense_1 (Dense)             (None, 10)                1290      ',
      '                                                                 ',
      '=================================================================',
      'Total params: 101,770',
      'Trainable params: 101,770',
      'Non-trainable params: 0',
      '_________________________________________________________________',
    ];
    expect(text.split('\n')).toEqual(expected);
    expect(lines).toEqual([text]);
  });

  test('the article\'s image model: long names wrap as in Keras, totals 1,627,338 / 1,626,890 / 448', () => {
    const model = new Sequential();
    model.add(layers.Conv2D(32, [3, 3], { activation: 'relu', inputShape: [64, 64, 3] }));
    model.add(layers.BatchNormalization());
    model.add(layers.MaxPooling2D({ poolSize: [2, 2] }));
    model.add(layers.Conv2D(64, [3, 3], { activation: 'relu' }));
    model.add(layers.BatchNormalization());
    model.add(layers.MaxPooling2D({ poolSize: [2, 2] }));
    model.add(layers.Flatten());
    model.add(layers.Dense(128, { activation: 'relu' }));
    model.add(layers.BatchNormalization());
    model.add(layers.Dense(10, { activation: 'softmax' }));
    const text = model.summary({ printFn: () => undefined });
    const sp = (n: number): string => ' '.repeat(n);
    const blank = sp(65);
    // column 1 holds 27 characters (29 − 2 spaces); the rest of a name continues on the next line
    expect(text.split('\n').slice(4, 24)).toEqual([
      ` conv2d (Conv2D)${sp(13)}(None, 62, 62, 32)${sp(8)}896${sp(7)}`, blank,
      ` batch_normalization (BatchN  (None, 62, 62, 32)${sp(7)}128${sp(7)}`, ` ormalization)${sp(51)}`, blank,
      ` max_pooling2d (MaxPooling2D  (None, 31, 31, 32)${sp(7)}0${sp(9)}`, ` )${sp(63)}`, blank,
      ` conv2d_1 (Conv2D)${sp(11)}(None, 29, 29, 64)${sp(8)}18496${sp(5)}`, blank,
      ` batch_normalization_1 (Batc  (None, 29, 29, 64)${sp(7)}256${sp(7)}`, ` hNormalization)${sp(49)}`, blank,
      ` max_pooling2d_1 (MaxPooling  (None, 14, 14, 64)${sp(7)}0${sp(9)}`, ` 2D)${sp(61)}`, blank,
      ` flatten (Flatten)${sp(11)}(None, 12544)${sp(13)}0${sp(9)}`, blank,
      ` dense (Dense)${sp(15)}(None, 128)${sp(15)}1605760${sp(3)}`, blank,
    ]);
    expect(text).toContain(` batch_normalization_2 (Batc  (None, 128)${sp(14)}512${sp(7)}`);
    expect(text).toContain('Total params: 1,627,338\nTrainable params: 1,626,890\nNon-trainable params: 448');
    for (const line of text.split('\n').slice(1)) if (!line.startsWith('Total') && !line.includes('params:')) expect(line.length).toBe(65);
  });

  test('without an inputShape the model builds on its first call; summary before that explains', () => {
    const model = new Sequential([layers.Dense(3), layers.Dense(1)]);
    expect(() => model.summary()).toThrow(/not yet been built.*inputShape/);
    model.call(new Variable(randn([4, 5])));
    expect(model.summary({ printFn: () => undefined })).toContain('(None, 3)');
    expect(model.countParams().total).toBe(5 * 3 + 3 + 3 + 1);
  });

  test('layers are children named by their names; duplicates are refused', () => {
    const model = mlp();
    expect(model.namedParameters().map(([n]) => n)).toEqual(['dense.kernel', 'dense.bias', 'dense_1.kernel', 'dense_1.bias']);
    expect(() => model.add(layers.Dense(2, { name: 'dense' }))).toThrow(/unique names; 'dense'/);
  });
});

describe('masks flow from layer to layer', () => {
  class MakesMask extends Layer {
    call(x: Variable): Variable { return x; }
    override computeMask(): Tensor { return tensor([[1, 0]]); }
  }
  class RecordsMask extends Layer {
    seen: Tensor | null | undefined;
    constructor() { super(); this.supportsMasking = true; }
    call(x: Variable, options: CallOptions): Variable { this.seen = options.mask; return x; }
  }
  test('each layer gets mask = previous.computeMask(input, mask)', () => {
    const recorder = new RecordsMask();
    const model = new Sequential([new MakesMask(), recorder]);
    model.call(new Variable(randn([1, 2])));
    expect(recorder.seen?.toArray()).toEqual([[1, 0]]);
  });
});

describe('fit, evaluate, predict', () => {
  const { x, y } = xorData(256, 3);

  test('a small MLP learns XOR of signs far above chance (50 %)', async () => {
    const model = mlp(2);
    model.compile({ optimizer: new Adam({ lr: 0.02 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const history = await model.fit(x, y, { epochs: 40, batchSize: 32, seed: 1, ...silent });
    const test = xorData(200, 99);
    const [loss, accuracy] = await model.evaluate(test.x, test.y);
    expect(accuracy).toBeGreaterThan(0.9);
    expect(loss).toBeLessThan(history.history.loss[0]);
    expect(history.epoch).toEqual([...Array(40).keys()]);
    expect(Object.keys(history.history)).toEqual(['loss', 'accuracy']);
  });

  test('evaluate equals the loss and accuracy computed by hand from predict', async () => {
    const model = mlp(3);
    model.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const [loss, accuracy] = await model.evaluate(x, y, { batchSize: 50 }); // uneven batches: weighted by size
    const probs = await model.predict(x, { batchSize: 7 });
    expect(probs.shape).toEqual([256, 2]);
    const p = probs.toArray() as number[][], labels = y.toArray() as number[];
    const handLoss = p.reduce((s, row, i) => s - Math.log(row[labels[i]]), 0) / p.length;
    const handAcc = p.filter((row, i) => (row[1] > row[0] ? 1 : 0) === labels[i]).length / p.length;
    expect(loss).toBeCloseTo(handLoss, 4);
    expect(accuracy).toBeCloseTo(handAcc, 10);
    const whole = noGrad(() => model.call(new Variable(x), { training: false })).data.toArray() as number[][];
    whole.forEach((row, i) => row.forEach((v, j) => expect(p[i][j]).toBeCloseTo(v, 6)));
  });

  test('validationSplit holds out the last fraction (before shuffling) and reports val_ logs', async () => {
    const model = mlp(4);
    model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['acc'] });
    const seen: number[] = [];
    const history = await model.fit(x, y, {
      epochs: 2, batchSize: 30, validationSplit: 0.25, ...silent,
      callbacks: [{ onBatchBegin: (_b: number, logs?: Logs) => { seen.push(logs!.size); } }],
    });
    expect(seen.slice(0, 7).reduce((a, b) => a + b, 0)).toBe(192); // floor(256 · 0.75) rows per epoch
    expect(seen.length).toBe(14);
    expect(Object.keys(history.history)).toEqual(['loss', 'acc', 'val_loss', 'val_acc']);
    const last = { x: x.slice([[192, 256]]), y: y.slice([[192, 256]]) };
    const [vLoss, vAcc] = await model.evaluate(last.x, last.y);
    expect(history.history.val_loss[1]).toBeCloseTo(vLoss, 6);
    expect(history.history.val_acc[1]).toBeCloseTo(vAcc, 10);
  });

  test('validationData is evaluated after every epoch', async () => {
    const model = mlp(5);
    model.compile({ optimizer: 'rmsprop', loss: 'sparse_categorical_crossentropy' });
    const v = xorData(40, 7);
    const history = await model.fit(x, y, { epochs: 3, validationData: [v.x, v.y], ...silent });
    expect(history.history.val_loss).toHaveLength(3);
    expect(history.history.val_loss[2]).toBeCloseTo((await model.evaluate(v.x, v.y))[0], 6);
  });

  test('the same seed gives the same training; another seed another', async () => {
    const train = async (seed: number): Promise<number[]> => {
      const model = mlp(6);
      model.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy' });
      await model.fit(x, y, { epochs: 2, batchSize: 16, seed, ...silent });
      return Array.from(model.parameters()[0].data.dataSync());
    };
    const [a, b, c] = [await train(1), await train(1), await train(2)];
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  test('a softmax output layer trains through the fused log-softmax: a confident mistake costs its logit gap, not −log(1e-7)', async () => {
    const model = new Sequential([layers.Dense(2, { activation: 'softmax', inputShape: [1], useBias: false })]);
    const kernel = model.parameters()[0];
    kernel.data = tensor([[50, -50]]); // logits [50, −50] for x = 1
    model.compile({ optimizer: new SGD({ lr: 1e-9 }), loss: 'sparse_categorical_crossentropy' });
    const xb = tensor([[1]]), yb = tensor([1], { dtype: 'int32' });
    // Through the logits: logsumexp(50, −50) − (−50) = 100 (+ e^−100). On probabilities it would be clipped at 16.118.
    expect(await model.trainOnBatch(xb, yb)).toBeCloseTo(100, 3);
    expect((await model.evaluate(xb, yb))[0]).toBeCloseTo(100, 3);
    const probs = (await model.predict(xb)).toArray() as number[][];
    expect(probs[0][0]).toBeCloseTo(1, 6); // predict still gives probabilities
    const onProbs = sparseCategoricalCrossentropy(new Variable((await model.predict(xb))), yb).item();
    expect(onProbs).toBeCloseTo(-Math.log(1e-7), 3);
  });

  test('trainOnBatch returns the loss before the update, and the update lowers it', async () => {
    const model = mlp(7);
    model.compile({ optimizer: new SGD({ lr: 0.5 }), loss: 'sparse_categorical_crossentropy' });
    const before = (await model.evaluate(x, y, { batchSize: 256 }))[0];
    expect(await model.trainOnBatch(x, y)).toBeCloseTo(before, 5);
    expect((await model.evaluate(x, y, { batchSize: 256 }))[0]).toBeLessThan(before);
  });

  test('binary crossentropy with a sigmoid output and mse both train', async () => {
    setSeed(8);
    const binary = new Sequential([layers.Dense(8, { activation: 'tanh', inputShape: [2] }), layers.Dense(1, { activation: 'sigmoid' })]);
    binary.compile({ optimizer: new Adam({ lr: 0.03 }), loss: 'binary_crossentropy', metrics: ['accuracy'] });
    const yf = y.astype('float32').reshape([256, 1]);
    await binary.fit(x, yf, { epochs: 40, ...silent, seed: 2 });
    expect((await binary.evaluate(x, yf))[1]).toBeGreaterThan(0.85);
    const reg = new Sequential([layers.Dense(1, { inputShape: [2] })]);
    reg.compile({ optimizer: new SGD({ lr: 0.1 }), loss: 'mse' });
    const target = x.sum(1, true); // y = x0 + x1: a linear model fits it exactly
    const h = await reg.fit(x, target, { epochs: 30, ...silent });
    expect(h.history.loss[29]).toBeLessThan(1e-3);
  });

  test('errors name the model and the shapes', async () => {
    const model = mlp(9);
    await expect(model.fit(x, y, silent)).rejects.toThrow(/must be compiled first/);
    model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy' });
    await expect(model.fit(x, y.slice([[0, 10]]), silent)).rejects.toThrow(/x \[256,2\] and y \[10\] must have the same number of examples/);
    await expect(model.fit(x, y, { validationSplit: 1, ...silent })).rejects.toThrow(/validationSplit must be in \[0, 1\)/);
    expect(() => model.compile({ optimizer: 'adamax', loss: 'mse' })).toThrow(/unknown optimizer 'adamax'/);
  });

  test('the values a batch must hold are checked once where the data enters, naming the model, on every backend', async () => {
    const model = mlp(9);
    model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy' });
    const bad = tensor([...Array.from(y.dataSync()).slice(0, 255), 2], { dtype: 'int32' }); // the last label names a third class
    await expect(model.fit(x, bad, silent)).rejects.toThrow(/label 2 \(at 255\) of y \[256\] is outside the valid range \[0, 2\) of the model's 2 classes/);
    await expect(model.evaluate(x, bad)).rejects.toThrow(/label 2 \(at 255\)/);
    const text = new Sequential();
    text.add(layers.Embedding(5, 3, { inputShape: [4] }));
    text.add(layers.Flatten());
    text.add(layers.Dense(2, { activation: 'softmax' }));
    text.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy' });
    const ids = tensor([[1, 2, 3, 4], [0, 1, 5, 2]], { dtype: 'int32' });
    await expect(text.trainOnBatch(ids, tensor([0, 1], { dtype: 'int32' }))).rejects.toThrow(/id 5 at flat position 6, outside the vocabulary \[0, 5\) of .*\(Embedding\)/);
  });
});

describe('callbacks and progress output', () => {
  const { x, y } = xorData(64, 5);

  test('EarlyStopping (Keras 3 rules): stops after `patience` epochs without improvement and restores the best weights', () => {
    const weights = { epoch: -1 };
    const model: CallbackModel = {
      stopTraining: false,
      stateDict: () => new Map([['w', tensor([weights.epoch])]]),
      loadStateDict: (s) => { weights.epoch = s.get('w')!.item(); },
    };
    const es = new EarlyStopping({ monitor: 'val_loss', patience: 2, restoreBestWeights: true });
    es.setModel(model);
    es.onTrainBegin();
    const losses = [1, 0.5, 0.6, 0.7, 0.4];
    let stoppedAt = -1;
    for (let epoch = 0; epoch < losses.length && !model.stopTraining; epoch++) {
      weights.epoch = epoch;
      es.onEpochEnd(epoch, { val_loss: losses[epoch] });
      if (model.stopTraining) stoppedAt = epoch;
    }
    expect(stoppedAt).toBe(3); // best at epoch 1, then two epochs without improvement
    es.onTrainEnd();
    expect(weights.epoch).toBe(1);
    expect(new EarlyStopping({ monitor: 'val_accuracy' }).mode).toBe('max');
  });

  test('fit stops when EarlyStopping says so', async () => {
    const model = mlp(10);
    model.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy' });
    // minDelta 100: no epoch can improve on the first, so with patience 1 training ends after epoch 2
    const history = await model.fit(x, y, { epochs: 10, callbacks: [new EarlyStopping({ monitor: 'loss', patience: 1, minDelta: 100 })], ...silent });
    expect(history.epoch).toEqual([0, 1]);
  });

  test('onEpochEnd and onBatchEnd receive the running logs', async () => {
    const model = mlp(11);
    model.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const epochs: Array<[number, Logs]> = [];
    let batches = 0;
    const history = await model.fit(x, y, {
      epochs: 2, batchSize: 16, ...silent,
      callbacks: [{ onEpochEnd: async (e: number, logs: Logs) => { epochs.push([e, logs]); }, onBatchEnd: () => { batches++; } }],
    });
    expect(batches).toBe(8);
    expect(epochs.map(([e]) => e)).toEqual([0, 1]);
    expect(epochs[1][1].loss).toBe(history.history.loss[1]);
  });

  test('verbose 2 (or a non-terminal): one line per epoch, Keras\'s format', async () => {
    const model = mlp(12);
    model.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    let out = '';
    await model.fit(x, y, { epochs: 2, batchSize: 16, output: { write: (s) => { out += s; }, isTTY: false } });
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe('Epoch 1/2');
    expect(lines[1]).toMatch(/^4\/4 - \d+s - loss: \d\.\d{4} - accuracy: \d\.\d{4} - \d+s\/epoch - \d+(s|ms|us)\/step$/);
  });

  test('verbose 1 on a terminal: a progress bar redrawn with \\r; verbose 0: nothing', async () => {
    const model = mlp(13);
    model.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy' });
    let out = '';
    await model.fit(x, y, { epochs: 1, batchSize: 16, verbose: 1, output: { write: (s) => { out += s; }, isTTY: true } });
    expect(out).not.toContain('Epoch'); // Keras prints no "Epoch 1/1" header for a single epoch
    expect(out).toMatch(/\r4\/4 \[==============================\] - \d+s \d+(s|ms|us)\/step - loss: \d\.\d{4}\s*\n$/);
    out = '';
    await model.fit(x, y, { epochs: 1, verbose: 0, output: { write: (s) => { out += s; }, isTTY: true } });
    expect(out).toBe('');
  });

  test('BatchNormalization in a model: training mode in fit, inference mode in predict', async () => {
    setSeed(14);
    const bn = new BatchNormalization();
    const model = new Sequential([layers.Dense(4, { inputShape: [2] }), bn, layers.Dense(2, { activation: 'softmax' })]);
    model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy' });
    const movingMean = (): unknown => bn.movingMean.toArray();
    const before = movingMean();
    await model.fit(x, y, { epochs: 1, ...silent });
    expect(movingMean()).not.toEqual(before);
    const after = movingMean();
    await model.predict(x);
    await model.evaluate(x, y);
    expect(movingMean()).toEqual(after);
  });
});
