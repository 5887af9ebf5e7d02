/**
 * The cpu backend's matmul: batched products, each one gemm read in place through the operands'
 * strides. The layers below, each importing only the ones under it:
 *
 *   matmul.ts          batches → gemms
 *   threads.ts         one gemm split between the main thread and the workers (gemm-worker.ts)
 *   gemm.ts            which kernel a gemm runs on (WebAssembly SIMD for float32, else JavaScript)
 *   gemm-js.ts, wasm/gemm-f32.ts   the blocked kernels
 *   pack.ts            MatrixRef (a strided matrix) and the packing both kernels share
 */
import type { Backend } from '../backend.js';
import { allocate } from '../dtype.js';
import { broadcastStrides, ordinalToIndex, sizeOf } from '../shape.js';
import { cpuTensor } from './elementwise.js';
import type { MatrixRef } from './pack.js';
import { parallelGemm } from './threads.js';

/**
 * Batched matmul: a [...batchA, M, K] @ b [...batchB, K, N] → [...batch, M, N], one gemm per batch
 * element, each operand read in place through its strides (broadcast batch axes have stride 0).
 * Both operands have the result's dtype (the front end in ops/matmul.ts casts them).
 */
export const matmul: Backend['matmul'] = (a, b, outShape) => {
  const rank = outShape.length;
  const [m, n] = [outShape[rank - 2], outShape[rank - 1]];
  const k = a.shape[a.rank - 1];
  const out = allocate(a.dtype, sizeOf(outShape));
  const batchShape = outShape.slice(0, -2);
  const aBatch = broadcastStrides(a.shape.slice(0, -2), a.strides.slice(0, -2), batchShape);
  const bBatch = broadcastStrides(b.shape.slice(0, -2), b.strides.slice(0, -2), batchShape);
  const matrixA = (offset: number): MatrixRef =>
    ({ data: a.storage.read(), offset, rowStride: a.strides[a.rank - 2], colStride: a.strides[a.rank - 1] });
  const matrixB = (offset: number): MatrixRef =>
    ({ data: b.storage.read(), offset, rowStride: b.strides[b.rank - 2], colStride: b.strides[b.rank - 1] });

  const batches = sizeOf(batchShape);
  // [B, T, K] @ [K, N] (a Dense layer on a sequence): when every batch element shares one B and A's
  // batch axes follow its rows in memory, the whole batch is one tall gemm of B·M rows.
  if (batches > 1 && bBatch.every((s) => s === 0) && rowsFold(batchShape, aBatch, m, a.strides[a.rank - 2])) {
    parallelGemm(batches * m, n, k, matrixA(a.offset), matrixB(b.offset), out);
    return cpuTensor(out, outShape);
  }
  const index = new Array<number>(batchShape.length).fill(0);
  for (let t = 0; t < batches; t++) {
    ordinalToIndex(t, batchShape, index);
    let aAt = a.offset, bAt = b.offset;
    for (let d = 0; d < index.length; d++) { aAt += index[d] * aBatch[d]; bAt += index[d] * bBatch[d]; }
    parallelGemm(m, n, k, matrixA(aAt), matrixB(bAt), out, t * m * n);
  }
  return cpuTensor(out, outShape);
};

/** True when stepping through the batch axes and then the M rows is one walk with stride rowStride. */
function rowsFold(batchShape: readonly number[], batchStrides: readonly number[], m: number, rowStride: number): boolean {
  let expected = rowStride * m;
  for (let d = batchShape.length - 1; d >= 0; d--) {
    if (batchShape[d] === 1) continue;
    if (batchStrides[d] !== expected) return false;
    expected *= batchShape[d];
  }
  return true;
}
