/**
 * Front ends of the loss kernels (LossKernels in ../backend.ts): shape and dtype checks, then the
 * backend that holds the logits. Labels are not read here (they may live on a device): a label that is
 * not a class index gives a NaN loss for its row; models check their labels on the host where a batch
 * enters fit (@gradlab/layers's models/check-batch.ts).
 */
import type { Tensor } from '../tensor.js';
import { getBackend } from '../backend.js';
import { formatShape, sizeOf } from '../shape.js';

/** softmax and cross-entropy of logits [..., C] against integer labels [...] (or [..., 1]): loss [rows], softmax [rows, C]. */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor) {
  if (logits.dtype === 'int32' || logits.rank < 1) {
    throw new Error(`softmaxCrossEntropy: logits ${formatShape(logits.shape)} must be floats with a class axis`);
  }
  const C = logits.shape[logits.rank - 1], rows = C === 0 ? 0 : logits.size / C;
  const rowsShape = logits.shape.slice(0, -1);
  const ok = sizeOf(labels.shape) === rows &&
    (labels.rank === rowsShape.length || (labels.rank === rowsShape.length + 1 && labels.shape[labels.rank - 1] === 1));
  if (!ok) {
    throw new Error(`softmaxCrossEntropy: labels ${formatShape(labels.shape)} do not match logits ${formatShape(logits.shape)} ` +
      `(expected ${formatShape(rowsShape)} or ${formatShape([...rowsShape, 1])}: one class index per example)`);
  }
  return getBackend(logits.backend).softmaxCrossEntropy(logits.reshape([rows, C]), labels.astype('int32').reshape([rows]));
}

/** Elementwise sigmoid cross-entropy of logits against targets of the same size: loss and σ(logits), in the logits' shape. */
export function sigmoidCrossEntropy(logits: Tensor, targets: Tensor) {
  if (logits.dtype === 'int32') throw new Error(`sigmoidCrossEntropy: logits ${formatShape(logits.shape)} must be floats, got int32`);
  if (targets.size !== logits.size) {
    throw new Error(`sigmoidCrossEntropy: targets ${formatShape(targets.shape)} do not match logits ${formatShape(logits.shape)}`);
  }
  return getBackend(logits.backend).sigmoidCrossEntropy(logits, targets.astype(logits.dtype).reshape(logits.shape));
}
