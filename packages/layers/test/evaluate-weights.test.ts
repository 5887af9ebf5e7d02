/**
 * Evaluation with sampleWeight, as Keras 3: evaluate(x, y, { sampleWeight }), a dataset whose batches
 * carry sampleWeight, and fit's validation ([x, y, sampleWeight], validationSplit, a dataset) give the
 * weighted loss that training minimises, Σᵢ wᵢ·lossᵢ / n per batch; the expected values are computed here
 * by hand (plain arithmetic or autograd in float64), never copied from a run.
 */
import { F, Variable, asVariable } from '@gradlab/autograd';
import { fromTypedArray, setSeed, tensor } from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import { Dataset, layers } from '@gradlab/layers';
import type { Model } from '../src/models/model.js';
import { Sequential } from '../src/models/sequential.js';
import { SGD } from '../src/optimizers/index.js';
import { data } from './save-helpers.js';
import { take, twoOutputData, twoOutputs } from './functional-helpers.js';

const rows = (t: { dataSync(): ArrayLike<number> }): number[] => Array.from(t.dataSync());
const closeTo = (got: number[], want: number[], tolerance: number): void => {
  expect(got).toHaveLength(want.length);
  want.forEach((v, i) => expect(Math.abs(got[i] - v)).toBeLessThan(tolerance));
};
/** Weights float32 holds exactly (the weights of a batch are made float32), some 0 to leave an example out. */
const weights10 = [1, 0.5, 2, 0, 1.5, 1, 0.25, 3, 0.75, 2];

/** Dense(4, tanh) → Dense(2, softmax) on 3 inputs, float64 weights: no BatchNorm or Dropout, so training and inference compute the same loss. */
function oneOutput(seed = 5, metrics: string[] = ['accuracy']): Sequential {
  setSeed(seed);
  const m = new Sequential([layers.Dense(4, { activation: 'tanh', inputShape: [3] }), layers.Dense(2, { activation: 'softmax' })]);
  for (const w of m.parameters()) w.data = w.data.astype('float64');
  m.compile({ optimizer: new SGD({ learningRate: 0.1 }), loss: 'sparse_categorical_crossentropy', metrics });
  return m;
}

/** Each example's crossentropy −log p(label) and whether argmax p is the label, in plain arithmetic from the model's weights. */
function byHand(m: Sequential, x: Tensor, y: Tensor): { losses: number[]; correct: boolean[] } {
  const [K1, b1, K2, b2] = m.parameters().map((p) => rows(p.data));
  const xs = rows(x), labels = rows(y);
  const losses: number[] = [], correct: boolean[] = [];
  for (let i = 0; i < labels.length; i++) {
    const h = [0, 1, 2, 3].map((j) => Math.tanh(b1[j] + [0, 1, 2].reduce((s, k) => s + xs[3 * i + k] * K1[4 * k + j], 0)));
    const z = [0, 1].map((c) => b2[c] + [0, 1, 2, 3].reduce((s, j) => s + h[j] * K2[2 * j + c], 0));
    const logSum = Math.log(Math.exp(z[0]) + Math.exp(z[1]));
    losses.push(logSum - z[labels[i]]);
    correct.push((z[1] > z[0] ? 1 : 0) === labels[i]);
  }
  return { losses, correct };
}

const sum = (v: number[]): number => v.reduce((a, b) => a + b, 0);

test('evaluate with sampleWeight gives Σ wᵢ·lossᵢ / n over every example, whatever the batch size (one output, by hand to 1e-12)', async () => {
  const { x, y } = data(10);
  const m = oneOutput();
  const { losses } = byHand(m, x, y);
  const w = tensor(weights10);
  const weighted = sum(losses.map((l, i) => weights10[i] * l)) / 10;
  for (const batchSize of [10, 4, 3]) {
    const [loss] = await m.evaluate(x, y, { sampleWeight: w, batchSize });
    expect(Math.abs(loss - weighted)).toBeLessThan(1e-12);
  }
  // Without weights: the plain mean, as before.
  expect(Math.abs((await m.evaluate(x, y))[0] - sum(losses) / 10)).toBeLessThan(1e-12);
  // Weights of 1 change nothing; a dataset carrying the weights gives the tensors' result.
  expect((await m.evaluate(x, y, { sampleWeight: tensor(weights10.map(() => 1)) }))[0]).toBe((await m.evaluate(x, y))[0]);
  const ds = Dataset.fromTensorSlices(x, y, { sampleWeight: w }).batch(4);
  expect(await m.evaluate(ds)).toEqual(await m.evaluate(x, y, { sampleWeight: w, batchSize: 4 }));
});

