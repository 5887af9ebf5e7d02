// The names TF.js users bring: camelCase losses and metrics, and 'mae' as a loss and a metric.
import { tensor } from '@gradlab/tensor';
import { Variable } from '@gradlab/autograd';
import { layers } from '@gradlab/layers';
import { lossFromName } from '../src/losses.js';
import { getMetric } from '../src/metrics.js';
import { Sequential } from '../src/models/sequential.js';

test("camelCase loss names resolve to Keras's", () => {
  expect(lossFromName('sparseCategoricalCrossentropy').kind).toBe('sparse_categorical_crossentropy');
  expect(lossFromName('categoricalCrossentropy').kind).toBe('categorical_crossentropy');
  expect(lossFromName('binaryCrossentropy').kind).toBe('binary_crossentropy');
  expect(lossFromName('meanSquaredError').kind).toBe('mean_squared_error');
  expect(lossFromName('meanAbsoluteError').kind).toBe('mean_absolute_error');
  expect(() => lossFromName('meanSquareError')).toThrow("loss: unknown loss 'meanSquareError' (known: ");
});

test("'mae' as a loss: the mean of |p − t|, with its gradient sign(p − t)/n", () => {
  const p = new Variable(tensor([[1, 2], [3, 5]]), { requiresGrad: true });
  const loss = lossFromName('mae').call(p, tensor([[2, 2], [1, 7]]));
  expect(loss.item()).toBeCloseTo((1 + 0 + 2 + 2) / 4, 6);
  loss.backward();
  expect(p.grad!.toArray()).toEqual([[-0.25, 0], [0.25, -0.25]]);
});

test("'mae', 'mse' and camelCase accuracies as metrics, reported under the name given", () => {
  const yTrue = tensor([[2, 2], [1, 7]]);
  const yPred = tensor([[1, 2], [3, 5]]);
  const mae = getMetric('mae').compute(yTrue, yPred);
  expect(mae.correct.item() / mae.count).toBeCloseTo(5 / 4, 6);
  const mse = getMetric('meanSquaredError').compute(yTrue, yPred);
  expect(mse.correct.item() / mse.count).toBeCloseTo((1 + 0 + 4 + 4) / 4, 6);
  expect(getMetric('sparseCategoricalAccuracy').name).toBe('sparseCategoricalAccuracy');
  expect(() => getMetric('meanAbsError')).toThrow("metrics: unknown metric 'meanAbsError'");
});

test("a model compiled with TF.js's names trains, and 'mae' is not fused into a softmax", async () => {
  const model = new Sequential([layers.Dense(1, { inputShape: [2] })]);
  model.compile({ optimizer: 'sgd', loss: 'meanAbsoluteError', metrics: ['mae'] });
  const x = tensor([[1, 0], [0, 1], [1, 1]]);
  const y = tensor([[1], [2], [3]]);
  const history = await model.fit(x, y, { epochs: 1, batchSize: 3, verbose: 0 });
  // One batch of all the data: the metric, over the weights before the step, is the loss.
  expect(history.history.mae[0]).toBeCloseTo(history.history.loss[0], 6);
});
