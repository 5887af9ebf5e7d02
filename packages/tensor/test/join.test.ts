/**
 * concat, stack, split and pad against naive references: each output element is located by hand
 * (which input, which index in it) and compared.
 */
import { Random, arange, tensor, concat, stack, split, pad } from '@gradlab/tensor';
import type { DType } from '@gradlab/tensor';
import { allIndices, randomShape, randomTensor } from './reference';

describe('concat', () => {
  it('matches a naive lookup along a random axis, for random shapes, dtypes and strided inputs', () => {
    const rng = new Random(31);
    for (let trial = 0; trial < 150; trial++) {
      const base = randomShape(rng, 4, 4, 1);
      const axis = rng.int(base.length);
      const dtypes: DType[] = ['float32', 'int32', 'float64'];
      const parts = Array.from({ length: 1 + rng.int(4) }, () => {
        const shape = base.map((d, k) => (k === axis ? rng.int(4) : d)); // sizes 0…3 along the axis
        const { t } = randomTensor(rng, shape, dtypes[rng.int(2)]);
        return rng.next() < 0.3 && shape.length >= 2 ? t.T.contiguous().T : t; // some strided inputs
      });
      if (trial % 10 === 0) parts.push(randomTensor(rng, base, dtypes[2]).t); // promotes to float64
      const negative = rng.next() < 0.5;
      const out = concat(parts, negative ? axis - base.length : axis);
      // naive: walk along the axis, subtracting each input's length until the index falls inside one
      for (const i of allIndices(out.shape)) {
        let j = i[axis], p = 0;
        while (j >= parts[p].shape[axis]) { j -= parts[p].shape[axis]; p++; }
        const source = [...i]; source[axis] = j;
        if (out.get(...i) !== parts[p].get(...source)) throw new Error(`concat at [${i}]: ${out.get(...i)} vs part ${p} [${source}]`);
      }
      expect(out.shape[axis]).toBe(parts.reduce((n, t) => n + t.shape[axis], 0));
      const expectedDType = parts.some((t) => t.dtype === 'float64') ? 'float64' : parts.some((t) => t.dtype === 'float32') ? 'float32' : 'int32';
      expect(out.dtype).toBe(expectedDType);
    }
  });

  it('joins [2,3] and [2,2] along axis 1 (hand-checked)', () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]]), b = tensor([[7, 8], [9, 10]]);
    expect(concat([a, b], 1).toArray()).toEqual([[1, 2, 3, 7, 8], [4, 5, 6, 9, 10]]);
    expect(concat([a, a], 0).toArray()).toEqual([[1, 2, 3], [4, 5, 6], [1, 2, 3], [4, 5, 6]]);
  });

  it('errors name the op, the offending tensor and the shapes', () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(() => concat([a, tensor([[1, 2, 3, 4]])], 1))
      .toThrow('concat: tensor 1 has shape [1,4], expected [2,*] matching [2,3] except on axis 1');
    expect(() => concat([a, arange(3)])).toThrow('concat: tensor 1 has shape [3], expected [*,3] matching [2,3] except on axis 0');
    expect(() => concat([])).toThrow('concat: needs at least one tensor');
    expect(() => concat([a], 2)).toThrow('concat: axis 2 is out of range for a tensor of rank 2');
  });
});

describe('stack', () => {
  it('puts tensor p at index p of the new axis, for every position of the new axis', () => {
    const rng = new Random(37);
    for (let trial = 0; trial < 80; trial++) {
      const shape = randomShape(rng, 3, 4);
      const parts = Array.from({ length: 1 + rng.int(3) }, () => randomTensor(rng, shape).t);
      const axis = rng.int(shape.length + 1);
      const out = stack(parts, axis);
      expect(out.shape).toEqual([...shape.slice(0, axis), parts.length, ...shape.slice(axis)]);
      for (const i of allIndices(out.shape)) {
        const p = i[axis];
        expect(out.get(...i)).toBe(parts[p].get(...i.filter((_, k) => k !== axis)));
      }
    }
  });

  it('stacks scalars into a vector and refuses different shapes', () => {
    expect(stack([tensor(1), tensor(2)]).toArray()).toEqual([1, 2]);
    expect(() => stack([tensor([1, 2]), tensor([1, 2, 3])])).toThrow('stack: tensor 1 has shape [3], expected [2] like tensor 0');
  });
});