test('evaluate on a batch gives the loss fit trains on for that batch with the same weights (before the update)', async () => {
  const { x, y } = data(10);
  const w = tensor(weights10);
  const trained = oneOutput();
  const history = await trained.fit(x, y, { batchSize: 10, epochs: 1, shuffle: false, verbose: 0, sampleWeight: w });
  const [evaluated] = await oneOutput().evaluate(x, y, { sampleWeight: w, batchSize: 10 });
  expect(Math.abs(evaluated - history.history.loss[0])).toBeLessThan(1e-12);
  // The same through a dataset of one batch.
  const [fromDataset] = await oneOutput().evaluate(Dataset.fromArray([{ x, y, sampleWeight: w }]));
  expect(Math.abs(fromDataset - history.history.loss[0])).toBeLessThan(1e-12);
  // trainOnBatch with the weights (Keras's train_on_batch(x, y, sample_weight)) returns that loss too.
  expect(Math.abs(await oneOutput().trainOnBatch(x, y, { sampleWeight: w }) - evaluated)).toBeLessThan(1e-12);
  await expect(oneOutput().trainOnBatch(x, y, { sampleWeight: tensor([1]) })).rejects.toThrow('trainOnBatch: sampleWeight [1] must hold one weight per example, [10]');
  await expect(oneOutput().trainOnBatch(x, y, { sample_weight: w } as object)).rejects.toThrow("trainOnBatch: unknown option 'sample_weight' (gradlab spells it 'sampleWeight')");
});

/** mse on 'reg' + 0.5 × sparse crossentropy on 'cls' (accuracy on cls), float64. */
function compiledTwo(seed?: number): Model {
  const model = twoOutputs(seed);
  model.compile({ optimizer: new SGD({ learningRate: 0.1 }), loss: { reg: 'mse', cls: 'sparse_categorical_crossentropy' }, lossWeights: [1, 0.5], metrics: { cls: ['accuracy'] } });
  return model;
}

/** The two-output model's [loss, reg_loss, cls_loss] on `n` examples in batches of `size`, weighted, by autograd in float64: Keras's per-batch Σ w·l / size, averaged by batch size. */
function twoByHand(model: Model, n: number, size: number, wReg: number[], wCls: number[]): number[] {
  const { xa, xb, y, oneHot } = twoOutputData(n);
  const [Ka, ba, Kb, bb, Kr, br, Kc, bc] = model.parameters().map((p) => asVariable(p.data));
  const totals = [0, 0, 0];
  for (let from = 0; from < n; from += size) {
    const count = Math.min(size, n - from);
    const at = (t: Tensor): Variable => asVariable(take(t.astype('float64'), from, count));
    const weightsAt = (w: number[]): Variable => asVariable(fromTypedArray(Float64Array.from(w.slice(from, from + count)), [count]));
    const h = F.concat([at(xa).matmul(Ka).add(ba).tanh(), at(xb).matmul(Kb).add(bb).tanh()], -1);
    const regLoss = h.matmul(Kr).add(br).sub(at(y)).square().reshape([count]).mul(weightsAt(wReg)).sum().div(count);
    const logits = h.matmul(Kc).add(bc);
    const clsLoss = F.logSumExp(logits, -1).sub(logits.mul(at(oneHot)).sum(-1)).mul(weightsAt(wCls)).sum().div(count);
    const batch = [regLoss.add(clsLoss.mul(0.5)), regLoss, clsLoss].map((v) => v.data.dataSync()[0]);
    batch.forEach((v, k) => { totals[k] += v * count; });
  }
  return totals.map((t) => t / n);
}

