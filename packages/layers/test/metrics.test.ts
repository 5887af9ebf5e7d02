import { tensor } from '@gradlab/tensor';
import { accuracyKind, binaryAccuracy, categoricalAccuracy, getMetric, sparseCategoricalAccuracy } from '../src/metrics.js';

/** The count a metric returns, read (metrics give a tensor: they read nothing themselves). */
const read = (c: { correct: { item(): number }; count: number }) => [c.correct.item(), c.count];

describe('accuracy metrics, composed of tensor ops', () => {
  test('binary: p > 0.5 (z > 0 from logits) against t > 0.5, over every element', () => {
    const p = tensor([[0.9], [0.4], [0.51], [0.2]]), t = tensor([1, 1, 1, 0]);
    expect(read(binaryAccuracy(t, p))).toEqual([3, 4]);            // rows 0, 2, 3 right
    expect(read(binaryAccuracy(t, tensor([[2], [-1], [0.1], [-3]]), true))).toEqual([3, 4]);
    expect(() => binaryAccuracy(tensor([1, 0]), p)).toThrow(/binary_accuracy: targets \[2\] do not match predictions \[4,1\]/);
  });

  test('sparse categorical: argmax (the first on ties) against the label', () => {
    const p = tensor([[0.1, 0.7, 0.2], [0.5, 0.5, 0], [0.2, 0.3, 0.5]]);
    expect(read(sparseCategoricalAccuracy(tensor([1, 1, 2], { dtype: 'int32' }), p))).toEqual([2, 3]); // row 1's tie picks 0
    expect(read(sparseCategoricalAccuracy(tensor([[1], [0], [2]]), p))).toEqual([3, 3]);               // float labels [3,1]
  });

  test('categorical: argmax against the one-hot target\'s argmax; accuracyKind follows Keras\'s rule', () => {
    const p = tensor([[0.1, 0.7, 0.2], [0.6, 0.3, 0.1]]);
    expect(read(categoricalAccuracy(tensor([[0, 1, 0], [0, 0, 1]]), p))).toEqual([1, 2]);
    expect(accuracyKind([4], [4, 1])).toBe('binary_accuracy');
    expect(accuracyKind([4], [4, 3])).toBe('sparse_categorical_accuracy');
    expect(accuracyKind([4, 3], [4, 3])).toBe('categorical_accuracy');
    const acc = getMetric('accuracy');
    expect(read(acc.compute(tensor([1, 0], { dtype: 'int32' }), p))).toEqual([2, 2]);
    expect(() => getMetric('constructor')).toThrow(/unknown metric 'constructor'/);
  });
});
