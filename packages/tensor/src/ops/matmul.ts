/**
 * Matrix multiplication, NumPy's matmul (the @ operator):
 *
 *   C[..., i, j] = Σ_k A[..., i, k] · B[..., k, j]
 *
 * - 2-D: [M, K] @ [K, N] → [M, N].
 * - Batched: [...batchA, M, K] @ [...batchB, K, N] → [...broadcast(batchA, batchB), M, N].
 * - 1-D operands: a vector on the left is a row [1, K], on the right a column [K, 1]; the added axis
 *   is dropped from the result ([K] @ [K, N] → [N], [M, K] @ [K] → [M], [K] @ [K] → []).
 * dtypes promote as in elementwise ops (int32 < float32 < float64); both operands are cast to the
 * result dtype so that a backend sees one dtype. Backward (for autograd): dA = dC @ Bᵀ, dB = Aᵀ @ dC
 * (summed over broadcast batch axes); transposed views cost the CPU kernel nothing.
 */
import type { Tensor } from '../tensor.js';
import { getBackend } from '../backend.js';
import { promoteTypes } from '../dtype.js';
import { formatShape } from '../shape.js';

export function matmul(a: Tensor, b: Tensor): Tensor {
  const where = `matmul: ${formatShape(a.shape)} @ ${formatShape(b.shape)}`;
  if (a.rank === 0 || b.rank === 0) throw new Error(`${where}: scalars cannot be matrix-multiplied (use mul)`);
  // Promote vectors to matrices (views, no copy) and remember which axes to drop afterwards.
  const left = a.rank === 1 ? a.unsqueeze(0) : a;
  const right = b.rank === 1 ? b.unsqueeze(1) : b;
  const [m, k] = left.shape.slice(-2);
  const [k2, n] = right.shape.slice(-2);
  if (k !== k2) throw new Error(`${where}: inner dimensions ${k} and ${k2} differ`);
  const batch = broadcastBatch(where, left.shape.slice(0, -2), right.shape.slice(0, -2));

  const dtype = promoteTypes(a.dtype, b.dtype);
  const product = getBackend(a.backend).matmul(left.astype(dtype), right.astype(dtype), [...batch, m, n]);
  const shape = [...batch, ...(a.rank === 1 ? [] : [m]), ...(b.rank === 1 ? [] : [n])];
  return shape.length === product.rank ? product : product.reshape(shape);
}

/** NumPy broadcasting of the batch axes, with an error that shows the full operand shapes. */
function broadcastBatch(where: string, a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let d = 0; d < rank; d++) {
    const da = a[a.length - rank + d] ?? 1;
    const db = b[b.length - rank + d] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`${where}: batch dimensions ${formatShape(a)} and ${formatShape(b)} cannot be broadcast`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}
