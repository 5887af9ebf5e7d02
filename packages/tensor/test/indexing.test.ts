/**
 * gather, indexSelect, scatterAdd and oneHot against naive references, and the adjointness that makes
 * scatterAdd gather's backward pass:  ⟨gather(x, idx), y⟩ = ⟨x, scatterAdd(x.shape, idx, y)⟩.
 */
import { Random, arange, tensor, gather, indexSelect, scatterAdd, oneHot } from '@gradlab/tensor';
import { allIndices, count, randomShape, randomTensor } from './reference';

/** Random integer indices in [0, size) of a random shape (rank 0…2), int32 or whole-number float32. */
function randomIndices(rng: Random, size: number) {
  const shape = randomShape(rng, 2, 3);
  const values = Array.from({ length: count(shape) }, () => rng.int(size));
  return { t: tensor(values, { shape, dtype: rng.next() < 0.7 ? 'int32' : 'float32' }), shape, values };
}

/** ⟨a, b⟩ = Σ a·b in float64. */
function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

describe('gather', () => {
  it('out[i…, j…, k…] = x[i…, indices[j…], k…] for random shapes, axes and index shapes', () => {
    const rng = new Random(51);
    for (let trial = 0; trial < 150; trial++) {
      const shape = randomShape(rng, 3, 4, 1);
      let { t: x } = randomTensor(rng, shape, trial % 3 === 0 ? 'int32' : 'float32');
      if (shape.length >= 2 && rng.next() < 0.4) x = x.T.contiguous().T; // strided input
      const axis = rng.int(shape.length);
      const idx = randomIndices(rng, shape[axis]);
      const out = gather(x, idx.t, rng.next() < 0.5 ? axis : axis - shape.length);
      const r = idx.shape.length;
      expect(out.shape).toEqual([...shape.slice(0, axis), ...idx.shape, ...shape.slice(axis + 1)]);
      expect(out.dtype).toBe(x.dtype);
      for (const i of allIndices(out.shape)) {
        const j = i.slice(axis, axis + r); // the position in the indices tensor
        const source = [...i.slice(0, axis), idx.t.get(...j), ...i.slice(axis + r)];
        expect(out.get(...i)).toBe(x.get(...source));
      }
    }
  });

  it('picks rows of an embedding table (hand-checked) and indexSelect is the same for 1-D indices', () => {
    const table = arange(6).reshape([3, 2]);         // rows [0,1], [2,3], [4,5]
    const ids = tensor([[2, 0], [1, 1]], { dtype: 'int32' });
    expect(gather(table, ids).toArray()).toEqual([[[4, 5], [0, 1]], [[2, 3], [2, 3]]]);
    expect(indexSelect(table, 1, tensor([1, 1, 0], { dtype: 'int32' })).toArray()).toEqual([[1, 1, 0], [3, 3, 2], [5, 5, 4]]);
  });

  it('errors name the op, the index and the axis size', () => {
    const x = arange(6).reshape([3, 2]);
    expect(() => gather(x, tensor([0, 3], { dtype: 'int32' }))).toThrow('gather: index 3 is out of range for axis 0 of size 3');
    expect(() => gather(x, tensor([-1], { dtype: 'int32' }), 1)).toThrow('gather: index -1 is out of range for axis 1 of size 2');
    expect(() => gather(x, tensor([0.5]))).toThrow('gather: index 0.5 is not an integer (indices [1], float32)');
    expect(() => gather(x, tensor([0]), 2)).toThrow('gather: axis 2 is out of range for a tensor of rank 2');
    expect(() => indexSelect(x, 0, tensor([[0]]))).toThrow('indexSelect: indices must be 1-D, got shape [1,1]');
  });
});

