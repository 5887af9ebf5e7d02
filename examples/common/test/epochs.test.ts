import { Dataset, callbacks, layers, models, Random, setSeed } from 'gradlab';
import type { data } from 'gradlab';
import { EpochRecorder, stepDecay } from '../src/epochs';

/** Two Gaussian blobs in 2-D, labelled 0 and 1: a problem a small network learns in a few epochs. */
function blobs(count: number, seed: number, batchSize: number): Dataset<data.Batch> {
  const rng = new Random(seed);
  const examples = Array.from({ length: count }, (_, i) => {
    const centre = i % 2 === 1 ? 1.5 : -1.5;
    return { x: Float32Array.of(centre + rng.normal(), -centre + rng.normal()), y: i % 2 };
  });
  return Dataset.fromArray(examples).shuffle(count, { seed }).batch(batchSize);
}

function smallModel(): models.Sequential {
  setSeed(3);
  const model = new models.Sequential();
  model.add(layers.Dense(8, { activation: 'relu', inputShape: [2] }));
  model.add(layers.Dense(1, { activation: 'sigmoid' }));
  model.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: ['accuracy'] });
  return model;
}

test('EpochRecorder turns fit\'s logs into the results\' epoch records, with the scheduled learning rate', async () => {
  const model = smallModel();
  const seen: number[] = [];
  const recorder = new EpochRecorder((record) => { seen.push(record.epoch); });
  const h = await model.fit(blobs(1024, 1, 32), {
    epochs: 3, verbose: 0, validationData: blobs(200, 9, 50),
    callbacks: [new callbacks.LearningRateScheduler(stepDecay(0.04, 0.5)), recorder],
  });
  expect(seen).toEqual([1, 2, 3]);
  expect(recorder.records.map((r) => r.learningRate)).toEqual([0.04, 0.02, 0.01]);
  expect(recorder.records.map((r) => r.loss)).toEqual(h.history.loss);
  expect(recorder.records.map((r) => r.valAccuracy)).toEqual(h.history.val_accuracy);
  expect(recorder.records.every((r) => r.seconds >= 0 && (r.cpuSeconds ?? -1) >= 0)).toBe(true);
  // It trains: the blobs overlap only in their tails (the best possible accuracy is ~98%).
  expect(h.history.val_accuracy[2]).toBeGreaterThan(0.9);
});

test('stepDecay: lr·decay^epoch (epoch from 0, as LearningRateScheduler passes it); rejects what would not train', () => {
  expect([0, 1, 2].map(stepDecay(0.04, 0.5))).toEqual([0.04, 0.02, 0.01]);
  expect(() => stepDecay(0.001, 0)).toThrow(/stepDecay: .*decay 0/);
  expect(() => stepDecay(0.001, 1.5)).toThrow(/0 < decay <= 1/);
  expect(() => stepDecay(-1, 0.5)).toThrow(/lr -1/);
  expect(stepDecay(0.001, 1)(5)).toBe(0.001);
});
