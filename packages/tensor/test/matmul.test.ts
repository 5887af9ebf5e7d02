import { matmul, randn, randint, tensor, zeros, Tensor } from '@gradlab/tensor';

/** Elements of a tensor in row-major order, read one by one through get() (independent of the kernels). */
function valuesOf(x: Tensor): number[] {
  const out: number[] = [];
  const index = new Array<number>(x.rank).fill(0);
  for (let t = 0; t < x.size; t++) {
    out.push(x.get(...index));
    for (let d = x.rank - 1; d >= 0; d--) { if (++index[d] < x.shape[d]) break; index[d] = 0; }
  }
  return out;
}

/** The textbook definition, C[i, j] = Σ_k A[i, k] B[k, j], on 2-D tensors, in float64. */
function naiveMatmul2d(a: Tensor, b: Tensor): number[][] {
  const [m, k] = a.shape, n = b.shape[1];
  return Array.from({ length: m }, (_, i) => Array.from({ length: n }, (_, j) => {
    let s = 0;
    for (let t = 0; t < k; t++) s += a.get(i, t) * b.get(t, j);
    return s;
  }));
}

/** |actual − expected| ≤ tol·(1 + |expected|) elementwise, with the first offender in the message. */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol * (1 + Math.abs(expected[i])))) {
      throw new Error(`element ${i}: got ${actual[i]}, expected ${expected[i]} (tol ${tol})`);
    }
  }
}