describe('split', () => {
  it('returns views that concat back to the input, with the sizes asked for', () => {
    const rng = new Random(41);
    for (let trial = 0; trial < 80; trial++) {
      const shape = randomShape(rng, 4, 6, 1);
      const { t } = randomTensor(rng, shape);
      const axis = rng.int(shape.length);
      const dim = shape[axis];
      // random sizes adding up to dim, sometimes with one -1; or an equal count
      let arg: number | number[];
      let sizes: number[];
      if (rng.next() < 0.5) {
        const divisors = Array.from({ length: dim }, (_, d) => d + 1).filter((d) => dim % d === 0);
        arg = divisors[rng.int(divisors.length)];
        sizes = new Array<number>(arg).fill(dim / arg);
      } else {
        sizes = [];
        for (let left = dim; left > 0;) { const s = 1 + rng.int(left); sizes.push(s); left -= s; }
        arg = [...sizes];
        if (rng.next() < 0.5) arg[rng.int(arg.length)] = -1;
      }
      const parts = split(t, arg, axis);
      expect(parts.map((p) => p.shape[axis])).toEqual(sizes);
      for (const p of parts) expect(p.storage).toBe(t.storage); // views: no copy
      expect(Array.from(concat(parts, axis).dataSync())).toEqual(Array.from(t.dataSync()));
    }
  });

  it('part k holds elements start_k … start_k + size_k − 1 of the axis (hand-checked)', () => {
    const [a, b] = split(arange(12).reshape([3, 4]), [1, 3], 1);
    expect(a.toArray()).toEqual([[0], [4], [8]]);
    expect(b.toArray()).toEqual([[1, 2, 3], [5, 6, 7], [9, 10, 11]]);
  });

  it('errors name the op, the sizes and the shape', () => {
    const x = arange(12).reshape([3, 4]);
    expect(() => split(x, 3, 1)).toThrow('split: axis 1 of shape [3,4] has size 4, which does not split into 3 equal parts');
    expect(() => split(x, [1, 2], 1)).toThrow('split: sizes [1,2] do not add up to size 4 of axis 1 of shape [3,4]');
    expect(() => split(x, [-1, 5], 1)).toThrow('split: sizes [-1,5] do not add up to size 4 of axis 1 of shape [3,4]');
  });
});

describe('pad', () => {
  it('matches a naive lookup: inside the padding the input shifted by `before`, elsewhere the value', () => {
    const rng = new Random(43);
    for (let trial = 0; trial < 100; trial++) {
      const shape = randomShape(rng, 3, 4);
      let { t } = randomTensor(rng, shape, rng.next() < 0.5 ? 'int32' : 'float32');
      if (shape.length >= 2 && rng.next() < 0.5) t = t.T.contiguous().T;
      const paddings = shape.map(() => [rng.int(3), rng.int(3)] as [number, number]);
      const value = rng.int(3) - 1;
      const out = pad(t, paddings, value);
      expect(out.shape).toEqual(shape.map((d, k) => paddings[k][0] + d + paddings[k][1]));
      expect(out.dtype).toBe(t.dtype);
      for (const i of allIndices(out.shape)) {
        const source = i.map((v, k) => v - paddings[k][0]);
        const inside = source.every((v, k) => v >= 0 && v < shape[k]);
        expect(out.get(...i)).toBe(inside ? t.get(...source) : value);
      }
    }
  });

  it('pads an image-like [1,2,2,1] by one pixel (hand-checked), and checks its arguments', () => {
    const x = tensor([[[[1], [2]], [[3], [4]]]]);
    const out = pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]);
    expect(out.reshape([4, 4]).toArray()).toEqual([[0, 0, 0, 0], [0, 1, 2, 0], [0, 3, 4, 0], [0, 0, 0, 0]]);
    expect(() => pad(x, [[1, 1]])).toThrow('pad: 1 paddings for a tensor of shape [1,2,2,1] (rank 4); give one [before, after] per axis');
    expect(() => pad(tensor([1, 2]), [[-1, 0]])).toThrow('pad: paddings [[-1,0]] must be non-negative integers (shape [2])');
  });
});