test('two outputs: evaluate weighs each output\'s loss by its own sampleWeight (an object, a list, one tensor for both), as computed by hand', async () => {
  const { xa, xb, y, labels } = twoOutputData(8);
  const wReg = [1, 0.5, 2, 0, 1.5, 1, 0.25, 3];
  const wCls = [0.5, 1, 1, 2, 0, 1, 3, 0.75];
  const model = compiledTwo();
  const byObject = await model.evaluate({ xa, xb }, { reg: y, cls: labels }, { sampleWeight: { cls: tensor(wCls), reg: tensor(wReg) }, batchSize: 4 });
  closeTo(byObject.slice(0, 3), twoByHand(model, 8, 4, wReg, wCls), 1e-12);
  expect(await model.evaluate([xa, xb], [y, labels], { sampleWeight: [tensor(wReg), tensor(wCls)], batchSize: 4 })).toEqual(byObject);
  const ds = Dataset.fromTensorSlices([xa, xb], [y, labels], { sampleWeight: { reg: tensor(wReg), cls: tensor(wCls) } }).batch(4);
  expect(await model.evaluate(ds)).toEqual(byObject);
  const forBoth = await model.evaluate([xa, xb], [y, labels], { sampleWeight: tensor(wReg), batchSize: 3 });
  closeTo(forBoth.slice(0, 3), twoByHand(model, 8, 3, wReg, wReg), 1e-12);
  // And fit's training loss on one batch of 8 with those weights is evaluate's on a fresh copy.
  const history = await compiledTwo().fit([xa, xb], [y, labels], { batchSize: 8, shuffle: false, verbose: 0, sampleWeight: [tensor(wReg), tensor(wCls)] });
  const fresh = await compiledTwo().evaluate([xa, xb], [y, labels], { sampleWeight: [tensor(wReg), tensor(wCls)], batchSize: 8 });
  closeTo(fresh.slice(0, 3), ['loss', 'reg_loss', 'cls_loss'].map((k) => history.history[k][0]), 1e-12);
  closeTo([await compiledTwo().trainOnBatch({ xa, xb }, { reg: y, cls: labels }, { sampleWeight: { reg: tensor(wReg), cls: tensor(wCls) } })], [fresh[0]], 1e-12);
});

test('fit\'s val_loss from [x, y, sampleWeight], from validationSplit with sampleWeight and from a weighted dataset is evaluate\'s with the same weights', async () => {
  const { x, y } = data(20);
  const [xt, yt, xv, yv] = [take(x, 0, 10), take(y, 0, 10), take(x, 10, 10), take(y, 10, 10)];
  const wv = tensor(weights10);
  const m = oneOutput();
  const h = await m.fit(xt, yt, { batchSize: 4, epochs: 1, verbose: 0, validationData: [xv, yv, wv] });
  const [loss, accuracy] = await m.evaluate(xv, yv, { sampleWeight: wv, batchSize: 4 });
  expect(h.history.val_loss[0]).toBe(loss);
  expect(h.history.val_accuracy[0]).toBe(accuracy);
  const [plain] = await m.evaluate(xv, yv, { batchSize: 4 });
  expect(plain).not.toBeCloseTo(loss, 3); // the weights do change it
  // validationSplit holds out the last rows with their weights (Keras splits sample_weight with x and y).
  const split = oneOutput();
  const trainWeights = [2, 1, 1, 0.5, 1, 1, 3, 1, 1, 0.25];
  const hs = await split.fit(x, y, { batchSize: 4, epochs: 1, verbose: 0, validationSplit: 0.5, sampleWeight: tensor([...trainWeights, ...weights10]) });
  expect(hs.history.val_loss[0]).toBe((await split.evaluate(xv, yv, { sampleWeight: wv, batchSize: 4 }))[0]);
  // A validation dataset whose batches carry sampleWeight.
  const fromDataset = oneOutput();
  const hd = await fromDataset.fit(xt, yt, { batchSize: 4, epochs: 1, verbose: 0, validationData: Dataset.fromTensorSlices(xv, yv, { sampleWeight: wv }).batch(4) });
  expect(hd.history.val_loss[0]).toBe((await fromDataset.evaluate(xv, yv, { sampleWeight: wv, batchSize: 4 }))[0]);
  // classWeight weighs training only (Keras's evaluate takes none): val_loss is the plain mean.
  const classWeighted = oneOutput();
  const hc = await classWeighted.fit(xt, yt, { batchSize: 4, epochs: 1, verbose: 0, classWeight: { 0: 3, 1: 0.5 }, validationData: [xv, yv] });
  expect(hc.history.val_loss[0]).toBe((await classWeighted.evaluate(xv, yv, { batchSize: 4 }))[0]);
});

