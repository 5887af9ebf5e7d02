/** fit, evaluate and predict on datasets, and fit's Keras options: validation, steps, initialEpoch, weights. */
import { Random, Tensor, fromTypedArray, gather, tensor } from '@gradlab/tensor';
import { asVariable } from '@gradlab/autograd';
import { callbacks, layers } from '@gradlab/layers';
import { Sequential } from '../src/models/sequential.js';
import { SGD } from '../src/optimizers/index.js';
import { Dataset } from '../src/data/dataset.js';
import type { Batch } from '../src/data/batching.js';
import { binaryCrossentropy, sparseCategoricalCrossentropy } from '../src/losses.js';
import { data, model, values } from './save-helpers.js';

function compiled(seed = 1, lr = 0.05): Sequential {
  const m = model(8, seed);
  m.compile({ optimizer: new SGD({ lr }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  return m;
}

/** The batches fit trains on, recorded by a callback: their sizes. */
function recorder(): { sizes: number[]; epochs: number[]; callback: callbacks.LambdaCallback } {
  const sizes: number[] = [];
  const epochs: number[] = [];
  return {
    sizes, epochs,
    callback: new callbacks.LambdaCallback({ onBatchBegin: (_b, logs) => { sizes.push(logs!.size); }, onEpochBegin: (e) => { epochs.push(e); } }),
  };
}

test('fit on a dataset trains exactly as fit on the same batches as tensors', async () => {
  const { x, y } = data(64);
  const a = compiled();
  const b = compiled();
  const ha = await a.fit(x, y, { epochs: 2, batchSize: 16, shuffle: false, verbose: 0 });
  const hb = await b.fit(Dataset.fromTensorSlices(x, y).batch(16), { epochs: 2, verbose: 0 });
  expect(hb.history.loss).toEqual(ha.history.loss);
  expect(values(b)).toEqual(values(a));
  expect(hb.params).toEqual({ epochs: 2, steps: 4, verbose: 0 });
});

/** Epoch k's batches of a per-epoch "augmentation": the rows in an order drawn from a generator seeded by k. */
function epochBatches(x: Tensor, y: Tensor, epoch: number): Batch[] {
  const order = Int32Array.from({ length: x.shape[0] }, (_, i) => i);
  new Random(7 + epoch).shuffle(order);
  const batches: Batch[] = [];
  for (let start = 0; start < order.length; start += 8) {
    const rows = fromTypedArray(order.slice(start, start + 8), [8]);
    batches.push({ x: gather(x, rows, 0), y: gather(y, rows, 0) });
  }
  return batches;
}

test('fit reads a fromGenerator dataset once per epoch, passing the epoch as the iteration number', async () => {
  const { x, y } = data(32);
  const seen: number[] = [];
  const augmented = Dataset.fromGenerator(function* (epoch) { seen.push(epoch); yield* epochBatches(x, y, epoch); });
  const m = compiled();
  const h = await m.fit(augmented, { epochs: 3, verbose: 0 });
  expect(seen).toEqual([0, 1, 2]);
  expect(h.history.loss).toHaveLength(3);
  // The same batches, made by hand epoch by epoch (plain SGD keeps no state between fits), give the same weights.
  const byHand = compiled();
  for (let epoch = 0; epoch < 3; epoch++) await byHand.fit(Dataset.fromArray(epochBatches(x, y, epoch)), { epochs: 1, verbose: 0 });
  expect(values(m)).toEqual(values(byHand));
});

test('evaluate agrees between tensors, a dataset and the loss computed by hand (the drift the examples had)', async () => {
  // Dense(2, softmax) with binary crossentropy: the softmax must not be folded into the loss.
  const m = new Sequential([layers.Dense(2, { activation: 'softmax', inputShape: [3] })]);
  m.compile({ optimizer: 'sgd', loss: 'binary_crossentropy' });
  const x = tensor([[1, 2, 3], [0, -1, 2], [3, 1, -2], [0.5, 0.5, 0.5], [-1, -2, 0]]);
  const y = tensor([[1, 0], [0, 1], [1, 0], [0, 1], [1, 0]]);
  const [fromTensors] = await m.evaluate(x, y, { batchSize: 2 });
  const [fromDataset] = await m.evaluate(Dataset.fromTensorSlices(x, y).batch(2));
  const byHand = binaryCrossentropy(m.call(asVariable(x)), y).item();
  expect(fromTensors).toBeCloseTo(byHand, 6);
  expect(fromDataset).toBeCloseTo(byHand, 6);
});

test('predict on a dataset gives the rows predict on tensors gives', async () => {
  const { x, y } = data(20);
  const m = compiled();
  const p1 = await m.predict(x, { batchSize: 8 });
  const p2 = await m.predict(Dataset.fromTensorSlices(x, y).batch(8));
  expect(Array.from(p2.dataSync())).toEqual(Array.from(p1.dataSync()));
  expect(p2.shape).toEqual([20, 2]);
});

test('validationSplit holds out the last fraction; validationData takes tensors or a dataset', async () => {
  const { x, y } = data(50);
  const m = compiled();
  const h = await m.fit(x, y, { epochs: 1, batchSize: 10, validationSplit: 0.2, verbose: 0, shuffle: false });
  // The model after the epoch, evaluated on rows 40…49, is what val_loss reports.
  const last = fromTypedArray(Int32Array.from({ length: 10 }, (_, i) => 40 + i), [10]);
  const [valLoss, valAcc] = await m.evaluate(gather(x, last, 0), gather(y, last, 0));
  expect(h.history.val_loss[0]).toBeCloseTo(valLoss, 6);
  expect(h.history.val_accuracy[0]).toBeCloseTo(valAcc, 6);
  const { sizes, callback } = recorder();
  const m2 = compiled();
  await m2.fit(x, y, { epochs: 1, batchSize: 10, validationSplit: 0.2, verbose: 0, callbacks: [callback] });
  expect(sizes.reduce((a, b) => a + b, 0)).toBe(40); // 40 training rows, 10 held out
  const m3 = compiled();
  const h3 = await m3.fit(Dataset.fromTensorSlices(x, y).batch(10), {
    epochs: 1, verbose: 0, validationData: Dataset.fromTensorSlices(x, y).batch(25), validationSteps: 1,
  });
  const first25 = fromTypedArray(Int32Array.from({ length: 25 }, (_, i) => i), [25]);
  expect(h3.history.val_loss[0]).toBeCloseTo((await m3.evaluate(gather(x, first25, 0), gather(y, first25, 0)))[0], 6);
  await expect(compiled().fit(Dataset.fromTensorSlices(x, y).batch(10), { validationSplit: 0.1, verbose: 0 })).rejects.toThrow(/validationSplit needs tensors/);
});

test('stepsPerEpoch reads one iterator across epochs, and stops when it runs out', async () => {
  const { x, y } = data(40);
  const { sizes, callback } = recorder();
  const m = compiled();
  const h = await m.fit(Dataset.fromTensorSlices(x, y).batch(10).repeat(), { epochs: 3, stepsPerEpoch: 2, verbose: 0, callbacks: [callback] });
  expect([sizes.length, h.epoch]).toEqual([6, [0, 1, 2]]);
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  const m2 = compiled();
  const h2 = await m2.fit(Dataset.fromTensorSlices(x, y).batch(10), { epochs: 5, stepsPerEpoch: 3, verbose: 0 });
  expect(h2.epoch).toEqual([0, 1]); // 4 batches: 3 in epoch 1, 1 in epoch 2, which ends and stops training
  expect(warn.mock.calls[0][0]).toMatch(/ran out of batches in epoch 2 after 1 of 3 steps/);
  warn.mockRestore();
  await expect(compiled().fit(x, y, { stepsPerEpoch: 0, verbose: 0 })).rejects.toThrow(/stepsPerEpoch must be a positive integer, got 0/);
});

test('initialEpoch: fit runs epochs initialEpoch … epochs−1', async () => {
  const { x, y } = data(20);
  const { epochs, callback } = recorder();
  const h = await compiled().fit(x, y, { epochs: 4, initialEpoch: 2, verbose: 0, callbacks: [callback] });
  expect([epochs, h.epoch]).toEqual([[2, 3], [2, 3]]);
});

test('sampleWeight and classWeight weigh each example: Σ wᵢ·lossᵢ / n', async () => {
  const x = tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]]);
  const y = fromTypedArray(Int32Array.of(0, 1, 1, 0), [4]);
  const m = compiled();
  // Each example's crossentropy in the batch of four (BatchNorm normalises over the batch): −log p(label).
  const probabilities = m.call(asVariable(x), { training: true }).data.dataSync();
  const perExample = [0, 1, 1, 0].map((label, i) => -Math.log(probabilities[2 * i + label]));
  const sw = [1, 0, 2, 0.5];
  const first = async (options: object): Promise<number> => {
    const copy = compiled();
    const loss: number[] = [];
    await copy.fit(x, y, { epochs: 1, batchSize: 4, shuffle: false, verbose: 0, ...options, callbacks: [new callbacks.LambdaCallback({ onBatchEnd: (_b, l) => { loss.push(l.loss); } })] });
    return loss[0];
  };
  expect(await first({ sampleWeight: fromTypedArray(Float32Array.from(sw), [4]) })).toBeCloseTo(perExample.reduce((a, l, i) => a + sw[i] * l, 0) / 4, 5);
  const cw = { 0: 3, 1: 0.25 };
  expect(await first({ classWeight: cw })).toBeCloseTo(perExample.reduce((a, l, i) => a + cw[[0, 1, 1, 0][i] as 0 | 1] * l, 0) / 4, 5);
  await expect(compiled().fit(x, y, { classWeight: { 0: 1 }, verbose: 0 })).rejects.toThrow(/classWeight has no weight for class 1/);
  await expect(compiled().fit(x, y, { sampleWeight: tensor([1, 2]), verbose: 0 })).rejects.toThrow(/sampleWeight \[2\] must hold one weight per example, \[4\]/);
});

