/**
 * Reductions against naive references: group the elements by their index with the reduced axes removed,
 * fold each group with plain JavaScript, compare. Random shapes, random axis subsets, keepDims both ways,
 * contiguous inputs and strided views.
 */
import { Random, tensor, sum, mean, max, min, prod, argmax, argmin, variance, logSumExp } from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import { allIndices, expectClose, flatIndex, randomAxes, randomShape, randomTensor } from './reference';

type Fold = (group: number[]) => number;
const FOLDS: Record<'sum' | 'mean' | 'max' | 'min' | 'prod', Fold> = {
  sum: (g) => g.reduce((s, v) => s + v, 0),
  mean: (g) => g.reduce((s, v) => s + v, 0) / g.length,
  max: (g) => Math.max(...g),
  min: (g) => Math.min(...g),
  prod: (g) => g.reduce((p, v) => p * v, 1),
};
const OPS = { sum, mean, max, min, prod };

/** The groups of elements that each output element folds, in row-major order of the output. */
function groups(x: Tensor, axes: number[]): { outShape: number[]; groups: number[][] } {
  const outShape = x.shape.filter((_, k) => !axes.includes(k));
  const out: number[][] = allIndices(outShape).map(() => []);
  for (const i of allIndices(x.shape)) {
    out[flatIndex(i.filter((_, k) => !axes.includes(k)), outShape)].push(x.get(...i));
  }
  return { outShape, groups: out };
}

/**
 * Sometimes a strided view of the same values: a copy with its axes permuted, permuted back (strides
 * out of order: the kernels' memory-order path), or a reversed copy reversed back (negative strides).
 */
function maybeStrided(rng: Random, x: Tensor): Tensor {
  const r = rng.int(3);
  if (r === 1 && x.rank >= 2) {
    const perm = rng.shuffle(x.shape.map((_, k) => k)) as number[];
    const inverse = perm.map((_, k) => perm.indexOf(k));
    return x.transpose(perm).contiguous().transpose(inverse);
  }
  if (r === 2 && x.rank >= 1) return x.slice([[null, null, -1]]).contiguous().slice([[null, null, -1]]);
  return x;
}

/** Two-pass variance in float64: Σ (v − m)² / (n − correction). */
function naiveVariance(g: number[], correction: number): number {
  const m = g.reduce((s, v) => s + v, 0) / g.length;
  return g.reduce((s, v) => s + (v - m) ** 2, 0) / (g.length - correction);
}