test('two outputs: val_loss and each val_<output>_loss from [x, y, sampleWeight per output] are evaluate\'s', async () => {
  const { xa, xb, y, labels } = twoOutputData(8);
  const sampleWeight = { reg: tensor([1, 0.5, 2, 0, 1.5, 1, 0.25, 3]), cls: tensor([0.5, 1, 1, 2, 0, 1, 3, 0.75]) };
  const model = compiledTwo();
  const h = await model.fit([xa, xb], [y, labels], { batchSize: 4, verbose: 0, validationData: [[xa, xb], [y, labels], sampleWeight] });
  const evaluated = await model.evaluate([xa, xb], [y, labels], { sampleWeight, batchSize: 4 });
  closeTo(evaluated.slice(0, 3), twoByHand(model, 8, 4, rows(sampleWeight.reg), rows(sampleWeight.cls)), 1e-12);
  expect(['val_loss', 'val_reg_loss', 'val_cls_loss', 'val_cls_accuracy'].map((k) => h.history[k][0])).toEqual(evaluated);
});

test('sampleWeight that does not fit is refused where it enters, naming the argument and the shapes', async () => {
  const { x, y } = data(10);
  const m = oneOutput();
  await expect(m.evaluate(x, y, { sampleWeight: tensor([1, 2, 3]) })).rejects.toThrow('evaluate: sampleWeight [3] must hold one weight per example, [10]');
  await expect(m.evaluate(x, y, { sampleWeight: tensor([[1, 2]]) })).rejects.toThrow('evaluate: sampleWeight [1,2] must hold one weight per example, [10]');
  await expect(m.evaluate(x, y, { sample_weight: tensor(weights10) } as object)).rejects.toThrow("evaluate: unknown option 'sample_weight' (gradlab spells it 'sampleWeight'); evaluate knows batchSize, steps, sampleWeight");
  await expect(m.evaluate(Dataset.fromTensorSlices(x, y).batch(4), { sampleWeight: tensor(weights10) }))
    .rejects.toThrow("evaluate: sampleWeight goes into the dataset's batches ({ x, y, sampleWeight }) when evaluating a dataset");
  await expect(m.predict(x, { sampleWeight: tensor(weights10) } as object)).rejects.toThrow("predict: unknown option 'sampleWeight'; predict knows batchSize, steps");
  await expect(m.evaluate(Dataset.fromArray([{ x, y, sampleWeight: tensor([1, 2]) }]))).rejects.toThrow('evaluate (batch 0): sampleWeight [2] must hold one weight per example, [10]');
  await expect(m.fit(x, y, { verbose: 0, validationData: [x, y, tensor([1, 2])] })).rejects.toThrow('fit (validationData): sampleWeight [2] must hold one weight per example, [10]');
  await expect(m.fit(x, y, { verbose: 0, validationData: [x, y, tensor(weights10), tensor(weights10)] as never }))
    .rejects.toThrow('fit: validationData must be [x, y] or [x, y, sampleWeight] tensors (for several inputs or outputs, lists or objects keyed by name) or a Dataset, got a list of 4');
  await expect(m.fit(x, y, { verbose: 0, validationData: Dataset.fromArray([{ x, y, sampleWeight: tensor([1]) }]) }))
    .rejects.toThrow('fit (validation batch 0): sampleWeight [1] must hold one weight per example, [10]');
  // A weight that is not a finite number would make the loss NaN silently: refused, in fit as in evaluate.
  const nan = tensor(weights10.map((w, i) => (i === 6 ? NaN : w)));
  await expect(m.evaluate(x, y, { sampleWeight: nan })).rejects.toThrow('evaluate: sampleWeight [10] holds NaN at row 6; weights must be finite numbers (0 leaves an example out)');
  await expect(m.fit(x, y, { verbose: 0, sampleWeight: tensor(weights10.map((w, i) => (i === 2 ? Infinity : w))) }))
    .rejects.toThrow('fit: sampleWeight [10] holds Infinity at row 2; weights must be finite numbers');
  await expect(m.fit(x, y, { verbose: 0, validationData: Dataset.fromArray([{ x, y, sampleWeight: nan }]) }))
    .rejects.toThrow('fit (validation batch 0): sampleWeight [10] holds NaN at row 6');
  const two = compiledTwo();
  const d = twoOutputData(8);
  const w = tensor([1, 1, 1, 1, 1, 1, 1, 1]);
  await expect(two.evaluate([d.xa, d.xb], [d.y, d.labels], { sampleWeight: [w, w, w] }))
    .rejects.toThrow("evaluate: sampleWeight is a list of 3 for the model's 2 outputs (reg, cls); give one tensor for every output, or one per output");
  await expect(two.evaluate([d.xa, d.xb], [d.y, d.labels], { sampleWeight: { reg: w, cls: tensor([1, 1]) } }))
    .rejects.toThrow('evaluate: sampleWeight of output cls [2] must hold one weight per example, [8]');
  await expect(two.evaluate([d.xa, d.xb], [d.y, d.labels], { sampleWeight: { reg: w, cls: tensor([1, 1, 1, NaN, 1, 1, 1, 1]) } }))
    .rejects.toThrow('evaluate: sampleWeight of output cls [8] holds NaN at row 3; weights must be finite numbers');
  await expect(two.fit([d.xa, d.xb], [d.y, d.labels], { verbose: 0, validationData: [[d.xa, d.xb], [d.y, d.labels], { reg: w }] }))
    .rejects.toThrow("fit (validationData): sampleWeight has no 'cls' (the model's outputs: reg, cls)");
});

