/**
 * fit, evaluate and predict recycle the memory each step allocated (models/recycle.ts, on
 * @gradlab/tensor's recycling.ts). Recycling must change no number, must keep everything that lives
 * past a step, and must make a tensor leaked out of a step fail loudly instead of changing under the user.
 */
import { Variable, asVariable } from '@gradlab/autograd';
import { Dense, Conv2D, BatchNormalization, MaxPooling2D, Flatten } from '@gradlab/layers';
import type { CallOptions, LayerArgs } from '@gradlab/layers';
import { Random, fromTypedArray, recycleAfter, recycledBuffers, setBufferRecycling, setSeed } from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import { Model } from '../src/models/model.js';
import { Sequential } from '../src/models/sequential.js';
import { LambdaCallback } from '../src/callbacks.js';
import { Adam } from '../src/optimizers/index.js';
import { persistentTensors } from '../src/models/recycle.js';
import { sparseCategoricalCrossentropy } from '../src/losses.js';

afterEach(() => setBufferRecycling(true));

/** A small CNN with BatchNorm on 8×8×2 pictures, 4 classes: every kind of kernel the image model runs. */
function cnn(): Sequential {
  setSeed(5);
  const model = new Sequential([
    new Conv2D(4, [3, 3], { activation: 'relu', inputShape: [8, 8, 2] }),
    new BatchNormalization(),
    new MaxPooling2D({ poolSize: [2, 2] }),
    new Flatten(),
    new Dense(4, { activation: 'softmax' }),
  ]);
  model.compile({ optimizer: new Adam({ lr: 0.01 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  return model;
}

function pictures(n: number): { x: Tensor; y: Tensor } {
  const rng = new Random(9);
  const xs = Float32Array.from({ length: n * 128 }, () => rng.normal());
  const ys = Int32Array.from({ length: n }, (_, i) => (xs[i * 128] > 0 ? 1 : 0) + (xs[i * 128 + 1] > 0 ? 2 : 0));
  return { x: fromTypedArray(xs, [n, 8, 8, 2]), y: fromTypedArray(ys, [n]) };
}

async function trainAndReport(recycle: boolean) {
  setBufferRecycling(recycle);
  const model = cnn();
  const { x, y } = pictures(40);
  const history = await model.fit(x, y, { epochs: 3, batchSize: 8, verbose: 0, validationSplit: 0.2 });
  return {
    history: history.history,
    weights: model.parameters().map((p) => Array.from(p.data.dataSync())),
    buffers: model.namedBuffers().map(([, b]) => Array.from(b.dataSync())),
    evaluated: await model.evaluate(x, y, { batchSize: 8 }),
    predicted: Array.from((await model.predict(x, { batchSize: 16 })).dataSync()),
    pooled: recycledBuffers().arrays,
  };
}

test('recycling changes no number: fit, evaluate and predict give bit-identical results with it on and off', async () => {
  const on = await trainAndReport(true);
  const off = await trainAndReport(false);
  expect(on.pooled).toBeGreaterThan(0); // it really ran: the last step left its arrays in the pool
  expect(off.pooled).toBe(0);
  expect(on.history).toEqual(off.history);
  expect(on.weights).toEqual(off.weights);
  expect(on.buffers).toEqual(off.buffers);
  expect(on.evaluated).toEqual(off.evaluated);
  expect(on.predicted).toEqual(off.predicted);
});

test("what outlives a step survives it: weights taken before fit, gradients read by a callback, the optimizer's state", async () => {
  const model = cnn();
  const { x, y } = pictures(16);
  await model.trainOnBatch(x, y); // builds everything
  const before = model.stateDict(); // the tensors themselves, not copies
  const beforeValues = [...before.values()].map((t) => Array.from(t.dataSync()));
  const gradNorms: number[] = [];
  const lastGrads: Tensor[] = [];
  await model.fit(x, y, {
    epochs: 2, batchSize: 8, verbose: 0,
    callbacks: [new LambdaCallback({
      onBatchEnd: () => {
        const g = model.parameters()[0].grad!;
        lastGrads.push(g);
        gradNorms.push(g.square().sum().item());
      },
    })],
  });
  expect([...before.values()].map((t) => Array.from(t.dataSync()))).toEqual(beforeValues);
  expect(gradNorms.every((v) => Number.isFinite(v) && v > 0)).toBe(true);
  // the last step's gradient is still the parameter's and still reads the same
  expect(lastGrads[lastGrads.length - 1].square().sum().item()).toBe(gradNorms[gradNorms.length - 1]);
  // an earlier step's was given back when the next step began, and says so when read
  expect(() => lastGrads[0].dataSync()).toThrow(/disposed \(a gradient lives until the next training step replaces it; copy its values with toTypedArray\(\)/);
  expect(lastGrads.slice(0, -1).every((g) => g !== model.parameters()[0].grad)).toBe(true);
  const state = model.optimizer!.state();
  expect(state.slots.length).toBeGreaterThan(0);
  for (const { value } of state.slots) expect(value.dataSync().every((v) => Number.isFinite(v))).toBe(true);
});

test('a weight replaced by training: given back unless it was handed out (stateDict, dataSync), and says so when read', async () => {
  const model = cnn();
  const { x, y } = pictures(16);
  await model.trainOnBatch(x, y); // builds everything; the weights now come from the optimizer
  const [first, second] = model.parameters();
  const taken = first.data;                     // a tensor taken from the layer directly: not pinned
  const array = second.data.dataSync();         // the array itself, handed out: pinned
  const copy = Array.from(array);
  await model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
  expect(first.data).not.toBe(taken);
  expect(() => taken.dataSync()).toThrow(/disposed \(the optimizer replaced this weight in a training step; a weight taken from stateDict\(\) or read with dataSync\(\) keeps its values.*toTypedArray\(\) or clone\(\)/);
  expect(Array.from(array)).toEqual(copy);      // untouched, though the model trained on
  expect(Array.from(second.data.dataSync())).not.toEqual(copy);
});

/** A subclassed model that keeps its hidden features from inside call(): a tensor made inside the step. */
class Leaky extends Model {
  readonly hidden = this.track(new Dense(4, { activation: 'relu' }));
  readonly out = this.track(new Dense(2, { activation: 'softmax' }));
  lastHidden: Variable | null = null;
  constructor(args: LayerArgs = {}) { super(args); }
  override call(x: Variable, options: CallOptions = {}): Variable {
    this.lastHidden = this.hidden.apply(x, options);
    return this.out.apply(this.lastHidden, options);
  }
}

/** A compiled Leaky model and 8 examples of 3 features, 2 classes. */
function leakySetup(seed: number): { model: Leaky; x: Tensor; y: Tensor } {
  const rng = new Random(seed);
  const x = fromTypedArray(Float32Array.from({ length: 24 }, () => rng.normal()), [8, 3]);
  const y = fromTypedArray(Int32Array.from({ length: 8 }, (_, i) => i % 2), [8]);
  const model = new Leaky();
  model.compile({ optimizer: new Adam(), loss: 'sparse_categorical_crossentropy' });
  return { model, x, y };
}

test("an array read with dataSync() inside a step is the tensor's own and keeps its values after the step", async () => {
  const { model, x, y } = leakySetup(3);
  const seen: Array<{ array: ArrayLike<number>; copy: number[] }> = [];
  const call = model.call.bind(model);
  model.call = (input: Variable, options: CallOptions = {}) => {
    const out = call(input, options);
    const array = model.lastHidden!.data.dataSync();
    seen.push({ array, copy: Array.from(array) });
    return out;
  };
  await model.fit(x, y, { epochs: 3, batchSize: 4, verbose: 0 });
  expect(seen.length).toBeGreaterThanOrEqual(6); // six steps (and a call that builds the model)
  for (const { array, copy } of seen) expect(Array.from(array)).toEqual(copy);
});

test('a tensor kept from inside a step fails loudly when read after it, and reads fine with recycling off', async () => {
  const { model, x, y } = leakySetup(2);
  await model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
  expect(() => model.lastHidden!.data.dataSync()).toThrow(/recycled at the end of .*training step.*toTypedArray\(\).*setBufferRecycling\(false\)/s);
  setBufferRecycling(false);
  await model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
  expect(model.lastHidden!.data.dataSync().length).toBe(32);
});

test('a custom loop wrapped as the docs show (recycleAfter + persistentTensors) trains as the plain loop does', async () => {
  const run = (recycle: boolean) => {
    setBufferRecycling(recycle);
    const model = cnn();
    const { x, y } = pictures(16);
    const xv = asVariable(x);
    model.call(xv, { training: false }); // build
    const opt = new Adam(model.parameters(), { lr: 0.01 });
    const losses: number[] = [];
    for (let step = 0; step < 4; step++) {
      const loss = recycleAfter('custom step', () => {
        const l = sparseCategoricalCrossentropy(model.call(xv, { training: true }), y);
        opt.zeroGrad();
        l.backward();
        opt.step();
        return l;
      }, (l) => [l.data, ...persistentTensors(model, opt)]);
      losses.push(loss.data.item());
    }
    return { losses, state: [...model.stateDict().values()].map((t) => Array.from(t.dataSync())), pooled: recycledBuffers().arrays };
  };
  const on = run(true), off = run(false);
  expect(on.pooled).toBeGreaterThan(0);
  expect(on.losses).toEqual(off.losses);
  expect(on.state).toEqual(off.state); // BatchNorm's moving statistics included
});
