/** Training that used to go wrong without a word: a last batch of one, a NaN loss, a nonsensical batchSize. */
import { fromTypedArray } from '@gradlab/tensor';
import { callbacks } from '@gradlab/layers';
import { Sequential, batchBounds } from '../src/models/sequential.js';
import { SGD } from '../src/optimizers/index.js';
import { data, model } from './save-helpers.js';

afterEach(() => jest.restoreAllMocks());

function compiled(lr = 0.01): Sequential {
  const m = model(8, 1);
  m.compile({ optimizer: new SGD({ lr }), loss: 'sparse_categorical_crossentropy' });
  return m;
}

/** The size of every batch that fit trains on, epoch by epoch. */
function batchSizes(): { sizes: number[]; callback: callbacks.LambdaCallback } {
  const sizes: number[] = [];
  return { sizes, callback: new callbacks.LambdaCallback({ onBatchBegin: (_b, logs) => { sizes.push(logs!.size); } }) };
}

test('a last batch of one example joins the batch before it, so BatchNormalization completes the epoch', async () => {
  const { x, y } = data(33);
  const m = compiled();
  const { sizes, callback } = batchSizes();
  const history = await m.fit(x, y, { epochs: 2, batchSize: 32, verbose: 0, callbacks: [callback] });
  expect(sizes).toEqual([33, 33]);
  expect(history.history.loss.every(Number.isFinite)).toBe(true);
  expect(batchBounds(65, 32)).toEqual([[0, 32], [32, 65]]);
  expect(batchBounds(64, 32)).toEqual([[0, 32], [32, 64]]);
  expect(batchBounds(66, 32)).toEqual([[0, 32], [32, 64], [64, 66]]);
  expect(batchBounds(1, 32)).toEqual([[0, 1]]);
  expect(batchBounds(3, 1)).toEqual([[0, 1], [1, 2], [2, 3]]); // batch size 1 is asked for: kept
});

/** 64 examples whose 40th holds a NaN: the loss of the batch that contains it is NaN. */
function dataWithNaN(): ReturnType<typeof data> {
  const { x, y } = data(64);
  const xs = Float32Array.from(x.dataSync());
  xs[40 * 3] = NaN;
  return { x: fromTypedArray(xs, [64, 3]), y };
}

test('TerminateOnNaN stops at the end of the first batch whose loss is NaN, as Keras', async () => {
  const { x, y } = dataWithNaN();
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  const { sizes, callback } = batchSizes();
  const history = await compiled().fit(x, y, { epochs: 5, batchSize: 16, shuffle: false, verbose: 0, callbacks: [callback, new callbacks.TerminateOnNaN()] });
  expect(sizes).toEqual([16, 16, 16]); // the NaN is in rows 32–47, the third batch
  expect(history.epoch).toEqual([0]);
  expect(history.history.loss[0]).toBeNaN();
  expect(log).toHaveBeenCalledWith('Batch 2: Invalid loss, terminating training');
});

test('without TerminateOnNaN, a NaN loss is warned about once, naming the epoch and batch, and training goes on as Keras', async () => {
  const { x, y } = dataWithNaN();
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  const history = await compiled().fit(x, y, { epochs: 3, batchSize: 16, shuffle: false, verbose: 0 });
  expect(history.epoch).toEqual([0, 1, 2]);
  expect(warn).toHaveBeenCalledTimes(1);
  expect(warn.mock.calls[0][0]).toMatch(/\(Sequential\): fit: the loss is NaN at epoch 1, batch 3, .*TerminateOnNaN/);
});

test('a diverging learning rate (SGD lr 1e4) is caught the same way', async () => {
  const { x, y } = data(64);
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  const history = await compiled(1e4).fit(x, y, { epochs: 20, batchSize: 8, verbose: 0, callbacks: [new callbacks.TerminateOnNaN()] });
  expect(history.epoch.length).toBeLessThan(20);
  expect(Number.isFinite(history.history.loss[history.epoch.length - 1])).toBe(false);
});

test.each([0, -1, 1.5, NaN])('batchSize %p is refused by fit, evaluate and predict, naming it', async (batchSize) => {
  const { x, y } = data(8);
  const m = compiled();
  await expect(m.fit(x, y, { batchSize, verbose: 0 })).rejects.toThrow(new RegExp(`\\(Sequential\\): fit: batchSize must be a positive integer, got ${batchSize}`));
  await expect(m.evaluate(x, y, { batchSize })).rejects.toThrow(new RegExp(`evaluate: batchSize must be a positive integer, got ${batchSize}`));
  await expect(m.predict(x, { batchSize })).rejects.toThrow(new RegExp(`predict: batchSize must be a positive integer, got ${batchSize}`));
});

test('fit refuses epochs that are not a non-negative integer', async () => {
  const { x, y } = data(8);
  await expect(compiled().fit(x, y, { epochs: 1.5, verbose: 0 })).rejects.toThrow(/fit: epochs must be a non-negative integer, got 1.5/);
});