describe('matmul 2-D', () => {
  // Sizes chosen to hit every edge of the blocking: tiles of 4×8, k blocks of 256, column blocks of 2048.
  const shapes: [number, number, number][] = [[1, 1, 1], [5, 7, 9], [4, 8, 8], [13, 300, 17], [67, 33, 70], [3, 5, 2100], [9, 513, 6]];
  it.each(shapes)('M=%i K=%i N=%i matches the triple loop', (m, k, n) => {
    const a = randn([m, k], { seed: m * 31 + k }), b = randn([k, n], { seed: n * 17 + k });
    const c = matmul(a, b);
    expect(c.shape).toEqual([m, n]);
    expect(c.dtype).toBe('float32');
    expectClose(c.dataSync(), naiveMatmul2d(a, b).flat(), 1e-5);
  });

  it('is also the Tensor method', () => {
    // [[1,2],[3,4]] @ [[5,6],[7,8]] = [[1·5+2·7, 1·6+2·8], [3·5+4·7, 3·6+4·8]]
    expect(tensor([[1, 2], [3, 4]]).matmul(tensor([[5, 6], [7, 8]])).toArray()).toEqual([[19, 22], [43, 50]]);
  });

  it('reads transposed and strided views in place', () => {
    const base = randn([12, 10], { seed: 3 });
    const other = randn([10, 12], { seed: 4 });
    const cases: [Tensor, Tensor][] = [
      [base.T, base],                                   // Aᵀ A: A read column-wise
      [base, base.T],                                   // A Aᵀ
      [other.T, base.T],                                // both transposed
      [base.slice([[1, 11, 2], [0, 10, 3]]), randn([4, 5], { seed: 5 })], // step-2 rows, step-3 columns
      [base.slice([[null, null, -1]]), other],          // rows reversed: a negative stride
    ];
    for (const [a, b] of cases) {
      expect(a.isContiguous() && b.isContiguous()).toBe(false);
      expectClose(matmul(a, b).dataSync(), naiveMatmul2d(a, b).flat(), 1e-5);
    }
  });

  it('computes float64 to double precision', () => {
    const a = randn([20, 30], { seed: 6, dtype: 'float64' }), b = randn([30, 11], { seed: 7, dtype: 'float64' });
    const c = matmul(a, b);
    expect(c.dtype).toBe('float64');
    expectClose(c.dataSync(), naiveMatmul2d(a, b).flat(), 1e-12);
  });

  it('keeps int32 exact and promotes mixed dtypes', () => {
    const a = randint([6, 9], -50, 50, { seed: 8 }), b = randint([9, 4], -50, 50, { seed: 9 });
    const c = matmul(a, b);
    expect(c.dtype).toBe('int32');
    expect(Array.from(c.dataSync())).toEqual(naiveMatmul2d(a, b).flat());
    expect(matmul(a, b.astype('float64')).dtype).toBe('float64');
    expect(matmul(a.astype('float32'), b).dtype).toBe('float32');
  });

  it('handles empty dimensions: a zero-length inner sum is 0', () => {
    expect(matmul(zeros([0, 3]), zeros([3, 4])).shape).toEqual([0, 4]);
    const c = matmul(randn([2, 0]), randn([0, 3]));
    expect(c.toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
  });
});

describe('matmul with vectors (NumPy rules)', () => {
  const v = randn([5], { seed: 10 }), w = randn([5], { seed: 11 }), m = randn([5, 3], { seed: 12 }), mt = randn([4, 5], { seed: 13 });
  it('vector @ matrix drops the row axis', () => {
    const c = matmul(v, m);
    expect(c.shape).toEqual([3]);
    expectClose(c.dataSync(), naiveMatmul2d(v.reshape([1, 5]), m).flat(), 1e-5);
  });
  it('matrix @ vector drops the column axis', () => {
    const c = matmul(mt, v);
    expect(c.shape).toEqual([4]);
    expectClose(c.dataSync(), naiveMatmul2d(mt, v.reshape([5, 1])).flat(), 1e-5);
  });
  it('vector @ vector is the dot product, a scalar', () => {
    const c = matmul(v, w);
    expect(c.shape).toEqual([]);
    const dot = valuesOf(v).reduce((s, x, i) => s + x * w.get(i), 0);
    expectClose([c.item()], [dot], 1e-5);
  });
  it('vector @ batch of matrices', () => {
    const b = randn([2, 5, 3], { seed: 14 });
    const c = matmul(v, b);
    expect(c.shape).toEqual([2, 3]);
    for (let t = 0; t < 2; t++) {
      expectClose(valuesOf(c.slice([t])), naiveMatmul2d(v.reshape([1, 5]), b.slice([t])).flat(), 1e-5);
    }
  });
});

describe('batched matmul', () => {
  /** Reference: loop over the broadcast batch, reading each operand's batch index NumPy's way. */
  function check(a: Tensor, b: Tensor, expectedShape: number[]): void {
    const c = matmul(a, b);
    expect(c.shape).toEqual(expectedShape);
    const batch = expectedShape.slice(0, -2);
    const count = batch.reduce((p, d) => p * d, 1);
    for (let t = 0; t < count; t++) {
      const index: number[] = [];
      for (let d = batch.length - 1, r = t; d >= 0; d--) { index.unshift(r % batch[d]); r = Math.floor(r / batch[d]); }
      const pick = (x: Tensor) => {
        const lead = batch.length - (x.rank - 2);
        return x.slice(index.slice(lead).map((i, d) => (x.shape[d] === 1 ? 0 : i)));
      };
      expectClose(valuesOf(c.slice(index)), naiveMatmul2d(pick(a), pick(b)).flat(), 1e-5);
    }
  }
  it('same batch shape', () => check(randn([3, 4, 6], { seed: 20 }), randn([3, 6, 5], { seed: 21 }), [3, 4, 5]));
  it('broadcasts batch axes of size 1 and missing ones', () =>
    check(randn([2, 1, 3, 7], { seed: 22 }), randn([4, 7, 2], { seed: 23 }), [2, 4, 3, 2]));
  it('a stack of inputs against one weight matrix (folded into one tall product)', () =>
    check(randn([4, 6, 9], { seed: 24 }), randn([9, 10], { seed: 25 }), [4, 6, 10]));
  it('a non-contiguous stack against one matrix (cannot fold)', () =>
    check(randn([6, 4, 9], { seed: 26 }).transpose([1, 0, 2]), randn([9, 3], { seed: 27 }), [4, 6, 3]));
  it('transposed matrices inside a batch', () =>
    check(randn([3, 5, 4], { seed: 28 }).T, randn([3, 6, 5], { seed: 29 }).T, [3, 4, 6]));
  it('one matrix against a stack', () => check(randn([4, 6], { seed: 30 }), randn([2, 3, 6, 5], { seed: 31 }), [2, 3, 4, 5]));
});

describe('matmul errors name the op and the shapes', () => {
  it('inner dimensions', () => {
    expect(() => matmul(zeros([32, 128]), zeros([64, 10]))).toThrow('matmul: [32,128] @ [64,10]: inner dimensions 128 and 64 differ');
    expect(() => matmul(zeros([3]), zeros([4]))).toThrow('matmul: [3] @ [4]: inner dimensions 3 and 4 differ');
  });
  it('batch dimensions', () => {
    expect(() => matmul(zeros([2, 3, 4]), zeros([3, 4, 5]))).toThrow('matmul: [2,3,4] @ [3,4,5]: batch dimensions [2] and [3] cannot be broadcast');
  });
  it('scalars', () => {
    expect(() => matmul(tensor(2), zeros([2, 2]))).toThrow('matmul: [] @ [2,2]: scalars cannot be matrix-multiplied');
  });
});
