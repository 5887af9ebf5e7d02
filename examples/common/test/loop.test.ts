import { fromTypedArray, layers, models, Random, setSeed } from 'gradlab';
import { bucketedOrder, evaluateSource, fitSource, stepDecay } from '../src/loop';
import type { BatchSource } from '../src/loop';

/** Two Gaussian blobs in 2-D, labelled 0 and 1: a problem a small network learns in a few epochs. */
function blobs(count: number, seed: number): BatchSource {
  const rng = new Random(seed);
  const x = new Float32Array(count * 2);
  const y = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    y[i] = i % 2;
    const centre = y[i] === 1 ? 1.5 : -1.5;
    x[2 * i] = centre + rng.normal();
    x[2 * i + 1] = -centre + rng.normal();
  }
  return {
    size: count,
    batch(rows) {
      return {
        x: fromTypedArray(Float32Array.from({ length: rows.length * 2 }, (_, k) => x[2 * rows[k >> 1] + (k & 1)]), [rows.length, 2]),
        y: fromTypedArray(Float32Array.from(rows, (r) => y[r]), [rows.length, 1]),
      };
    },
  };
}

function smallModel(): models.Sequential {
  setSeed(3);
  const model = new models.Sequential();
  model.add(layers.Dense(8, { activation: 'relu', inputShape: [2] }));
  model.add(layers.Dense(1, { activation: 'sigmoid' }));
  model.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: ['accuracy'] });
  return model;
}

describe('fitSource (the examples’ training loop)', () => {
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  afterAll(() => { log.mockRestore(); write.mockRestore(); });

  test('a learning-rate schedule sets the optimizer’s rate before each epoch and is recorded', async () => {
    const model = smallModel();
    const records = await fitSource(model, blobs(1024, 1), { epochs: 3, batchSize: 32, seed: 2, learningRate: stepDecay(0.04, 0.5) });
    expect(records.map((r) => r.learningRate)).toEqual([0.04, 0.02, 0.01]);
    expect(model.optimizer!.lr).toBe(0.01);
    // The loop still trains: the blobs overlap only in their tails (the best possible accuracy is ~98%).
    expect(records[2].loss).toBeLessThan(records[0].loss);
    const evaluation = evaluateSource(model, blobs(200, 9), 50);
    expect(evaluation.accuracy).toBeGreaterThan(0.9);
  });

  test('stepDecay rejects a rate or decay that would not train', () => {
    expect(() => stepDecay(0.001, 0)).toThrow(/stepDecay: .*decay 0/);
    expect(() => stepDecay(0.001, 1.5)).toThrow(/0 < decay <= 1/);
    expect(() => stepDecay(-1, 0.5)).toThrow(/lr -1/);
    expect(stepDecay(0.001, 1)(5)).toBe(0.001);
  });

  test('without a schedule the compiled rate is kept throughout', async () => {
    const model = smallModel();
    const records = await fitSource(model, blobs(64, 1), { epochs: 2, batchSize: 32, seed: 2 });
    expect(records.map((r) => r.learningRate)).toEqual([0.001, 0.001]);
  });
});

describe('bucketedOrder', () => {
  test('a permutation whose batches hold sequences of similar length', () => {
    const rng = new Random(5);
    const lengths = Array.from({ length: 1000 }, () => 1 + Math.floor(rng.uniform() * 300));
    const order = bucketedOrder(lengths, 10, new Random(7));
    expect(Array.from(order).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    // Within a batch the spread of lengths is far below the spread of the whole set (0 … 300).
    let widest = 0;
    for (let b = 0; b < 1000; b += 10) {
      const batch = Array.from(order.subarray(b, b + 10), (i) => lengths[i]);
      widest = Math.max(widest, Math.max(...batch) - Math.min(...batch));
    }
    expect(widest).toBeLessThan(60);
  });
});
