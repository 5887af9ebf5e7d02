import * as gradlab from 'gradlab';
import { Tensor } from '@gradlab/tensor';
import { Variable, F, variable } from '@gradlab/autograd';

describe('the autograd API', () => {
  it('is reachable through gradlab without hiding the tensor functions of the same names', () => {
    expect(gradlab.F.matmul).toBe(F.matmul);
    expect(gradlab.Variable).toBe(Variable);
    const t = gradlab.add(gradlab.tensor([1]), gradlab.tensor([2])); // the tensor package's add
    expect(t).toBeInstanceOf(Tensor);
    expect(t.toArray()).toEqual([3]);
  });
  it('accepts Variables, Tensors and numbers, and Variable methods match the free functions', () => {
    const x = variable([1, 2], { requiresGrad: true });
    const viaMethod = x.mul(2).add(gradlab.tensor([1, 1])).sum();
    const viaF = F.sum(F.add(F.mul(x, 2), gradlab.tensor([1, 1])));
    expect(viaMethod.item()).toBe(viaF.item());
    expect(viaMethod.gradFn!.op).toBe('sum');
    expect(() => F.add(1, 2)).toThrow('got two numbers');
  });
});
