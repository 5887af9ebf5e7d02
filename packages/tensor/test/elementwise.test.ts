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
