/**
 * Views against naive index arithmetic. A "model" of a view is its shape plus a function from an index of
 * the view to the row-major position in the original contiguous tensor, built by hand for each view op;
 * random chains of views are applied both to a tensor and to the model, and every element is compared.
 */
import { Random, arange, tensor, transpose, slice, squeeze, unsqueeze, broadcastTo, reshape } from '@gradlab/tensor';
import type { Tensor, SliceSpec } from '@gradlab/tensor';
import { allIndices, count, flatIndex, randomShape, unflatIndex } from './reference';

interface Model { shape: number[]; at: (index: number[]) => number }

/** Python's slice semantics, written out from the language reference: the list of indices taken. */
function pythonSlice(dim: number, start: number | null, stop: number | null, step: number): number[] {
  let lo: number, hi: number;
  if (step > 0) {
    lo = start === null ? 0 : start < 0 ? Math.max(start + dim, 0) : Math.min(start, dim);
    hi = stop === null ? dim : stop < 0 ? Math.max(stop + dim, 0) : Math.min(stop, dim);
  } else {
    lo = start === null ? dim - 1 : start < 0 ? Math.max(start + dim, -1) : Math.min(start, dim - 1);
    hi = stop === null ? -1 : stop < 0 ? Math.max(stop + dim, -1) : Math.min(stop, dim - 1);
  }
  const out: number[] = [];
  for (let i = lo; step > 0 ? i < hi : i > hi; i += step) out.push(i);
  return out;
}

const applyTranspose = (m: Model, perm: number[]): Model => ({
  shape: perm.map((a) => m.shape[a]),
  at: (i) => { const j = new Array<number>(i.length); perm.forEach((a, k) => { j[a] = i[k]; }); return m.at(j); },
});

function applySlice(m: Model, specs: SliceSpec[]): Model {
  const picks = m.shape.map((dim, k) => {
    const s = specs[k] ?? null;
    if (typeof s === 'number') return s < 0 ? s + dim : s;
    const [start = null, stop = null, step = 1] = s ?? [];
    return pythonSlice(dim, start, stop, step);
  });
  return {
    shape: picks.filter((p): p is number[] => Array.isArray(p)).map((p) => p.length),
    at: (i) => { let n = 0; return m.at(picks.map((p) => (typeof p === 'number' ? p : p[i[n++]]))); },
  };
}

const applySqueeze = (m: Model, axis: number): Model => ({
  shape: m.shape.filter((_, k) => k !== axis),
  at: (i) => m.at([...i.slice(0, axis), 0, ...i.slice(axis)]),
});
const applyUnsqueeze = (m: Model, axis: number): Model => ({
  shape: [...m.shape.slice(0, axis), 1, ...m.shape.slice(axis)],
  at: (i) => m.at(i.filter((_, k) => k !== axis)),
});
const applyBroadcast = (m: Model, shape: number[]): Model => ({
  shape,
  at: (i) => { const lead = shape.length - m.shape.length; return m.at(m.shape.map((d, k) => (d === 1 ? 0 : i[k + lead]))); },
});
const applyReshape = (m: Model, shape: number[]): Model => ({
  shape,
  at: (i) => m.at(unflatIndex(flatIndex(i, shape), m.shape)),
});

/** Pick a random view op that fits `m`, apply it to the tensor and the model. */
function randomView(rng: Random, t: Tensor, m: Model): [Tensor, Model, string] {
  const rank = m.shape.length;
  const choice = rng.int(6);
  if (choice === 0 && rank > 0) {
    const perm = rng.shuffle(Array.from({ length: rank }, (_, k) => k)) as number[];
    return [transpose(t, perm), applyTranspose(m, perm), `transpose(${perm})`];
  }
  if (choice === 1 && rank > 0) {
    const specs: SliceSpec[] = m.shape.map((dim) => {
      const r = rng.int(4);
      if (r === 0 && dim > 0) return rng.int(2 * dim) - dim; // an index, maybe negative
      if (r === 1) return null;
      const pick = () => (rng.next() < 0.25 ? null : rng.int(2 * dim + 3) - dim - 1); // may over- or undershoot
      const step = (rng.int(3) + 1) * (rng.next() < 0.5 ? -1 : 1);
      return [pick(), pick(), step] as const;
    });
    return [slice(t, specs), applySlice(m, specs), `slice(${JSON.stringify(specs)})`];
  }
  if (choice === 2 && m.shape.includes(1)) {
    const axis = m.shape.indexOf(1);
    return [squeeze(t, axis), applySqueeze(m, axis), `squeeze(${axis})`];
  }
  if (choice === 3 && rank < 5) {
    const axis = rng.int(rank + 1);
    return [unsqueeze(t, axis), applyUnsqueeze(m, axis), `unsqueeze(${axis})`];
  }
  if (choice === 4 && rank < 5) {
    const target = [...(rng.next() < 0.5 ? [1 + rng.int(3)] : []), ...m.shape.map((d) => (d === 1 ? 1 + rng.int(3) : d))];
    return [broadcastTo(t, target), applyBroadcast(m, target), `broadcastTo(${target})`];
  }
  // reshape: regroup the elements into a random factorisation of the size
  const size = count(m.shape);
  const target: number[] = [];
  let rest = size;
  while (rest > 1 && target.length < 3) {
    const divisors = Array.from({ length: rest }, (_, d) => d + 1).filter((d) => rest % d === 0);
    const d = divisors[rng.int(divisors.length)];
    target.push(d); rest /= d;
  }
  if (size === 0) target.push(0); else if (rest > 1 || target.length === 0) target.push(rest);
  return [reshape(t, target), applyReshape(m, target), `reshape(${target})`];
}

