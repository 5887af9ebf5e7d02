/** A subclassed model (Keras's subclassing API, PyTorch's forward) trains, evaluates, saves and loads like Sequential. */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Variable, asVariable } from '@gradlab/autograd';
import { BatchNormalization, Dense } from '@gradlab/layers';
import type { CallOptions, LayerArgs } from '@gradlab/layers';
import { Model } from '../src/models/model.js';
import { load } from '../src/models/save.js';
import { registerLayer } from '../src/layers/registry.js';
import { Dataset } from '../src/data/dataset.js';
import { SGD } from '../src/optimizers/index.js';
import { sparseCategoricalCrossentropy } from '../src/losses.js';
import { data } from './save-helpers.js';
import { setSeed } from '@gradlab/tensor';

/** Dense → BatchNorm → Dense, with a skip: the hidden features are added back after the norm (not a stack). */
class SkipNet extends Model {
  readonly hidden = this.track(new Dense(8, { activation: 'relu' }));
  readonly norm = this.track(new BatchNormalization());
  readonly out = this.track(new Dense(2, { activation: 'softmax' }));
  constructor(args: LayerArgs = {}) { super(args); }
  override call(x: Variable, options: CallOptions = {}): Variable {
    const h = this.hidden.apply(x, options);
    return this.out.apply(this.norm.apply(h, options).add(h), options);
  }
}
registerLayer('SkipNet', (config) => new SkipNet({ name: config.name as string }));

let dir: string;
beforeEach(async () => { dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gradlab-subclass-')); });
afterEach(async () => { await fs.rm(dir, { recursive: true, force: true }); });

test('a subclassed model trains with compile/fit, evaluates, saves, and loads back with the same predictions', async () => {
  setSeed(3);
  const { x, y } = data(96);
  const model = new SkipNet();
  expect(() => model.parameters()).toThrow(/not built yet/);
  model.compile({ optimizer: new SGD({ lr: 0.2 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  const h = await model.fit(Dataset.fromTensorSlices(x, y).shuffle(96, { seed: 1 }).batch(16), { epochs: 8, verbose: 0 });
  expect(model.parameters().length).toBe(6); // two Dense (kernel, bias) and BatchNorm's gamma, beta
  expect(h.history.loss[7]).toBeLessThan(h.history.loss[0]);
  const [loss, accuracy] = await model.evaluate(x, y);
  expect(accuracy).toBeGreaterThan(0.8);
  // evaluate's loss is the crossentropy of the model's own output, computed here directly.
  expect(loss).toBeCloseTo(sparseCategoricalCrossentropy(model.call(asVariable(x), { training: false }), y).item(), 5);

  await model.save(dir);
  const loaded = await load(dir);
  expect(loaded).toBeInstanceOf(SkipNet);
  const [a, b] = [await model.predict(x), await loaded.predict(x)];
  expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
  expect(await loaded.evaluate(x, y)).toEqual([loss, accuracy]); // compiled again from the saved settings
  const table = loaded.summary({ printFn: () => undefined });
  expect(table).toMatch(/multiple/); // a subclassed model's layer shapes are unknown without running it, as in Keras
  expect(table).toContain(`Total params: ${loaded.countParams().total.toLocaleString('en-US')}`);
});

test('a subclassed model without call() says what to write', async () => {
  class Empty extends Model {}
  const m = new Empty();
  m.compile({ optimizer: 'sgd', loss: 'mse' });
  const { x } = data(4);
  await expect(m.fit(x, x, { verbose: 0 })).rejects.toThrow(/a subclassed model must define call\(x, options\), its forward pass/);
});