test('a dataset\'s batches are checked as they come, naming the batch', async () => {
  const good = { x: tensor([[1, 2, 3], [4, 5, 6]]), y: fromTypedArray(Int32Array.of(0, 1), [2]) };
  const bad = { x: tensor([[1, 2, 3], [4, 5, 6]]), y: fromTypedArray(Int32Array.of(0, 7), [2]) };
  await expect(compiled().fit(Dataset.fromArray<Batch>([good, good, bad]), { verbose: 0 }))
    .rejects.toThrow(/fit \(batch 2\): label 7 \(at 1\) of y \[2\] is outside the valid range \[0, 2\)/);
  const one = { x: tensor([[1, 2, 3]]), y: fromTypedArray(Int32Array.of(0), [1]) };
  await expect(compiled().fit(Dataset.fromArray<Batch>([good, one]), { verbose: 0 }))
    .rejects.toThrow(/fit \(batch 1\): BatchNormalization needs at least two real rows in a training batch; this batch has 1 example/);
  const noLabels = { x: tensor([[1, 2, 3], [4, 5, 6]]) } as Batch;
  await expect(compiled().fit(Dataset.fromArray<Batch>([noLabels]), { verbose: 0 })).rejects.toThrow(/fit \(batch 0\): the batch has no y/);
  await expect(compiled().evaluate(Dataset.fromArray<Batch>([bad]))).rejects.toThrow(/evaluate \(batch 0\): label 7/);
});