/** Every element of the view, read three ways (get, dataSync, raw storage when contiguous), against the model. */
function checkAgainstModel(t: Tensor, m: Model, values: Float32Array, trail: string): void {
  const where = `after ${trail}`;
  if (JSON.stringify(t.shape) !== JSON.stringify(m.shape)) throw new Error(`${where}: shape ${t.shape}, expected ${m.shape}`);
  const flat = t.dataSync();
  const raw = t.storage.read();
  allIndices(m.shape).forEach((i, p) => {
    const expected = values[m.at(i)];
    if (t.get(...i) !== expected) throw new Error(`${where}: get(${i}) = ${t.get(...i)}, expected ${expected}`);
    if (flat[p] !== expected) throw new Error(`${where}: dataSync()[${p}] = ${flat[p]}, expected ${expected}`);
    if (t.isContiguous() && raw[t.offset + p] !== expected) throw new Error(`${where}: contiguous but storage[${t.offset + p}] is not element ${p}`);
  });
}

describe('views against naive index arithmetic', () => {
  it('random chains of transpose, slice, squeeze, unsqueeze, broadcastTo and reshape', () => {
    const rng = new Random(2024);
    let checked = 0;
    for (let trial = 0; trial < 300; trial++) {
      const shape = randomShape(rng, 4, 4);
      const values = new Float32Array(count(shape)).map((_, i) => i + 1);
      let t = tensor(values, { shape });
      let m: Model = { shape, at: (i) => flatIndex(i, shape) };
      const trail: string[] = [];
      for (let step = 0; step < 4; step++) {
        let name: string;
        [t, m, name] = randomView(rng, t, m);
        trail.push(name);
        checkAgainstModel(t, m, values, `${JSON.stringify(shape)} ${trail.join(' ')}`);
        checked += count(m.shape);
      }
    }
    expect(checked).toBeGreaterThan(1000); // the chains really produced elements to compare
  });

  it('slices with steps, negative steps and negative bounds (hand-derived)', () => {
    const x = arange(10);
    expect(x.slice([[8, 2, -3]]).toArray()).toEqual([8, 5]);
    expect(x.slice([[null, null, -1]]).toArray()).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(x.slice([[-1, -4, -1]]).toArray()).toEqual([9, 8, 7]);
    expect(x.slice([[null, 5, -2]]).toArray()).toEqual([9, 7]);
    expect(x.slice([[1, null, 4]]).toArray()).toEqual([1, 5, 9]);
    expect(x.slice([[20, 30]]).toArray()).toEqual([]);
    expect(x.slice([[-20, 2]]).toArray()).toEqual([0, 1]);
  });

  it('views share storage; only reshape of a non-contiguous view copies', () => {
    const x = arange(12).reshape([3, 4]);
    for (const v of [x.T, x.slice([null, [null, null, -1]]), x.unsqueeze(1), x.broadcastTo([2, 3, 4]), x.reshape([4, 3])]) {
      expect(v.storage).toBe(x.storage);
    }
    expect(x.T.reshape([12]).storage).not.toBe(x.storage);
    expect(x.T.reshape([12]).toArray()).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
  });

  it('name the op and the shapes in errors', () => {
    const x = arange(6).reshape([2, 3]);
    expect(() => x.reshape([4, 2])).toThrow('reshape: cannot reshape [2,3] (6 elements) to [4,2] (8 elements)');
    expect(() => x.transpose([0, 0])).toThrow('transpose: permutation [0,0] does not fit a tensor of shape [2,3]');
    expect(() => x.slice([5])).toThrow('slice: index 5 is out of range for axis 0 of size 2 (shape [2,3])');
    expect(() => x.squeeze(1)).toThrow('squeeze: axis 1 of shape [2,3] has size 3, not 1');
    expect(() => x.broadcastTo([3, 3])).toThrow('broadcastTo: cannot broadcast [2,3] to [3,3]');
    expect(() => x.unsqueeze(4)).toThrow('unsqueeze: axis 4 is out of range for a tensor of rank 3');
  });
});
