import { F, gradcheck, variable } from '@gradlab/autograd';
import { normal } from './helpers';

describe('matmul: gradcheck', () => {
  const cases: Array<[number[], number[]]> = [
    [[3, 4], [4, 2]],             // matrices
    [[2, 3, 4], [2, 4, 5]],       // batched
    [[2, 3, 4], [4, 5]],          // a weight shared by the batch: its gradient is summed over it
    [[3, 4], [2, 4, 5]],          // the other way round
    [[2, 1, 3, 4], [5, 4, 2]],    // batch dims broadcast both ways: [2,1] with [5] → [2,5]
    [[4], [4, 3]],                // vector @ matrix
    [[3, 4], [4]],                // matrix @ vector
    [[4], [4]],                   // dot product
    [[4], [2, 4, 3]],             // vector @ batch
    [[2, 3, 4], [4]],             // batch @ vector
  ];
  for (const [sa, sb] of cases) {
    it(`[${sa}] @ [${sb}]`, () => { gradcheck((a, b) => a.matmul(b), [normal(sa, 1), normal(sb, 2)]); });
  }
  it('x used on both sides: x @ xᵀ', () => { gradcheck((x) => F.matmul(x, x.T), [normal([3, 4], 3)]); });
  it('with a constant operand only the Variable gets a gradient', () => {
    gradcheck((a) => a.matmul(normal([4, 2], 5)), [normal([3, 4], 4)]);
  });
});

describe('matmul: values by hand', () => {
  it('∂ΣAB/∂A = 1·Bᵀ (row sums of B), ∂ΣAB/∂B = Aᵀ·1 (column sums of A)', () => {
    // A = [[1,2],[3,4]], B = [[5,6],[7,8]], dY = ones:
    //   dA_ik = Σ_j B_kj = [11, 15] in every row;  dB_kj = Σ_i A_ik = [4, 6] down every column
    const A = variable([[1, 2], [3, 4]], { requiresGrad: true });
    const B = variable([[5, 6], [7, 8]], { requiresGrad: true });
    A.matmul(B).sum().backward();
    expect(A.grad!.toArray()).toEqual([[11, 15], [11, 15]]);
    expect(B.grad!.toArray()).toEqual([[4, 4], [6, 6]]);
  });
  it('a weight shared over a batch gets the sum over the batch', () => {
    // X [2,1,2] = two samples [1,2] and [3,4]; W [2,1]; L = Σ X·W ⇒ dW = Σ_samples xᵀ = [1+3, 2+4]
    const X = variable([[[1, 2]], [[3, 4]]]);
    const W = variable([[1], [1]], { requiresGrad: true });
    X.matmul(W).sum().backward();
    expect(W.grad!.toArray()).toEqual([[4], [6]]);
  });
  it('reports the operand shapes on a mismatch', () => {
    expect(() => F.matmul(normal([3, 4], 1), normal([5, 2], 2))).toThrow('matmul: [3,4] @ [5,2]: inner dimensions 4 and 5 differ');
  });
});
