import { tensor, scalar, zeros } from '@gradlab/tensor';
import { Variable, variable, defineOp, noGrad, isGradEnabled, topologicalOrder, F } from '@gradlab/autograd';

describe('engine', () => {
  it('differentiates through a chain of 10,001 ops without overflowing the stack', () => {
    // y = −(−(…(−x)…)) with 10,001 negations: dy/dx = (−1)^10001 = −1, and each link must be applied once.
    const x = variable([2, 3], { requiresGrad: true });
    let y = x;
    for (let i = 0; i < 10_001; i++) y = y.neg();
    expect(topologicalOrder(y).length).toBe(10_002);
    y.sum().backward();
    expect(x.grad!.toArray()).toEqual([-1, -1]);
  });

  it('accumulates .grad over two backward calls until zeroGrad', () => {
    // d(3x)/dx = 3, d(x²)/dx = 2x = 4 at x = 2: after both, 3 + 4 = 7
    const x = variable(2, { requiresGrad: true });
    x.mul(3).backward();
    expect(x.grad!.item()).toBe(3);
    x.square().backward();
    expect(x.grad!.item()).toBe(7);
    x.zeroGrad();
    expect(x.grad).toBeNull();
  });

  it('sums the gradients of a Variable used in two branches', () => {
    // L = x·x + 2x  ⇒  dL/dx = 2x + 2 = [4, 8] at x = [1, 3]
    const x = variable([1, 3], { requiresGrad: true });
    x.mul(x).add(x.mul(2)).sum().backward();
    expect(x.grad!.toArray()).toEqual([4, 8]);
  });

  it('noGrad records nothing', () => {
    const x = variable([1, 2], { requiresGrad: true });
    const y = noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      return x.mul(2).exp();
    });
    expect(isGradEnabled()).toBe(true);
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    expect(() => y.sum().backward()).toThrow('does not require grad');
  });

  it('refuses a second backward through a freed graph, and allows it with retainGraph', () => {
    const x = variable([1, 2], { requiresGrad: true });
    const y = x.exp().sum();
    y.backward();
    expect(() => y.backward()).toThrow(/already freed.*retainGraph/);

    const z = variable([1, 2], { requiresGrad: true });
    const w = z.square().sum(); // dw/dz = 2z = [2, 4]
    w.backward(undefined, { retainGraph: true });
    w.backward();
    expect(z.grad!.toArray()).toEqual([4, 8]);
  });

  it('needs an explicit gradient to start from a non-scalar', () => {
    const x = variable([[1, 2], [3, 4]], { requiresGrad: true });
    const y = x.mul(3);
    expect(() => y.backward()).toThrow('backward: output of shape [2,2] is not a scalar');
    y.backward(tensor([[1, 0], [0, 2]]));
    expect(x.grad!.toArray()).toEqual([[3, 0], [0, 6]]);
  });

  it('detach cuts the graph; retainGrad keeps an interior gradient', () => {
    // L = Σ h·detach(h), h = 2x: only the first factor is differentiated, dL/dx = 2·h = 4x
    const x = variable([1, 2], { requiresGrad: true });
    const h = x.mul(2).retainGrad();
    h.mul(h.detach()).sum().backward();
    expect(x.grad!.toArray()).toEqual([4, 8]);
    expect(h.grad!.toArray()).toEqual([2, 4]); // dL/dh = detach(h)
  });

  it('gives a float32 parameter a float32 gradient even when a float64 constant is mixed in', () => {
    const x = variable([1, 2], { requiresGrad: true });
    const y = x.mul(tensor([3, 4], { dtype: 'float64' }));
    expect(y.dtype).toBe('float64');
    y.sum().backward();
    expect(x.grad!.dtype).toBe('float32');
    expect(x.grad!.toArray()).toEqual([3, 4]);
  });

  it('names the op when a backward returns a gradient of the wrong shape', () => {
    const broken = defineOp('broken', {
      forward: (ctx, [x]) => x.mul(2),
      backward: (ctx, dy) => [dy.reshape([-1])],
    });
    const x = variable([[1, 2]], { requiresGrad: true });
    expect(() => broken([x], undefined).sum().backward())
      .toThrow("backward: op 'broken' returned a gradient of shape [2] for input 0 of shape [1,2]");
  });

  it('passes no gradient to inputs that do not require it', () => {
    const x = variable([1, 2], { requiresGrad: true });
    const c = new Variable(tensor([5, 6]));
    F.mul(x, c).sum().backward();
    expect(c.grad).toBeNull();
    expect(x.grad!.toArray()).toEqual([5, 6]);
  });

  it('refuses requiresGrad on integers', () => {
    expect(() => new Variable(zeros([2], 'int32'), { requiresGrad: true })).toThrow('int32');
    expect(variable(scalar(1.5), { dtype: 'float64' }).dtype).toBe('float64');
  });
});