describe('reductions against naive references', () => {
  it('sum, mean, max, min, prod over random axis subsets, with and without keepDims', () => {
    const rng = new Random(3);
    for (let trial = 0; trial < 250; trial++) {
      const shape = randomShape(rng, 4, 4);
      const x = maybeStrided(rng, randomTensor(rng, shape, trial % 5 === 0 ? 'float64' : 'float32').t);
      const axes = randomAxes(rng, shape.length);
      const keepDims = rng.next() < 0.5;
      const { outShape, groups: g } = groups(x, axes);
      for (const [name, op] of Object.entries(OPS)) {
        const r = op(x, axes, keepDims);
        const expectedShape = keepDims ? shape.map((d, k) => (axes.includes(k) ? 1 : d)) : outShape;
        expect([name, r.shape, r.dtype]).toEqual([name, expectedShape, x.dtype]);
        expectClose(r.dataSync(), g.map(FOLDS[name as keyof typeof FOLDS]), 1e-5, 1e-5, `${name} of ${JSON.stringify(shape)} over [${axes}]`);
      }
    }
  });

  it('undefined axes reduce everything to a scalar; negative axes count from the end', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(x.sum().shape).toEqual([]);
    expect(x.sum().item()).toBe(21);               // 1+…+6
    expect(x.sum(undefined, true).shape).toEqual([1, 1]);
    expect(x.mean(-1).toArray()).toEqual([2, 5]);  // (1+2+3)/3, (4+5+6)/3
    expect(x.max([-2]).toArray()).toEqual([4, 5, 6]);
    expect(x.prod(1).toArray()).toEqual([6, 120]);
    expect(x.sum([]).toArray()).toEqual([[1, 2, 3], [4, 5, 6]]); // no axes: nothing to fold
  });

  it('axis 0 of an [N, F] matrix (the bias-gradient/BatchNorm case), also through a column slice', () => {
    const rng = new Random(5);
    const { t } = randomTensor(rng, [37, 11]);
    for (const x of [t, t.slice([null, [2, 9, 2]]), t.T.contiguous().T]) {
      const { groups: g } = groups(x, [0]);
      expectClose(x.sum(0).dataSync(), g.map(FOLDS.sum), 1e-5, 1e-5, 'sum axis 0');
      expectClose(x.variance(0).dataSync(), g.map((v) => naiveVariance(v, 0)), 1e-5, 1e-6, 'variance axis 0');
    }
  });

  it('int32: sum, prod, max and min stay int32; mean and variance give float32', () => {
    const x = tensor([[1, 2], [3, 5]], { dtype: 'int32' });
    expect([x.sum().dtype, x.prod().dtype, x.max().dtype, x.min().dtype]).toEqual(['int32', 'int32', 'int32', 'int32']);
    expect(x.sum(0).toArray()).toEqual([4, 7]);
    expect(x.mean(1).dtype).toBe('float32');
    expect(x.mean(1).toArray()).toEqual([1.5, 4]);          // (1+2)/2, (3+5)/2
    expect(x.variance(1).dtype).toBe('float32');
    expect(x.variance(1).toArray()).toEqual([0.25, 1]);      // ((±0.5)²)·2/2, ((±1)²)·2/2
  });

  it('empty axes: sum 0, prod 1, mean NaN; max and min refuse', () => {
    const x = tensor(new Float32Array(0), { shape: [0, 3] });
    expect(x.sum(0).toArray()).toEqual([0, 0, 0]);
    expect(x.prod(0).toArray()).toEqual([1, 1, 1]);
    expect(Array.from(x.mean(0).dataSync(), Number.isNaN)).toEqual([true, true, true]);
    expect(x.sum(1).shape).toEqual([0]);
    expect(() => x.max(0)).toThrow('max: cannot reduce over an empty axis (shape [0,3], axes [0])');
    expect(() => argmin(x)).toThrow('argmin: cannot take the argmin of an empty tensor (shape [0,3])');
  });

  it('max and min propagate NaN', () => {
    const x = tensor([[1, NaN, 3], [4, 5, 6]]);
    expect(x.max(1).toArray()).toEqual([NaN, 6]);
    expect(x.min(0).toArray()).toEqual([1, NaN, 3]);
  });

  it('errors name the op and the axis', () => {
    const x = tensor([[1, 2], [3, 4]]);
    expect(() => x.sum(2)).toThrow('sum: axis 2 is out of range for a tensor of rank 2');
    expect(() => x.mean([0, -2])).toThrow('mean: repeated axis in [0,-2]');
    expect(() => x.argmax(-3)).toThrow('argmax: axis -3 is out of range for a tensor of rank 2');
    expect(() => x.variance(0, false, -1)).toThrow('variance: correction must be >= 0, got -1');
  });
});

describe('argmax and argmin', () => {
  /** The first position of the extreme value, by a plain loop. */
  const naiveArg = (g: number[], better: (a: number, b: number) => boolean) =>
    g.reduce((best, v, i) => (better(v, g[best]) ? i : best), 0);

  it('along one random axis (ties go to the first occurrence) and over the flattened tensor', () => {
    const rng = new Random(9);
    for (let trial = 0; trial < 200; trial++) {
      const shape = randomShape(rng, 4, 4, 1);
      const x = maybeStrided(rng, randomTensor(rng, shape, 'int32').t); // small integers: many ties
      const axis = rng.int(shape.length) - (rng.next() < 0.5 ? shape.length : 0);
      const a = (axis + shape.length) % shape.length;
      const keepDims = rng.next() < 0.5;
      const { groups: g } = groups(x, [a]);
      const rMax = argmax(x, axis, keepDims), rMin = argmin(x, axis, keepDims);
      expect(rMax.dtype).toBe('int32');
      expect(rMax.shape).toEqual(keepDims ? shape.map((d, k) => (k === a ? 1 : d)) : shape.filter((_, k) => k !== a));
      expect(Array.from(rMax.dataSync())).toEqual(g.map((v) => naiveArg(v, (p, q) => p > q)));
      expect(Array.from(rMin.dataSync())).toEqual(g.map((v) => naiveArg(v, (p, q) => p < q)));
      const flat = Array.from(x.dataSync());
      expect(argmax(x).item()).toBe(naiveArg(flat, (p, q) => p > q));
      expect(argmin(x, undefined, true).shape).toEqual(shape.map(() => 1));
    }
  });

  it('a NaN is the extreme value, as in NumPy', () => {
    expect(tensor([1, NaN, 5, NaN]).argmax().item()).toBe(1);
    expect(tensor([1, NaN, -5]).argmin().item()).toBe(1);
  });
});

