import { tensor, where, randn, Tensor, arange } from '@gradlab/tensor';

describe('elementwise', () => {
  it('broadcasts a row over a matrix', () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(a.add(tensor([10, 20, 30])).toArray()).toEqual([[11, 22, 33], [14, 25, 36]]);
  });
  it('names the op and shapes on a broadcast failure', () => {
    expect(() => tensor([[1, 2, 3]]).add(tensor([1, 2]))).toThrow('add: shapes [1,3] and [2] cannot be broadcast');
  });
  it('works on strided views', () => {
    const a = arange(6).reshape([2, 3]);
    expect(a.T.mul(2).toArray()).toEqual([[0, 6], [2, 8], [4, 10]]);
  });
  it('where picks by condition', () => {
    const a = tensor([1, -2, 3]);
    expect(where(a.gt(0), a, 0).toArray()).toEqual([1, 0, 3]);
  });
  it('seeded randn is reproducible', () => {
    expect(randn([4], { seed: 7 }).toArray()).toEqual(randn([4], { seed: 7 }).toArray());
    expect(randn([4], { seed: 7 })).toBeInstanceOf(Tensor);
  });
});

describe('row broadcasts (the fast paths for [..., C] op [C] and [..., C] op [..., 1])', () => {
  /** Naive reference: out[idx] = a[idx] op b[idx with broadcast axes at 0]. */
  function reference(a: Tensor, b: Tensor, f: (x: number, y: number) => number): number[] {
    const shape = a.shape, out: number[] = [];
    const idx = new Array(shape.length).fill(0);
    for (let i = 0; i < a.size; i++) {
      let r = i;
      for (let k = shape.length - 1; k >= 0; k--) { idx[k] = r % shape[k]; r = Math.floor(r / shape[k]); }
      const lead = shape.length - b.rank;
      const bIdx = b.shape.map((d, k) => (d === 1 ? 0 : idx[k + lead]));
      out.push(f(a.get(...idx), b.get(...bIdx)));
    }
    return out;
  }
  const ops: Array<[string, (x: number, y: number) => number]> = [
    ['add', (x, y) => x + y], ['sub', (x, y) => x - y], ['mul', (x, y) => x * y], ['div', (x, y) => x / y],
  ];
  const cases: Array<[number[], number[]]> = [[[4, 3], [3]], [[2, 4, 3], [1, 1, 3]], [[4, 3], [4, 1]], [[2, 4, 3], [2, 4, 1]], [[2, 4, 3], [4, 1]], [[2, 4, 3], [2, 1, 3]]];
  for (const [aShape, bShape] of cases) {
    it(`${JSON.stringify(aShape)} op ${JSON.stringify(bShape)} matches the naive loop`, () => {
      const a = randn(aShape, { seed: 1, dtype: 'float64' }), b = randn(bShape, { seed: 2, dtype: 'float64' }).add(3);
      for (const [name, f] of ops) {
        const got = Array.from((a as unknown as Record<string, (t: Tensor) => Tensor>)[name].call(a, b).dataSync());
        expect(got).toEqual(reference(a, b, f));
      }
    });
  }
  it('relu keeps NaN visible and zeroes negatives', () => {
    expect(tensor([-2, 0, 3, NaN]).relu().toArray()).toEqual([0, 0, 3, NaN]);
  });
});