// ---- weightedMetrics (Keras's weighted_metrics) ----------------------------------------------------

test('weightedMetrics weigh each example by its sampleWeight (Σ w·correct / Σ w), metrics stay plain, as Keras 3; names as Keras\'s', async () => {
  const { x, y } = data(10);
  const m = oneOutput(5, ['accuracy']);
  m.compile({ optimizer: new SGD({ learningRate: 0.1 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'], weightedMetrics: ['accuracy'] });
  const { losses, correct } = byHand(m, x, y);
  const hits = correct.map((c) => (c ? 1 : 0));
  const plainAccuracy = sum(hits) / 10;
  const weightedAccuracy = sum(hits.map((c, i) => weights10[i] * c)) / sum(weights10);
  expect(plainAccuracy).not.toBeCloseTo(weightedAccuracy, 3); // the data must tell them apart
  const [loss, accuracy, weighted] = await m.evaluate(x, y, { sampleWeight: tensor(weights10), batchSize: 3 });
  closeTo([loss, accuracy, weighted], [sum(losses.map((l, i) => weights10[i] * l)) / 10, plainAccuracy, weightedAccuracy], 1e-12);
  // No weights: the weighted metric is the plain one.
  expect((await m.evaluate(x, y)).slice(1)).toEqual([plainAccuracy, plainAccuracy]);
  // Weights that sum to 0 give 0, as Keras's divide_no_nan.
  expect((await m.evaluate(x, y, { sampleWeight: tensor(weights10.map(() => 0)) }))[2]).toBe(0);
  // fit logs them under Keras's names, and weighs them in training too (by sampleWeight times classWeight).
  const h = await m.fit(x, y, { batchSize: 10, shuffle: false, verbose: 0, sampleWeight: tensor(weights10), classWeight: { 0: 2, 1: 0.5 }, validationData: [x, y, tensor(weights10)] });
  expect(Object.keys(h.history)).toEqual(['loss', 'accuracy', 'weighted_accuracy', 'val_loss', 'val_accuracy', 'val_weighted_accuracy']);
  const trainWeights = weights10.map((w, i) => w * (rows(y)[i] === 0 ? 2 : 0.5));
  closeTo([h.history.accuracy[0], h.history.weighted_accuracy[0]], [plainAccuracy, sum(hits.map((c, i) => trainWeights[i] * c)) / sum(trainWeights)], 1e-12);
  // Validation weighs by sampleWeight only (classWeight is for training).
  expect([h.history.val_loss[0], h.history.val_accuracy[0], h.history.val_weighted_accuracy[0]]).toEqual(await m.evaluate(x, y, { sampleWeight: tensor(weights10) }));
  // Only weighted: logged under its own name.
  const onlyWeighted = oneOutput();
  onlyWeighted.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy', weightedMetrics: ['accuracy'] });
  expect(await onlyWeighted.evaluate(x, y, { sampleWeight: tensor(weights10) })).toHaveLength(2);
  const ho = await onlyWeighted.fit(x, y, { verbose: 0, epochs: 1 });
  expect(Object.keys(ho.history)).toEqual(['loss', 'accuracy']);
});

test('two outputs: weightedMetrics per output weigh by that output\'s sampleWeight; a mean error is Σ w·|p − t| / Σ w', async () => {
  const { xa, xb, y, labels } = twoOutputData(8);
  const wReg = [1, 0.5, 2, 0, 1.5, 1, 0.25, 3];
  const wCls = [0.5, 1, 1, 2, 0, 1, 3, 0.75];
  const model = twoOutputs();
  model.compile({
    optimizer: new SGD({ learningRate: 0.1 }), loss: { reg: 'mse', cls: 'sparse_categorical_crossentropy' }, lossWeights: [1, 0.5],
    metrics: { cls: ['accuracy'] }, weightedMetrics: { reg: ['mae'], cls: ['accuracy'] },
  });
  const [reg, cls] = (await model.predict<Tensor[]>([xa, xb])).map(rows);
  const targets = rows(y), classes = rows(labels);
  const hit = classes.map((c, i) => (cls.slice(3 * i, 3 * i + 3).indexOf(Math.max(...cls.slice(3 * i, 3 * i + 3))) === c ? 1 : 0));
  const result = await model.evaluate([xa, xb], [y, labels], { sampleWeight: { reg: tensor(wReg), cls: tensor(wCls) }, batchSize: 4 });
  closeTo(result, [
    ...twoByHand(model, 8, 4, wReg, wCls),
    sum(hit) / 8,
    sum(reg.map((p, i) => wReg[i] * Math.abs(p - targets[i]))) / sum(wReg),
    sum(hit.map((h, i) => wCls[i] * h)) / sum(wCls),
  ], 1e-12);
  const h = await model.fit([xa, xb], [y, labels], { batchSize: 4, verbose: 0, shuffle: false });
  expect(Object.keys(h.history)).toEqual(['loss', 'reg_loss', 'cls_loss', 'cls_accuracy', 'reg_mae', 'cls_weighted_accuracy']);
});

test('weightedMetrics survive the training config (save and load) and wrong forms are refused naming them', async () => {
  const m = oneOutput();
  m.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'], weightedMetrics: ['accuracy'] });
  const config = JSON.parse(JSON.stringify(m.trainingConfig()));
  expect([config.metrics, config.weightedMetrics]).toEqual([['accuracy'], ['accuracy']]);
  const back = oneOutput();
  back.compileFromConfig(config);
  const { x, y } = data(10);
  expect(await back.evaluate(x, y, { sampleWeight: tensor(weights10) })).toEqual(await m.evaluate(x, y, { sampleWeight: tensor(weights10) }));
  const two = twoOutputs();
  two.compile({ optimizer: 'sgd', loss: ['mse', 'sparse_categorical_crossentropy'], weightedMetrics: [[], ['accuracy']] });
  const twoConfig = JSON.parse(JSON.stringify(two.trainingConfig()));
  const twoBack = twoOutputs();
  twoBack.compileFromConfig(twoConfig);
  expect(twoBack.heads!.map((h) => h.weightedMetrics.map((w) => w.name))).toEqual([[], ['accuracy']]);

  expect(() => m.compile({ optimizer: 'sgd', loss: 'mse', weightedMetrics: 'accuracy' as never })).toThrow('compile: weightedMetrics must be a list of names (e.g. [\'accuracy\']), got "accuracy"');
  expect(() => m.compile({ optimizer: 'sgd', loss: 'mse', weightedMetrics: ['acuracy'] })).toThrow("metrics: unknown metric 'acuracy'");
  expect(() => two.compile({ optimizer: 'sgd', loss: ['mse', 'mse'], weightedMetrics: [['mae'], ['mae'], ['mae']] }))
    .toThrow("compile: weightedMetrics lists 3 entries for the model's 2 outputs (reg, cls)");
  expect(() => two.compile({ optimizer: 'sgd', loss: ['mse', 'mse'], weightedMetrics: { out: ['mae'] } }))
    .toThrow("compile: weightedMetrics names 'out', not an output of the model (outputs: reg, cls)");
  expect(() => back.compileFromConfig({ ...config, weightedMetrics: 'accuracy' })).toThrow('trainingConfig.weightedMetrics must list metric names, got "accuracy"');
});