describe('variance', () => {
  it('matches a two-pass float64 reference over random axes, correction 0 and 1', () => {
    const rng = new Random(13);
    for (let trial = 0; trial < 150; trial++) {
      const shape = randomShape(rng, 4, 4, 1);
      const x = maybeStrided(rng, randomTensor(rng, shape).t);
      const axes = randomAxes(rng, shape.length);
      const correction = rng.int(2);
      const r = variance(x, axes, rng.next() < 0.5, correction);
      const { groups: g } = groups(x, axes);
      // a group of one element with correction 1 divides 0 by 0: NaN, as NumPy (and naiveVariance) give
      expectClose(r.dataSync(), g.map((v) => naiveVariance(v, correction)), 1e-5, 1e-6, `variance [${axes}] c=${correction}`);
    }
  });

  it('is numerically stable: 1e4 + small noise in float32 (where E[x²] − E[x]² fails)', () => {
    const rng = new Random(17);
    const n = 4096;
    const values = new Float32Array(n).map(() => 1e4 + 0.1 * rng.normal());
    const x = tensor(values);
    // float64 reference from the float32 values as stored, two passes
    const reference = naiveVariance(Array.from(values), 0); // ≈ 0.01
    const stable = x.variance().item();
    expect(Math.abs(stable - reference) / reference).toBeLessThan(1e-5);
    // The textbook shortcut in float32 tensors: x² ≈ 1e8 has a float32 spacing of 8, so squaring loses
    // the variance entirely. Asserted so that this test shows what it guards against.
    const shortcut = x.square().mean().sub(x.mean().square()).item();
    expect(Math.abs(shortcut - reference) / reference).toBeGreaterThan(0.1);
    // Even with float64 accumulators the shortcut misses the 1e-5 tolerance above: Σx² ≈ 4e11 picks up
    // rounding errors around 1e-3 while the signal it must keep, n·var, is only about 40. So the tolerance
    // rules out the formula itself, not just doing it in float32.
    let sumSquares = 0, total = 0;
    for (const v of values) { sumSquares += v * v; total += v; }
    const shortcut64 = sumSquares / n - (total / n) ** 2;
    expect(Math.abs(shortcut64 - reference) / reference).toBeGreaterThan(1e-5);
  });

  it('per-feature statistics of a BatchNorm-like [N, F] batch with large offsets', () => {
    const rng = new Random(19);
    const [N, F] = [256, 8];
    const values = new Float32Array(N * F).map((_, i) => 1e4 * ((i % F) + 1) + rng.normal());
    const x = tensor(values, { shape: [N, F] });
    const columns = Array.from({ length: F }, (_, f) => Array.from({ length: N }, (_, r) => values[r * F + f]));
    expectClose(x.variance(0).dataSync(), columns.map((c) => naiveVariance(c, 0)), 1e-5, 0, 'variance axis 0');
    expectClose(x.mean(0).dataSync(), columns.map(FOLDS.mean), 1e-7, 0, 'mean axis 0');
  });
});

describe('logSumExp', () => {
  it('matches log Σ exp over random axes for moderate values', () => {
    const rng = new Random(23);
    for (let trial = 0; trial < 100; trial++) {
      const shape = randomShape(rng, 3, 4, 1);
      const x = randomTensor(rng, shape).t;
      const axes = randomAxes(rng, shape.length);
      const { groups: g } = groups(x, axes);
      const expected = g.map((v) => Math.log(v.reduce((s, e) => s + Math.exp(e), 0)));
      expectClose(logSumExp(x, axes).dataSync(), expected, 1e-5, 1e-6, `logSumExp [${axes}]`);
    }
  });

  it('does not overflow or underflow, and handles -Infinity', () => {
    // log(e^1000 + e^1000) = 1000 + log 2; the naive exp(1000) is Infinity
    expect(logSumExp(tensor([1000, 1000])).item()).toBeCloseTo(1000 + Math.log(2), 3);
    expect(logSumExp(tensor([-1000, -1000])).item()).toBeCloseTo(-1000 + Math.log(2), 3);
    // a row of all -Infinity has log Σ exp = log 0 = -Infinity (not NaN from −∞ − (−∞))
    expect(logSumExp(tensor([[-Infinity, -Infinity], [0, -Infinity]]), 1).toArray()).toEqual([-Infinity, 0]);
    expect(logSumExp(tensor([[1, 2], [3, 4]]), 0, true).shape).toEqual([1, 2]);
  });
});