test('a masked sequence batch from Dataset.batch trains an LSTM; padding does not change the loss', async () => {
  const seq = (frames: number, label: number): { x: Tensor; y: number } => ({
    x: fromTypedArray(Float32Array.from({ length: frames * 2 }, (_, i) => Math.sin(i + label)), [frames, 2]), y: label,
  });
  const make = (): Sequential => {
    const m = new Sequential([layers.LSTM(4, { inputShape: [null, 2] }), layers.Dense(2, { activation: 'softmax' })]);
    m.compile({ optimizer: new SGD({ lr: 0.1 }), loss: 'sparse_categorical_crossentropy' });
    return m;
  };
  // The same two sequences alone (no padding) and beside a longer one (padded): their losses agree.
  const short = [seq(2, 0), seq(3, 1)];
  const m = make();
  const [alone] = await m.evaluate(Dataset.fromArray(short).batch(2));
  const padded = await Dataset.fromArray([...short, seq(6, 0)]).batch(3).toArray();
  expect(padded[0].mask!.shape).toEqual([3, 6]);
  const perRow = await m.predict(Dataset.fromArray(padded));
  const unpadded = await m.predict(Dataset.fromArray(short).batch(2));
  expect(Array.from(perRow.dataSync()).slice(0, 4).map((v) => v.toFixed(5))).toEqual(Array.from(unpadded.dataSync()).map((v) => v.toFixed(5)));
  expect(Number.isFinite(alone)).toBe(true);
  const h = await m.fit(Dataset.fromArray([...short, seq(6, 0)]).batch(3), { epochs: 2, verbose: 0 });
  expect(h.history.loss.every(Number.isFinite)).toBe(true);
});

