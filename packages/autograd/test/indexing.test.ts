import { tensor } from '@gradlab/tensor';
import { F, gradcheck, variable } from '@gradlab/autograd';
import { normal } from './helpers';

describe('indexing: gradcheck', () => {
  const ids = tensor([[2, 0], [2, 2]], { dtype: 'int32' }); // repeats: row 2 is used three times
  it('gather along axis 0 (an embedding lookup), axis 1 and the last axis', () => {
    gradcheck((table) => F.gather(table, ids, 0), [normal([4, 3], 1)]);
    gradcheck((x) => x.gather(ids, 1), [normal([2, 3, 2], 2)]);
    gradcheck((x) => x.gather(tensor([1, 1, 0], { dtype: 'int32' }), -1), [normal([3, 2], 3)]);
    gradcheck((x) => F.indexSelect(x, 0, tensor([3, 1, 3], { dtype: 'int32' })), [normal([4, 2], 4)]);
  });
  it('gather with the indices as an input: only the table is checked', () => {
    gradcheck((table, index) => F.gather(table, index, 0), [normal([4, 3], 5), ids]);
  });
  it('where with broadcasting, both branches differentiable', () => {
    const cond = tensor([[1, 0, 1]], { dtype: 'int32' });
    gradcheck((a, b) => F.where(cond, a, b), [normal([2, 3], 6), normal([2, 1], 7)]);
    gradcheck((a) => F.where(a.data.gt(0), a, a.square()), [normal([5], 8)]);
    gradcheck((a) => F.where(cond, 0, a), [normal([4, 1], 9)]);
  });
});

describe('indexing: values by hand', () => {
  it('gather adds up the gradient of every copy of a row', () => {
    // rows picked: 2, 0, 2, 2 → row 0 once, row 1 never, row 2 three times
    const table = variable([[1, 1], [2, 2], [3, 3]], { requiresGrad: true });
    table.gather(tensor([2, 0, 2, 2], { dtype: 'int32' })).sum().backward();
    expect(table.grad!.toArray()).toEqual([[1, 1], [0, 0], [3, 3]]);
  });
  it('where sends the gradient to the picked input', () => {
    const a = variable([1, 2, 3], { requiresGrad: true }), b = variable([4, 5, 6], { requiresGrad: true });
    F.where(tensor([1, 0, 1], { dtype: 'int32' }), a, b).sum().backward();
    expect(a.grad!.toArray()).toEqual([1, 0, 1]);
    expect(b.grad!.toArray()).toEqual([0, 1, 0]);
  });
});