describe('sum and mean add the rows in order, bit for bit', () => {
  // The kernels add four rows per step into float64 accumulators (cpu/reduce.ts; float32 sums of at
  // least 4,096 numbers over an even number of columns go to a WebAssembly kernel, two columns at a time,
  // in bands of 2^15 numbers). They must still add the rows one after another, front to back: the result
  // is then exactly that of a plain sequential fold in float64, rounded once to the dtype. Row counts
  // around multiples of four and larger ones, inner widths 1 to 5 (the JavaScript loops) and [1027, 64]
  // (the kernel: bands of 512, 512 and 3 rows), both float dtypes, values of very different sizes.
  const shapes: [number, number][] = [];
  for (const rows of [1, 3, 4, 5, 8, 11, 64, 103]) for (const inner of [1, 2, 5]) shapes.push([rows, inner]);
  shapes.push([1027, 64]);
  it.each(['float32', 'float64'] as const)('%s', (dtype) => {
    const rng = new Random(17);
    const stored = (v: number) => (dtype === 'float32' ? Math.fround(v) : v);
    const make = (values: number[]) => (dtype === 'float32' ? new Float32Array(values) : new Float64Array(values));
    const columnSums = (data: ArrayLike<number>, rows: number, inner: number) => Array.from({ length: inner }, (_, j) => {
      let s = 0;
      for (let r = 0; r < rows; r++) s += data[r * inner + j];
      return s;
    });
    for (const [rows, inner] of shapes) {
      const data = make(Array.from({ length: rows * inner }, () => rng.normal() * 10 ** (rng.int(17) - 8)));
      const x = tensor(data, { shape: [rows, inner] });
      const expected = columnSums(data, rows, inner);
      expect(Array.from(sum(x, 0).dataSync())).toEqual(expected.map(stored));
      expect(Array.from(mean(x, 0).dataSync())).toEqual(expected.map((s) => stored(s * (1 / rows))));
    }
    // float32 values rarely show the order once the float64 sum is rounded to float32, so columns where
    // they must: in float64, 1 + 2⁶⁰ is 2⁶⁰ (53 bits of mantissa), so front to back each 2⁶⁰ swallows
    // the 1 before it and the sum of [1, 2⁶⁰, −2⁶⁰, 1, 1, 2⁶⁰, −2⁶⁰, 1, 1] is the last two 1s: 2. Adding
    // each group of four pairwise, (1 + 2⁶⁰) + (−2⁶⁰ + 1), would give 0 + 0 + 1.
    const pattern = [1, 2 ** 60, -(2 ** 60), 1];
    expect(Array.from(sum(tensor(make([...pattern, ...pattern, 1]), { shape: [9, 1] }), 0).dataSync())).toEqual([2]);
    // The kernel's case: two columns of 2,048 rows of [2⁶⁰, 1, −2⁶⁰, 1] repeated, against the fold. The
    // data tells the orders apart: each group of four added pairwise, or back to front, gives another sum.
    const rows = 2048, groups = [2 ** 60, 1, -(2 ** 60), 1];
    const twoColumns = make(Array.from({ length: 2 * rows }, (_, i) => groups[(i >> 1) % 4]));
    const inOrder = columnSums(twoColumns, rows, 2);
    expect(Array.from(sum(tensor(twoColumns, { shape: [rows, 2] }), 0).dataSync())).toEqual(inOrder.map(stored));
    let pairwise = 0, backwards = 0;
    for (let r = 0; r < rows; r += 4) {
      const [a, b, c, d] = [0, 1, 2, 3].map((k) => twoColumns[2 * (r + k)]);
      pairwise += (a + b) + (c + d);
      backwards += d; backwards += c; backwards += b; backwards += a;
    }
    expect([pairwise, backwards]).toEqual([0, 0]);
    expect(inOrder[0]).toBe(1);
  });
});