test('no silent no-op training: an unbuilt model has no parameters to give, an optimizer refuses an empty list', async () => {
  const unbuilt = new Sequential([layers.Dense(4), layers.Dense(2, { activation: 'softmax' })]);
  expect(() => unbuilt.parameters()).toThrow(/parameters\(\): the model is not built yet, so it has no weights; give the first layer an inputShape/);
  expect(() => new SGD([])).toThrow(/SGD: given no parameters to update \(an empty list\)\. If they come from model\.parameters\(\), build the model first/);
  expect(() => new SGD({ lr: 0.1 }).step()).toThrow(/SGD: step\(\) has no parameters to update/);
  // Compiled before it is built, the model gets its weights into the optimizer at the first batch, and trains.
  const { x, y } = data(32);
  unbuilt.compile({ optimizer: new SGD({ lr: 0.5 }), loss: 'sparse_categorical_crossentropy' });
  const h = await unbuilt.fit(x, y, { epochs: 3, batchSize: 32, verbose: 0, shuffle: false });
  expect(unbuilt.optimizer!.params.length).toBe(4);
  expect(h.history.loss[2]).toBeLessThan(h.history.loss[0]);
  // The PyTorch-style loop on a built model trains too (the loss after 20 steps is below the first).
  const built = new Sequential([layers.Dense(8, { activation: 'relu', inputShape: [3] }), layers.Dense(2, { activation: 'softmax' })]);
  const opt = new SGD(built.parameters(), { lr: 0.5 });
  const losses: number[] = [];
  for (let i = 0; i < 20; i++) {
    const loss = sparseCategoricalCrossentropy(built.call(asVariable(x), { training: true }), y);
    opt.zeroGrad();
    loss.backward();
    opt.step();
    losses.push(loss.item());
  }
  expect(losses[19]).toBeLessThan(losses[0] * 0.9);
});

test('a callback that stops training at the first batch still ends the epoch (and closes the dataset)', async () => {
  const { x, y } = data(64);
  let closed = false;
  const batches = Dataset.fromGenerator(async function* () {
    try { for (const b of await Dataset.fromTensorSlices(x, y).batch(16).toArray()) yield b; } finally { closed = true; }
  });
  const m = compiled();
  const stop = new callbacks.LambdaCallback({ onBatchEnd: () => { m.stopTraining = true; } });
  const h = await m.fit(batches, { epochs: 3, verbose: 0, callbacks: [stop] });
  expect(h.epoch).toEqual([0]);
  expect(closed).toBe(true);
});

test('fit, evaluate and predict refuse option names they do not know, naming them (and Keras spellings get a hint)', async () => {
  const { x, y } = data(8);
  const m = compiled();
  const ds = Dataset.fromTensorSlices(x, y).batch(4);
  await expect(m.fit(x, y, { epoch: 5 } as never)).rejects.toThrow(/fit: unknown option 'epoch'; fit knows epochs, batchSize, .*callbacks, verbose, output/);
  await expect(m.fit(ds, { batch_size: 4, validation_data: ds } as never)).rejects.toThrow(
    "fit: unknown options 'batch_size' (gradlab spells it 'batchSize'), 'validation_data' (gradlab spells it 'validationData')");
  await expect(m.fit(x, y, 5 as never)).rejects.toThrow('fit: options must be an object ({ epochs, batchSize, … }), got 5');
  await expect(m.evaluate(x, y, { verbose: 0 } as never)).rejects.toThrow("evaluate: unknown option 'verbose'; evaluate knows batchSize, steps");
  await expect(m.evaluate(ds, { batchsize: 4 } as never)).rejects.toThrow("evaluate: unknown option 'batchsize'");
  await expect(m.predict(x, { batch_size: 4 } as never)).rejects.toThrow("predict: unknown option 'batch_size' (gradlab spells it 'batchSize')");
  // Known names still pass.
  await expect(m.evaluate(x, y, { batchSize: 4, steps: 1 })).resolves.toHaveLength(2);
});