describe('scatterAdd', () => {
  it('adds every update at its index, repeated indices accumulating (naive reference)', () => {
    const rng = new Random(53);
    for (let trial = 0; trial < 100; trial++) {
      const shape = randomShape(rng, 3, 4, 1);
      const axis = rng.int(shape.length);
      const idx = randomIndices(rng, shape[axis]);
      const updShape = [...shape.slice(0, axis), ...idx.shape, ...shape.slice(axis + 1)];
      const { t: updates } = randomTensor(rng, updShape, 'float64');
      const out = scatterAdd(shape, idx.t, updates, axis);
      // naive: start from zeros, walk every update and add it where its index sends it
      const expected = new Map<string, number>();
      const r = idx.shape.length;
      for (const u of allIndices(updShape)) {
        const target = [...u.slice(0, axis), idx.t.get(...u.slice(axis, axis + r)), ...u.slice(axis + r)].join(',');
        expected.set(target, (expected.get(target) ?? 0) + updates.get(...u));
      }
      expect(out.shape).toEqual(shape);
      for (const i of allIndices(shape)) expect(out.get(...i)).toBeCloseTo(expected.get(i.join(',')) ?? 0, 12);
    }
  });

  it('is the adjoint of gather: <gather(x), y> = <x, scatterAdd(y)>', () => {
    const rng = new Random(59);
    for (let trial = 0; trial < 100; trial++) {
      const shape = randomShape(rng, 3, 4, 1);
      const axis = rng.int(shape.length);
      const idx = randomIndices(rng, shape[axis]);
      const { t: x } = randomTensor(rng, shape, 'float64');
      const gathered = gather(x, idx.t, axis);
      const { t: y } = randomTensor(rng, gathered.shape, 'float64');
      const left = dot(gathered.dataSync(), y.dataSync());
      const right = dot(x.dataSync(), scatterAdd(shape, idx.t, y, axis).dataSync());
      expect(Math.abs(left - right)).toBeLessThan(1e-9 * (1 + Math.abs(left)));
    }
  });

  it('hand-checked: three updates into a length-3 vector, two of them at index 1', () => {
    // zeros(3); out[1] += 10; out[0] += 20; out[1] += 30  →  [20, 40, 0]
    expect(scatterAdd([3], tensor([1, 0, 1], { dtype: 'int32' }), tensor([10, 20, 30])).toArray()).toEqual([20, 40, 0]);
  });

  it('errors name the op and the shapes', () => {
    expect(() => scatterAdd([3, 2], tensor([0, 1], { dtype: 'int32' }), tensor([1, 2])))
      .toThrow('scatterAdd: updates have shape [2], expected [2,2] (shape [3,2] with axis 0 replaced by indices [2])');
    expect(() => scatterAdd([3], tensor([5], { dtype: 'int32' }), tensor([1])))
      .toThrow('scatterAdd: index 5 is out of range for axis 0 of size 3');
  });
});

describe('oneHot', () => {
  it('out[…, c] = (indices[…] == c), for random label tensors', () => {
    const rng = new Random(61);
    for (let trial = 0; trial < 50; trial++) {
      const depth = 1 + rng.int(5);
      const idx = randomIndices(rng, depth);
      const out = oneHot(idx.t, depth);
      expect(out.shape).toEqual([...idx.shape, depth]);
      expect(out.dtype).toBe('float32');
      for (const i of allIndices(out.shape)) {
        expect(out.get(...i)).toBe(idx.t.get(...i.slice(0, -1)) === i[i.length - 1] ? 1 : 0);
      }
    }
  });

  it('takes a dtype and refuses labels outside the depth', () => {
    expect(oneHot(tensor([2, 0], { dtype: 'int32' }), 3, 'int32').toArray()).toEqual([[0, 0, 1], [1, 0, 0]]);
    expect(oneHot(tensor([2, 0], { dtype: 'int32' }), 3, 'int32').dtype).toBe('int32');
    expect(() => oneHot(tensor([3], { dtype: 'int32' }), 3)).toThrow('oneHot: index 3 is out of range for depth 3');
  });
});
