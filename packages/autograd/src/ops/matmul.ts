/**
 * Matrix multiplication, batched:  [..., M, K] @ [..., K, N] → [..., M, N], batch dims broadcast;
 * a 1-D left operand is a row [1, K] and a 1-D right operand a column [K, 1], the added axis dropped
 * from the result (NumPy's rules, which the tensor package's matmul implements).
 */
import type { Tensor } from '@gradlab/tensor';
import { defineOp } from '../engine.js';
import type { Variable } from '../variable.js';
import { liftPair } from './operand.js';
import type { Operand } from './operand.js';
import { sumToShape } from './binary.js';

/**
 * matmul:  Y = A·B,   Y_ij = Σ_k A_ik B_kj
 *   ∂L/∂A_ik = Σ_j dY_ij B_kj  =  (dY · Bᵀ)_ik
 *   ∂L/∂B_kj = Σ_i A_ik dY_ij  =  (Aᵀ · dY)_kj
 * (check the shapes: dY [M,N] · Bᵀ [N,K] is [M,K] like A;  Aᵀ [K,M] · dY [M,N] is [K,N] like B).
 * With batch dims, a matrix broadcast across the batch (a weight [K,N] used by every sample of
 * [B,M,K]) gets the sum of its per-batch gradients: sumToShape, as for any broadcast.
 */
const matmulOp = defineOp('matmul', {
  forward: (ctx, [a, b]) => { ctx.save(a, b); return a.matmul(b); },
  backward: (ctx, dy) => {
    const [a, b] = ctx.saved;
    const { A, B, dY } = asMatrices(a, b, dy);
    return [
      ctx.needs(0) ? sumToShape(dY.matmul(B.T), A.shape).reshape(a.shape) : null,
      ctx.needs(1) ? sumToShape(A.T.matmul(dY), B.shape).reshape(b.shape) : null,
    ];
  },
});
export const matmul = (a: Operand, b: Operand): Variable => matmulOp(liftPair(a, b), undefined);

/**
 * The operands as the forward really multiplied them — a vector a as the row [1, K], a vector b as the
 * column [K, 1] — and dy with the axes the forward dropped put back, so that the formulas above apply
 * unchanged (views only, nothing is copied).
 */
function asMatrices(a: Tensor, b: Tensor, dy: Tensor): { A: Tensor; B: Tensor; dY: Tensor } {
  let dY = dy;
  if (a.rank === 1) dY = dY.unsqueeze(b.rank === 1 ? 0 : dY.rank - 1); // the M axis (size 1) before N
  if (b.rank === 1) dY = dY.unsqueeze(dY.rank); // the N axis (size 1) last
  return { A: a.rank === 1 ? a.unsqueeze(0) : a, B: b.rank === 1 ? b.unsqueeze(1) : b, dY };
}
