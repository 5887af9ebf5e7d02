/**
 * The functional API: Input, layers applied to symbolic tensors, merge layers (Add, Concatenate), and a
 * model from inputs and outputs that computes what its layers compute by hand, trains like Sequential,
 * prints its summary, and saves and loads.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { F, Variable, asVariable, noGrad } from '@gradlab/autograd';
import { fromTypedArray, randn, setSeed, tensor } from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import { layers, models, Dataset, Add, Concatenate, SymbolicTensor } from '@gradlab/layers';
import { Model } from '../src/models/model.js';
import { Functional } from '../src/models/functional.js';
import { Sequential } from '../src/models/sequential.js';
import { SGD } from '../src/optimizers/index.js';
import { data, rewriteManifest, values } from './save-helpers.js';
import { take, twoInputData, twoOutputData, twoOutputs } from './functional-helpers.js';

let dir: string;
beforeEach(async () => { dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gradlab-functional-')); });
afterEach(async () => { await fs.rm(dir, { recursive: true, force: true }); });

const rows = (t: { dataSync(): ArrayLike<number> }): number[] => Array.from(t.dataSync());

/** x → Dense(8, relu) = h → h + Dense(8, tanh)(h) → Dense(2, softmax): a residual block. */
function residual(seed = 1): { model: Functional; dense: Array<ReturnType<typeof layers.Dense>> } {
  setSeed(seed);
  const x = layers.Input({ shape: [3] });
  const d1 = layers.Dense(8, { activation: 'relu' });
  const d2 = layers.Dense(8, { activation: 'tanh' });
  const d3 = layers.Dense(2, { activation: 'softmax' });
  const h = d1.apply(x);
  const out = d3.apply(layers.add([h, d2.apply(h)]));
  return { model: models.model({ inputs: x, outputs: out }), dense: [d1, d2, d3] };
}

test('layers applied to an Input give symbolic tensors with their shapes, and build at once', () => {
  const x = layers.Input({ shape: [5, 4] });
  expect(x).toBeInstanceOf(SymbolicTensor);
  expect(x.shape).toEqual([null, 5, 4]);
  const d = layers.Dense(6);
  const y = d.apply(x);
  expect(y.shape).toEqual([null, 5, 6]);
  expect(d.built).toBe(true);
  expect(layers.concatenate([y, layers.Dense(2).apply(x)]).shape).toEqual([null, 5, 8]);
  expect(layers.concatenate([y, y], { axis: 1 }).shape).toEqual([null, 10, 6]);
  expect(layers.add([y, layers.Dense(6).apply(x)]).shape).toEqual([null, 5, 6]);
});

test('a residual model computes what its layers compute by hand', async () => {
  const { model, dense: [d1, d2, d3] } = residual();
  const x = tensor([[1, -2, 0.5], [0, 1, 2], [3, 0, -1]]);
  const byHand = noGrad(() => {
    const h = d1.apply(asVariable(x));
    return d3.apply(h.add(d2.apply(h))).data;
  });
  expect(rows(await model.predict(x))).toEqual(rows(byHand));
  expect(model.className).toBe('Functional');
  expect(model.layers.map((l) => l.className)).toEqual(['InputLayer', 'Dense', 'Dense', 'Add', 'Dense']);
});

test('new Model({ inputs, outputs }) is the same functional model (Keras\'s keras.Model(inputs, outputs))', async () => {
  setSeed(2);
  const x = layers.Input({ shape: [3] });
  const d = layers.Dense(2, { activation: 'softmax' });
  const m = new Model({ inputs: x, outputs: d.apply(x) });
  expect(m).toBeInstanceOf(Functional);
  const input = tensor([[1, 2, 3]]);
  expect(rows(await m.predict(input))).toEqual(rows(noGrad(() => d.apply(asVariable(input)).data)));
});

