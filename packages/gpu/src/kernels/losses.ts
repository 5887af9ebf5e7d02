/**
 * The gpu backend's loss kernels (LossKernels in @gradlab/tensor): softmax and sigmoid cross-entropy
 * from logits, in their stable forms. The CPU's loops are packages/tensor/src/cpu/losses.ts.
 */
import type { Tensor } from '@gradlab/tensor';
import { formatShape } from '@gradlab/tensor';
import { launch, storageOf } from '../context.js';
import type { GpuContext } from '../context.js';
import { literal } from '../codegen.js';
import { copy, UNARY } from './elementwise.js';
import { reduce } from './reduce.js';
import { free, matrix, rows } from './matrix.js';

// ---- softmax cross-entropy --------------------------------------------------------------------

export function softmaxCrossEntropy(ctx: GpuContext, logits0: Tensor, labels0: Tensor) {
  const temps: Tensor[] = [];
  const { x: z, M: N, C } = matrix(ctx, 'softmaxCrossEntropy', logits0, temps);
  if (labels0.size !== N) {
    throw new Error(`softmaxCrossEntropy: logits ${formatShape(logits0.shape)} have ${N} rows, labels ${formatShape(labels0.shape)} have ${labels0.size}`);
  }
  const labels = labels0.isContiguous() ? labels0 : copy(ctx, labels0, labels0.dtype);
  if (labels !== labels0) temps.push(labels);
  const shape: [number, number] = [N, C];
  const m = reduce(ctx, 'max', z, [1]);                                                         // row max [N, 1]
  const e = rows(ctx, 'sce-exp', shape, { z: [z, 'full'], m: [m, 'row'] }, 'Math.exp(z - m)');  // e^{z − max} ≤ 1
  const s = reduce(ctx, 'sum', e, [1]);
  const softmax = rows(ctx, 'sce-softmax', shape, { e: [e, 'full'], s: [s, 'row'] }, 'e / s');
  // loss_r = log Σ e^{z − m} + m − z[r, label_r]: one thread per row reads its label's logit. A label
  // that is not a class index gives NaN (the caller does not read labels back to check them).
  const loss = launch(ctx, 'float32', [N], {
    op: 'sce-loss', key: `${N},${C}`,
    inputs: { z: storageOf(z), m: storageOf(m), s: storageOf(s), y: storageOf(labels) },
    uniforms: { zOffset: z.offset, yOffset: labels.offset },
    body: (read) => [
      `  const label = ${read('y', 'o + yOffset')};`,
      `  if (label < 0.0 || label > ${literal(C - 1)} || Math.floor(label) != label) { return ${literal(NaN)}; }`,
      `  return Math.log(${read('s', 'o')}) + ${read('m', 'o')} - ${read('z', `o * ${C} + label + zOffset`)};`,
    ].join('\n'),
  });
  free([...temps, m, e, s]);
  return { loss, softmax: softmax.reshape(logits0.shape) };
}

// ---- sigmoid cross-entropy: loss = max(z, 0) − z·t + log(1 + e^{−|z|}),  and σ(z) ------------------

export function sigmoidCrossEntropy(ctx: GpuContext, logits0: Tensor, targets0: Tensor) {
  const temps: Tensor[] = [];
  const { x: z, M, C } = matrix(ctx, 'sigmoidCrossEntropy', logits0, temps);
  const { x: t } = matrix(ctx, 'sigmoidCrossEntropy', targets0, temps);
  const shape: [number, number] = [M, C];
  const loss = rows(ctx, 'bce-loss', shape, { z: [z, 'full'], t: [t, 'full'] },
    '(z > 0.0 ? z : 0.0) - z * t + Math.log(1.0 + Math.exp(-Math.abs(z)))');
  const sigmoid = rows(ctx, 'bce-sigmoid', shape, { z: [z, 'full'] }, UNARY.sigmoid('z'));
  free(temps);
  return { loss: loss.reshape(logits0.shape), sigmoid: sigmoid.reshape(logits0.shape) };
}
