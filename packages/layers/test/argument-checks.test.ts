/** Arguments that Keras or PyTorch refuse are refused where they enter, naming the layer and the value. */
import { Sequential } from '../src/models/sequential.js';
import { layers } from '@gradlab/layers';
import { getActivation } from '../src/activations.js';
import { getMetric } from '../src/metrics.js';
import { lossFromName } from '../src/losses.js';
import { getInitializer } from '../src/initializers.js';

test.each([0, -1, 2.5, [3, 0], [2, NaN]])('Conv2D kernelSize %p is refused, naming the layer', (k) => {
  expect(() => layers.Conv2D(4, k as number)).toThrow(/conv2d(_\d+)? \(Conv2D\): kernelSize must be a positive integer or a pair of them, got /);
});

test.each([0, -1, 1.5])('Conv2D strides %p, MaxPooling2D poolSize and strides %p are refused', (v) => {
  expect(() => layers.Conv2D(4, 3, { strides: v })).toThrow(/\(Conv2D\): strides must be a positive integer or a pair of them, got /);
  expect(() => layers.MaxPooling2D({ poolSize: v })).toThrow(/\(MaxPooling2D\): poolSize must be a positive integer or a pair of them, got /);
  expect(() => layers.MaxPooling2D({ strides: v })).toThrow(/\(MaxPooling2D\): strides must be a positive integer or a pair of them, got /);
  expect(() => layers.AveragePooling2D({ padding: 'full' as never })).toThrow(/\(AveragePooling2D\): padding must be 'valid' or 'same', got 'full'/);
});

test('a kernel or pool window larger than its input fails at build, naming the layer and both shapes', () => {
  expect(() => new Sequential([layers.Conv2D(4, 7, { inputShape: [5, 5, 1], name: 'big_kernel' })]))
    .toThrow(/big_kernel \(Conv2D\): kernel 7×7 is larger than its input \(None, 5, 5, 1\) \(height 5, width 5\) with padding 'valid'/);
  expect(() => new Sequential([layers.Conv2D(4, 3, { inputShape: [6, 6, 1] }), layers.MaxPooling2D({ poolSize: 5, name: 'big_pool' })]))
    .toThrow(/big_pool \(MaxPooling2D\): pool window 5×5 is larger than its input \(None, 4, 4, 4\)/);
  // 'same' padding, and a window that just fits, are fine
  const ok = new Sequential([layers.Conv2D(4, 7, { inputShape: [5, 5, 1], padding: 'same' }), layers.MaxPooling2D({ poolSize: 5 })]);
  expect(ok.computeOutputShape([null, 5, 5, 1])).toEqual([null, 1, 1, 4]);
});

test.each([0, -1, NaN])('LayerNormalization epsilon %p is refused', (epsilon) => {
  expect(() => layers.LayerNormalization({ epsilon })).toThrow(/\(LayerNormalization\): epsilon must be positive, got /);
});

test.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])("names every object inherits ('%s') are unknown names, not found functions", (name) => {
  expect(() => getActivation(name as never, 'layer')).toThrow(new RegExp(`layer: unknown activation '${name}'`));
  expect(() => layers.Dense(2, { activation: name as never })).toThrow(/unknown activation/);
  expect(() => getMetric(name)).toThrow(new RegExp(`metrics: unknown metric '${name}'`));
  expect(() => lossFromName(name)).toThrow(new RegExp(`loss: unknown loss '${name}'`));
  expect(() => getInitializer(name as never, 'layer')).toThrow(new RegExp(`layer: unknown initializer '${name}'`));
  const m = new Sequential([layers.Dense(2, { inputShape: [3] })]);
  expect(() => m.compile({ optimizer: name, loss: 'mse' })).toThrow(/unknown optimizer/);
  expect(() => m.compile({ optimizer: 'sgd', loss: name as never })).toThrow(/unknown loss/);
  expect(() => m.compile({ optimizer: 'sgd', loss: 'mse', metrics: [name] })).toThrow(/unknown metric/);
});