test('a chain made with the functional API trains exactly as the same layers in a Sequential (the softmax folded into the loss alike)', async () => {
  const { x, y } = data(32);
  setSeed(5);
  const seq = new Sequential([layers.Dense(8, { activation: 'relu', inputShape: [3] }), layers.Dense(2, { activation: 'softmax' })]);
  setSeed(5);
  const input = layers.Input({ shape: [3] });
  const fn = models.model({ inputs: input, outputs: layers.Dense(2, { activation: 'softmax' }).apply(layers.Dense(8, { activation: 'relu' }).apply(input)) });
  expect(values(fn)).toEqual(values(seq));
  for (const m of [seq, fn]) m.compile({ optimizer: new SGD({ lr: 0.1 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  const hs = await seq.fit(x, y, { epochs: 3, batchSize: 8, shuffle: false, verbose: 0 });
  const hf = await fn.fit(x, y, { epochs: 3, batchSize: 8, shuffle: false, verbose: 0 });
  expect(hf.history.loss).toEqual(hs.history.loss);
  expect(values(fn)).toEqual(values(seq));
  expect(await fn.evaluate(x, y)).toEqual(await seq.evaluate(x, y));
  // Labels out of range are refused as for Sequential: the functional model knows its number of classes.
  await expect(fn.fit(x, fromTypedArray(new Int32Array(32).fill(2), [32]), { verbose: 0 })).rejects.toThrow(/label 2 .* outside the valid range \[0, 2\)/);
});

test('fit on a dataset lowers the loss; evaluate and predict work; a shared layer counts its weights once', async () => {
  const { x, y } = data(48);
  setSeed(3);
  const input = layers.Input({ shape: [3] });
  const shared = layers.Dense(3, { activation: 'tanh' });
  const twice = shared.apply(shared.apply(input)); // the same weights, applied twice
  const out = layers.Dense(2, { activation: 'softmax' }).apply(layers.concatenate([twice, layers.Dense(4, { activation: 'relu' }).apply(input)]));
  const m = models.model({ inputs: input, outputs: out });
  expect(m.layers.filter((l) => l === shared)).toHaveLength(1);
  expect(m.countParams().total).toBe((3 * 3 + 3) + (3 * 4 + 4) + (7 * 2 + 2));
  m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  const ds = Dataset.fromTensorSlices(x, y).batch(16);
  const h = await m.fit(ds, { epochs: 8, verbose: 0 });
  expect(h.history.loss[7]).toBeLessThan(h.history.loss[0]);
  const [loss] = await m.evaluate(ds);
  expect(Number.isFinite(loss)).toBe(true);
  expect((await m.predict(ds)).shape).toEqual([48, 2]);
});

test('summary lists every layer with its output shape, parameters and what it is connected to, as Keras prints a functional model', () => {
  const { model } = residual();
  const printed: string[] = [];
  model.summary({ printFn: (l) => printed.push(l) });
  const text = printed.join('\n');
  const lines = text.split('\n');
  expect(text).toMatch(/input_layer\S* \(InputLayer\)\s+\(None, 3\)\s+0\s+\[\]/);
  expect(text).toMatch(/\(Dense\)\s+\(None, 2\)\s+18\s+\['add\S*\[0\]\[0\]'\]/);
  expect(text).toMatch(/Total params: 122/); // 3·8+8 + 8·8+8 + 8·2+2
  expect(lines[1]).toBe('_'.repeat(98)); // Keras's width for a functional model, with a fourth column
  expect(lines[2]).toMatch(/^ Layer \(type\)\s+Output Shape\s+Param #\s+Connected to\s*$/);
  // The Add row names both its inputs: the first Dense's output and the second's.
  const names = model.layers.map((l) => l.name);
  const addRow = lines.find((l) => l.includes('(Add)'))!;
  expect(addRow).toContain(`['${names[1]}[0][0]',`);
  expect(lines[lines.indexOf(addRow) + 1]).toContain(`'${names[2]}[0][0]']`); // wrapped after "'," as Keras does

  // A shared layer: 'multiple' output shapes, and each call's input, the second call's being the first call's output.
  setSeed(1);
  const x = layers.Input({ shape: [4], name: 'x_in' });
  const shared = layers.Dense(4, { name: 'shared' });
  const m = models.model({ inputs: x, outputs: shared.apply(shared.apply(x)) });
  const rowsOf = m.summary({ printFn: () => undefined }).split('\n');
  const sharedRow = rowsOf.find((l) => l.startsWith(' shared (Dense)'))!;
  expect(sharedRow).toMatch(/^ shared \(Dense\)\s+multiple\s+20\s+\['x_in\[0\]\[0\]',\s*$/);
  expect(rowsOf[rowsOf.indexOf(sharedRow) + 1].trim()).toBe("'shared[0][0]']");
});

test('save and load: the loaded model is functional, predicts the same, and resumes training alike', async () => {
  const { x, y } = data(24);
  const { model } = residual(4);
  model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy' });
  await model.fit(x, y, { epochs: 2, batchSize: 8, shuffle: false, verbose: 0 });
  await model.save(dir);
  const loaded = await models.load(dir);
  expect(loaded).toBeInstanceOf(Functional);
  expect(rows(await loaded.predict(x))).toEqual(rows(await model.predict(x)));
  await model.fit(x, y, { epochs: 1, batchSize: 8, shuffle: false, verbose: 0 });
  await loaded.fit(x, y, { epochs: 1, batchSize: 8, shuffle: false, verbose: 0 });
  expect(values(loaded)).toEqual(values(model));
});

test('a crafted graph in a saved file is refused with a load error naming the node', async () => {
  const { model } = residual();
  await model.save(dir);
  await rewriteManifest(dir, (f) => { (f.model.config.nodes as unknown[][])[2] = [2, [5]]; });
  await expect(models.load(dir)).rejects.toThrow(/models\.load: .*nodes\[2\] must be \[a layer index below 5, input node indices below 2\], got \[2,\[5\]\]/);
  await rewriteManifest(dir, (f) => { const n = f.model.config.nodes as unknown[][]; n[2] = [2, [1]]; n[0] = [1, []]; n[1] = [0, [0]]; });
  await expect(models.load(dir)).rejects.toThrow(/models\.load: .*node 0 must be an InputLayer \(input 0 of the model\), got Dense/);
  await rewriteManifest(dir, (f) => { (f.model.config.nodes as unknown[][]).pop(); });
  await expect(models.load(dir)).rejects.toThrow(/models\.load: .*5 layers but the nodes use 4 of them/);
});

test('what the functional API refuses, and says why', () => {
  const x = layers.Input({ shape: [3] });
  const other = layers.Input({ shape: [3] });
  const d = layers.Dense(4);
  const a = d.apply(x);
  expect(() => models.model({ inputs: [x, other], outputs: a })).toThrow(/no output depends on the input 'input_layer\S*'/);
  expect(() => models.model({ inputs: x, outputs: [a, a] })).toThrow(/outputs lists the same tensor twice/);
  expect(() => models.model({ inputs: x, outputs: [a, d.apply(x)] })).toThrow("models.model: two outputs come from layer 'dense_");
  expect(() => models.model({ inputs: x, outputs: layers.Dense(2).apply(other) })).toThrow(/the output depends on the input 'input_layer\S*' \(None, 3\), which is not among the model's inputs/);
  expect(() => models.model({ inputs: other, outputs: a })).toThrow(/depends on the input/);
  expect(() => models.model({ inputs: x, outputs: x })).toThrow('models.model: the output is an input itself; apply at least one layer between them');
  expect(() => layers.add([a, layers.Dense(5).apply(x)])).toThrow(/add\S* \(Add\): inputs must all have one shape, got \(None, 4\), \(None, 5\)/);
  expect(() => layers.concatenate([layers.Input({ shape: [2, 3] }), layers.Input({ shape: [4, 5] })])).toThrow(/inputs must agree on every axis but -1/);
  expect(() => new Add().apply([a])).toThrow(/needs at least 2 inputs, got 1/);
  expect(() => d.apply([a, a])).toThrow(/takes one input, got a list of 2/);
  expect(() => new Concatenate().apply(a)).toThrow(/takes a list of inputs/);
  expect(() => d.apply(layers.Input({ shape: [7] }))).toThrow(/was built for inputs \(None, 3\) and cannot take \(None, 7\)/);
  expect(() => layers.Input({ shape: [0] })).toThrow(/shape must list positive integers/);
  expect(() => layers.Input({ shape: [3], dtype: 'int32' } as never)).toThrow("Input: unknown option 'dtype' (known: shape, name)");
  const m = models.model({ inputs: x, outputs: a });
  expect(() => m.call(asVariable(tensor([[1, 2]])))).toThrow(/expects inputs \(None, 3\), got \[1,2\]/);
  // Merge layers eagerly, on values: Add sums, Concatenate joins.
  const p = new Variable(tensor([[1, 2]]));
  const q = new Variable(tensor([[10, 20]]));
  expect(rows(new Add().apply([p, q]).data)).toEqual([11, 22]);
  expect(rows(new Concatenate().apply([p, q]).data)).toEqual([1, 2, 10, 20]);
});

test('masks flow through the graph as through Sequential: Embedding(maskZero) → LSTM gives the same outputs either way', async () => {
  setSeed(9);
  const input = layers.Input({ shape: [null] }); // sequences of any length
  const embed = layers.Embedding(10, 4, { maskZero: true });
  const lstm = layers.LSTM(3);
  const dense = layers.Dense(2, { activation: 'softmax' });
  const fn = models.model({ inputs: input, outputs: dense.apply(lstm.apply(embed.apply(input))) });
  const seq = new Sequential([embed, lstm, dense]); // the same layer objects
  const ids = tensor([[3, 4, 0, 0, 0], [1, 2, 3, 4, 5]]);
  const out = rows(await fn.predict(ids));
  expect(out).toEqual(rows(await seq.predict(ids)));
  // The padding is masked: the first row equals the same ids without the padding.
  expect(out.slice(0, 2)).toEqual(rows(await fn.predict(tensor([[3, 4]]))));
});

// ---- several inputs ------------------------------------------------------------------------------

/** Two inputs: tanh(Dense(4)) of xa [3 features] and of xb [2 features], concatenated, then a linear Dense(1). */
function twoInputs(seed = 5, float64 = true) {
  setSeed(seed);
  const a = layers.Input({ shape: [3] });
  const b = layers.Input({ shape: [2] });
  const da = layers.Dense(4, { activation: 'tanh' });
  const db = layers.Dense(4, { activation: 'tanh' });
  const out = layers.Dense(1);
  const model = models.model({ inputs: [a, b], outputs: out.apply(layers.concatenate([da.apply(a), db.apply(b)])) });
  // float64 throughout, so that a hand computation can be held to 1e-12 (save/load keeps float32: a layer has no dtype option yet).
  if (float64) for (const w of model.parameters()) w.data = w.data.astype('float64');
  return { model, dense: [da, db, out] };
}

test('a two-input model trains as the same computation written by hand with autograd (float64, to 1e-12)', async () => {
  const { model } = twoInputs();
  const { xa, xb, y } = twoInputData(8);
  // The hand version's own copies of the initial weights: [Ka, ba, Kb, bb, Ko, bo].
  const w = model.parameters().map((p) => new Variable(p.data.clone(), { requiresGrad: true }));
  const [Ka, ba, Kb, bb, Ko, bo] = w;
  const lr = 0.1;
  const handStep = (from: number): number => {
    const pick = (t: Tensor) => asVariable(take(t, from, 4));
    const h = F.concat([pick(xa).matmul(Ka).add(ba).tanh(), pick(xb).matmul(Kb).add(bb).tanh()], -1);
    const loss = h.matmul(Ko).add(bo).sub(pick(y)).square().mean();
    for (const v of w) v.grad = null;
    loss.backward();
    for (const v of w) v.data = v.data.sub(v.grad!.mul(lr));
    return loss.data.dataSync()[0];
  };
  model.compile({ optimizer: new SGD({ learningRate: lr }), loss: 'mse' });
  const history = await model.fit([xa, xb], y, { epochs: 3, batchSize: 4, shuffle: false, verbose: 0 });
  for (let epoch = 0; epoch < 3; epoch++) {
    const byHand = (handStep(0) * 4 + handStep(4) * 4) / 8; // fit's epoch loss: the batches' mean
    expect(Math.abs(history.history.loss[epoch] - byHand)).toBeLessThan(1e-12);
  }
  model.parameters().forEach((p, i) => {
    const got = rows(p.data);
    rows(w[i].data).forEach((v, k) => expect(Math.abs(got[k] - v)).toBeLessThan(1e-12));
  });
  // evaluate and predict take the same list.
  const [loss] = await model.evaluate([xa, xb], y, { batchSize: 3 });
  const pred = await model.predict([xa, xb], { batchSize: 3 });
  const mse = rows(pred).reduce((s, p, i) => s + (p - rows(y)[i]) ** 2, 0) / 8;
  expect(Math.abs(loss - mse)).toBeLessThan(1e-12);
  expect(pred.shape).toEqual([8, 1]);
});

test('a two-input model saves and loads: same graph, same predictions, and it trains on alike', async () => {
  const { model } = twoInputs(6, false);
  const { xa, xb, y } = twoInputData(6, 'float32');
  model.compile({ optimizer: 'adam', loss: 'mse' });
  await model.fit([xa, xb], y, { epochs: 2, batchSize: 3, shuffle: false, verbose: 0 });
  await model.save(dir);
  const loaded = await models.load(dir);
  expect(loaded).toBeInstanceOf(Functional);
  expect((loaded as Functional).inputShapes).toEqual([[null, 3], [null, 2]]);
  expect(rows(await loaded.predict([xa, xb]))).toEqual(rows(await model.predict([xa, xb])));
  await model.fit([xa, xb], y, { epochs: 1, batchSize: 3, shuffle: false, verbose: 0 });
  await loaded.fit([xa, xb], y, { epochs: 1, batchSize: 3, shuffle: false, verbose: 0 });
  expect(values(loaded)).toEqual(values(model));
  // Summary: both inputs, and the concatenation connected to both towers.
  const text = model.summary({ printFn: () => undefined });
  expect(text.match(/InputLayer/g)).toHaveLength(2);
  expect(text).toMatch(/input_layer\S* \(InputLayer\)\s+\(None, 2\)/);
  expect(text).toMatch(/concatenate\S* \(Concatenate\)\s+\(None, 8\)\s+0\s+\['dense\S+\[0\]\[0\]',\s+'dense\S+\[0\]\[0\]'\]/);
});

test('a two-input model refuses x with the wrong number of tensors or shapes, naming the counts and shapes', async () => {
  const { model } = twoInputs();
  const { xa, xb, y } = twoInputData(4);
  model.compile({ optimizer: 'sgd', loss: 'mse' });
  await expect(model.fit([xa], y, { verbose: 0 })).rejects.toThrow(/fit: expects 2 inputs \(None, 3\), \(None, 2\), got 1 tensor \[4,3\]/);
  await expect(model.fit([xa, xb, xb], y, { verbose: 0 })).rejects.toThrow(/fit: expects 2 inputs \(None, 3\), \(None, 2\), got 3 tensors \[4,3\], \[4,2\], \[4,2\]/);
  await expect(model.fit([xb, xa], y, { verbose: 0 })).rejects.toThrow(/fit: expects 2 inputs \(None, 3\), \(None, 2\), got 2 tensors \[4,2\], \[4,3\]/);
  await expect(model.evaluate([xa, randn([3, 2], { dtype: 'float64' })], y)).rejects.toThrow(/evaluate: x\[1\] \[3,2\] and y \[4,1\] must have the same number of examples/);
  await expect(model.predict(xa)).rejects.toThrow(/expects 2 inputs \(None, 3\), \(None, 2\) as a list, got one tensor \[4,3\]/);
  await expect(model.predict([xa, randn([3, 2], { dtype: 'float64' })])).rejects.toThrow(/predict: x\[1\] \[3,2\] does not have the 4 examples of x\[0\]/);
  // A one-input model refuses a list.
  const { model: one } = residual();
  one.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy' });
  await expect(one.predict([tensor([[1, 2, 3]]), tensor([[1, 2, 3]])])).rejects.toThrow(/predict: expects inputs \(None, 3\), got 2 tensors \[1,3\], \[1,3\]/);
  // A dataset's batches are checked alike as they come.
  await expect(model.fit(Dataset.fromArray([{ x: [xa, xb], y }, { x: [xb], y }]), { verbose: 0 })).rejects.toThrow(/fit \(batch 1\): expects 2 inputs \(None, 3\), \(None, 2\), got 1 tensor \[4,2\]/);
});

// ---- several outputs -----------------------------------------------------------------------------

test('a two-input two-output model trains as the same computation written by hand with autograd (float64, to 1e-12), logs named as Keras', async () => {
  const model = twoOutputs();
  const { xa, xb, y, labels, oneHot } = twoOutputData(8);
  const w = model.parameters().map((p) => new Variable(p.data.clone(), { requiresGrad: true }));
  const [Ka, ba, Kb, bb, Kr, br, Kc, bc] = w;
  const lr = 0.1;
  const rowsFrom = (t: Tensor, from: number) => asVariable(take(t, from, 4));
  /** One SGD step by hand: total = 1·mse(reg) + 0.5·crossentropy(cls); returns [total, reg loss, cls loss]. */
  const handStep = (from: number): number[] => {
    const h = F.concat([rowsFrom(xa, from).matmul(Ka).add(ba).tanh(), rowsFrom(xb, from).matmul(Kb).add(bb).tanh()], -1);
    const regLoss = h.matmul(Kr).add(br).sub(rowsFrom(y, from)).square().mean();
    const logits = h.matmul(Kc).add(bc);
    const clsLoss = F.logSumExp(logits, -1).sub(logits.mul(rowsFrom(oneHot, from)).sum(-1)).mean();
    const total = regLoss.mul(1).add(clsLoss.mul(0.5));
    for (const v of w) v.grad = null;
    total.backward();
    for (const v of w) v.data = v.data.sub(v.grad!.mul(lr));
    return [total, regLoss, clsLoss].map((v) => v.data.dataSync()[0]);
  };
  model.compile({ optimizer: new SGD({ learningRate: lr }), loss: { cls: 'sparse_categorical_crossentropy', reg: 'mse' }, lossWeights: [1, 0.5], metrics: { cls: ['accuracy'] } });
  const history = await model.fit([xa, xb], [y, labels], { epochs: 3, batchSize: 4, shuffle: false, verbose: 0 });
  expect(Object.keys(history.history)).toEqual(['loss', 'reg_loss', 'cls_loss', 'cls_accuracy']);
  for (let epoch = 0; epoch < 3; epoch++) {
    const first = handStep(0);
    const second = handStep(4);
    ['loss', 'reg_loss', 'cls_loss'].forEach((name, k) => {
      expect(Math.abs(history.history[name][epoch] - (first[k] + second[k]) / 2)).toBeLessThan(1e-12);
    });
  }
  model.parameters().forEach((p, i) => {
    const got = rows(p.data);
    rows(w[i].data).forEach((v, k) => expect(Math.abs(got[k] - v)).toBeLessThan(1e-12));
  });
  // predict gives one tensor per output; evaluate [loss, reg_loss, cls_loss, cls_accuracy] from them.
  const [reg, cls] = await model.predict<Tensor[]>([xa, xb], { batchSize: 3 });
  expect(reg.shape).toEqual([8, 1]);
  expect(cls.shape).toEqual([8, 3]);
  const regLoss = rows(reg).reduce((s, p, i) => s + (p - rows(y)[i]) ** 2, 0) / 8;
  const clsLoss = rows(labels).reduce((s, c, i) => s - Math.log(rows(cls)[3 * i + c]), 0) / 8;
  const correct = rows(labels).filter((c, i) => rows(cls).slice(3 * i, 3 * i + 3).every((p) => p <= rows(cls)[3 * i + c])).length;
  const scores = await model.evaluate([xa, xb], [y, labels], { batchSize: 8 });
  [regLoss + 0.5 * clsLoss, regLoss, clsLoss].forEach((v, k) => expect(Math.abs(scores[k] - v)).toBeLessThan(1e-9));
  expect(scores[3]).toBe(correct / 8);
});

test('a two-output model saves and loads: the same outputs and compile arguments, predictions identical, and trains on alike', async () => {
  const model = twoOutputs(8, false);
  const { xa, xb, y, labels } = twoOutputData(6, 'float32');
  model.compile({ optimizer: 'adam', loss: ['mse', 'sparse_categorical_crossentropy'], lossWeights: { cls: 0.25 }, metrics: [[], ['accuracy']] });
  await model.fit([xa, xb], [y, labels], { epochs: 2, batchSize: 3, shuffle: false, verbose: 0 });
  await model.save(dir);
  const loaded = await models.load(dir) as Functional;
  expect(loaded.outputShapes).toEqual([[null, 1], [null, 3]]);
  const before = await model.predict<Tensor[]>([xa, xb]);
  const after = await loaded.predict<Tensor[]>([xa, xb]);
  expect(after.map(rows)).toEqual(before.map(rows));
  // compile came back from the file (each output's loss, weight and metrics), and Adam's state with it.
  expect(loaded.heads!.map((h) => [h.name, h.loss.kind, h.weight, h.metrics.map((m) => m.name)])).toEqual([
    ['reg', 'mean_squared_error', 1, []], ['cls', 'sparse_categorical_crossentropy', 0.25, ['accuracy']]]);
  const trained = await model.fit([xa, xb], [y, labels], { epochs: 1, batchSize: 3, shuffle: false, verbose: 0 });
  const resumed = await loaded.fit([xa, xb], [y, labels], { epochs: 1, batchSize: 3, shuffle: false, verbose: 0 });
  expect(resumed.history).toEqual(trained.history);
  expect(values(loaded)).toEqual(values(model));
  // A crafted outputs entry is refused with a load error naming it.
  await rewriteManifest(dir, (f) => { (f.trainingConfig as { outputs: unknown[] }).outputs[1] = { name: 'cls', loss: 'mse' }; });
  await expect(models.load(dir)).rejects.toThrow(/cannot restore its training configuration: .*trainingConfig\.outputs must list \{ name, loss: \{ name, fromLogits \}, weight, metrics, weightedMetrics\? \} per output/);
  await rewriteManifest(dir, (f) => { (f.trainingConfig as { outputs: Array<{ name: string }> }).outputs[1] = { name: 'clss', loss: { name: 'mse', fromLogits: false }, weight: 1, metrics: [] } as never; });
  await expect(models.load(dir)).rejects.toThrow(/compile: loss names 'clss', not an output of the model \(outputs: reg, cls\)/);
  const text = model.summary({ printFn: () => undefined });
  expect(text).toMatch(/reg \(Dense\)\s+\(None, 1\)\s+9\s+\['concatenate\S*\[0\]\[0\]'\]/);
  expect(text).toMatch(/cls \(Dense\)\s+\(None, 3\)\s+27\s+\['concatenate\S*\[0\]\[0\]'\]/);
});

test('a two-output model refuses the wrong number of targets or losses, naming counts, shapes and outputs', async () => {
  const model = twoOutputs();
  const { xa, xb, y, labels } = twoOutputData(4);
  expect(() => model.compile({ optimizer: 'sgd', loss: ['mse'] })).toThrow('compile: loss lists 1 entry for the model\'s 2 outputs (reg, cls)');
  expect(() => model.compile({ optimizer: 'sgd', loss: { reg: 'mse', clss: 'mse' } })).toThrow("compile: loss names 'clss', not an output of the model (outputs: reg, cls)");
  expect(() => model.compile({ optimizer: 'sgd', loss: { reg: 'mse' } })).toThrow('compile: no loss for output cls');
  expect(() => model.compile({ optimizer: 'sgd', loss: 'mse', lossWeights: [1, -1] })).toThrow('compile: lossWeights of output cls must be a finite number ≥ 0, got -1');
  model.compile({ optimizer: 'sgd', loss: ['mse', 'sparse_categorical_crossentropy'] });
  await expect(model.fit([xa, xb], y, { verbose: 0 })).rejects.toThrow(/fit: y must be a list of 2 tensors, one per output \(reg \(None, 1\), cls \(None, 3\)\), or an object keyed by their names; got one tensor \[4,1\]/);
  await expect(model.fit([xa, xb], [y, labels, labels], { verbose: 0 })).rejects.toThrow(/fit: y must be a list of 2 tensors, .*; got a list of 3: \[4,1\], \[4\], \[4\]/);
  await expect(model.evaluate([xa, xb], [y, fromTypedArray(new Int32Array(3), [3])])).rejects.toThrow(/evaluate: y\[1\] \(cls\) \[3\] must have the 4 examples of x/);
  await expect(model.fit([xa, xb], [y, fromTypedArray(Int32Array.from([0, 1, 3, 0]), [4])], { verbose: 0 })).rejects.toThrow(/fit \(output cls\): label 3 .* outside the valid range \[0, 3\)/);
  await expect(model.fit([xa], [y, labels], { verbose: 0 })).rejects.toThrow(/fit: expects 2 inputs \(None, 3\), \(None, 2\), got 1 tensor \[4,3\]/);
  await expect(model.fit([xa, xb], [y, labels], { verbose: 0, classWeight: { 0: 1, 1: 2, 2: 1 } }))
    .rejects.toThrow('fit: classWeight is only supported for models with a single output (Keras\'s rule: "class_weight is only supported for Models with a single output"); this model has 2 (reg, cls)');
  expect(() => model.call([asVariable(xa), asVariable(xb)])).toThrow(/has 2 outputs \(reg, cls\); call\(\) returns one: use predict/);
  // A one-output model takes one loss.
  const { model: one } = residual();
  expect(() => one.compile({ optimizer: 'sgd', loss: ['mse', 'mse'] })).toThrow(/compile: this model has one output, so loss is one loss/);
  expect(() => one.compile({ optimizer: 'sgd', loss: 'mse', lossWeights: [1] })).toThrow(/lossWeights weigh the losses of several outputs/);
  one.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy' });
  await expect(one.fit(tensor([[1, 2, 3]]), [fromTypedArray(new Int32Array(1), [1])], { verbose: 0 })).rejects.toThrow(/fit: this model has one output \(dense\S* \(None, 2\)\), so y is one tensor, not a list of 1/);
});

test('a dataset of batches with x and y as lists trains a two-input two-output model as the same tensors do', async () => {
  const { xa, xb, y, labels } = twoOutputData(8);
  const batches = [0, 4].map((from) => ({ x: [take(xa, from, 4), take(xb, from, 4)], y: [take(y, from, 4), take(labels, from, 4)] }));
  const compile = (m: Model) => m.compile({ optimizer: 'adam', loss: ['mse', 'sparse_categorical_crossentropy'], metrics: [['mae'], ['accuracy']] });
  const fromTensors = twoOutputs(3);
  const fromDataset = twoOutputs(3);
  compile(fromTensors);
  compile(fromDataset);
  const a = await fromTensors.fit([xa, xb], [y, labels], { epochs: 2, batchSize: 4, shuffle: false, verbose: 0 });
  const b = await fromDataset.fit(Dataset.fromArray(batches), { epochs: 2, verbose: 0 });
  expect(b.history).toEqual(a.history);
  expect(Object.keys(b.history)).toEqual(['loss', 'reg_loss', 'cls_loss', 'reg_mae', 'cls_accuracy']);
  expect(await fromDataset.evaluate(Dataset.fromArray(batches))).toEqual(await fromTensors.evaluate([xa, xb], [y, labels], { batchSize: 4 }));
  const predicted = await fromDataset.predict<Tensor[]>(Dataset.fromArray(batches));
  expect(predicted.map(rows)).toEqual((await fromTensors.predict<Tensor[]>([xa, xb])).map(rows));
  // validationData as lists: logged under Keras's val_ names, the last epoch's equal to evaluate on it after training.
  const validated = twoOutputs(3);
  compile(validated);
  await expect(validated.fit([xa, xb], [y, labels], { verbose: 0, validationData: [[xb, xb], [y, labels]] }))
    .rejects.toThrow(/fit \(validationData\): expects 2 inputs \(None, 3\), \(None, 2\), got 2 tensors \[8,2\], \[8,2\]/);
  const v = await validated.fit([xa, xb], [y, labels], { epochs: 2, batchSize: 4, shuffle: false, verbose: 0, validationData: [[xa, xb], [y, labels]] });
  expect(Object.keys(v.history)).toEqual(['loss', 'reg_loss', 'cls_loss', 'reg_mae', 'cls_accuracy', 'val_loss', 'val_reg_loss', 'val_cls_loss', 'val_reg_mae', 'val_cls_accuracy']);
  const after = await validated.evaluate([xa, xb], [y, labels], { batchSize: 4 });
  expect([v.history.val_loss[1], v.history.val_reg_loss[1], v.history.val_cls_loss[1], v.history.val_reg_mae[1], v.history.val_cls_accuracy[1]]).toEqual(after);
});
