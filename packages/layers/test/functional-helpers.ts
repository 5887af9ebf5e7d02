/** What the functional-model tests share: a two-input two-output model, its data, and rows of a tensor. */
import { fromTypedArray, randn, setSeed } from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import { layers, models } from '@gradlab/layers';

/** xa [n, 3], xb [n, 2] and a value y [n, 1], normal, of a fixed seed. */
export function twoInputData(n: number, dtype: 'float32' | 'float64' = 'float64'): { xa: Tensor; xb: Tensor; y: Tensor } {
  return { xa: randn([n, 3], { seed: 11, dtype }), xb: randn([n, 2], { seed: 12, dtype }), y: randn([n, 1], { seed: 13, dtype }) };
}

/**
 * Two inputs, two outputs: tanh towers of xa and xb concatenated into h (8), then 'reg' = Dense(1)(h)
 * (a value, mse) and 'cls' = Dense(3, softmax)(h) (a class, sparse crossentropy).
 */
export function twoOutputs(seed = 7, float64 = true) {
  setSeed(seed);
  const a = layers.Input({ shape: [3], name: 'xa' }); // named, for x keyed by name: { xa, xb }
  const b = layers.Input({ shape: [2], name: 'xb' });
  const h = layers.concatenate([layers.Dense(4, { activation: 'tanh' }).apply(a), layers.Dense(4, { activation: 'tanh' }).apply(b)]);
  const reg = layers.Dense(1, { name: 'reg' }).apply(h);
  const cls = layers.Dense(3, { activation: 'softmax', name: 'cls' }).apply(h);
  const model = models.model({ inputs: [a, b], outputs: [reg, cls] });
  if (float64) for (const w of model.parameters()) w.data = w.data.astype('float64');
  return model;
}

/** twoInputData with labels of 3 classes (int32) and the same labels one-hot (float64). */
export function twoOutputData(n: number, dtype: 'float32' | 'float64' = 'float64') {
  const labels = Int32Array.from({ length: n }, (_, i) => (i * 7 + 1) % 3);
  return { ...twoInputData(n, dtype), labels: fromTypedArray(labels, [n]), oneHot: fromTypedArray(Float64Array.from({ length: n * 3 }, (_, k) => (labels[Math.floor(k / 3)] === k % 3 ? 1 : 0)), [n, 3]) };
}

/** Rows from … from + count of a tensor, as a new tensor. */
export function take(t: Tensor, from: number, count: number): Tensor {
  const width = t.size / t.shape[0];
  const values = t.dataSync().slice(from * width, (from + count) * width);
  return fromTypedArray(values as Float64Array, [count, ...t.shape.slice(1)]); // keeps the dtype (Int32Array labels stay int32)
}
