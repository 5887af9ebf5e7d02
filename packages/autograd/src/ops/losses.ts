/**
 * Cross-entropies from logits as differentiable ops, each beside its composite reference. The fused
 * forms call the backend's kernel (LossKernels in @gradlab/tensor; the CPU's loops are in
 * packages/tensor/src/cpu/losses.ts) and keep only softmax or σ for backward, whose closed forms are
 * one elementwise line each. Targets are data: no gradient flows to them.
 */
import { oneHot, softmaxCrossEntropy as softmaxCrossEntropyKernel, sigmoidCrossEntropy as sigmoidCrossEntropyKernel } from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import { defineOp } from '../engine.js';
import { asVariable, Variable } from '../variable.js';
import { logSumExp } from './reduce.js';

// ------------------------------------------------------------------------------------------------
// Softmax cross-entropy, one integer label y per row of logits z [..., C]:
//   loss_r = log Σ_k e^{z_rk} − z_{r,y_r}               ∂loss_r/∂z_rj = softmax_rj − [j = y_r]
// ------------------------------------------------------------------------------------------------
const softmaxCrossEntropyOp = defineOp('softmaxCrossEntropy', {
  forward(ctx, [logits, labels]) {
    const { loss, softmax } = softmaxCrossEntropyKernel(logits, labels);
    ctx.save(softmax, labels);
    return loss.reshape(logits.shape.slice(0, -1));
  },
  backward(ctx, dLoss) {
    const [softmax, labels] = ctx.saved;
    const [rows, C] = softmax.shape;
    const target = oneHot(labels.reshape([rows]), C, softmax.dtype);
    const dz = softmax.sub(target).mul(dLoss.reshape([rows, 1]));
    return [dz.reshape(ctx.inputShapes[0]), null];
  },
});

/** Per-row loss [...] of logits [..., C] against labels [...] (or [..., 1]). */
export function softmaxCrossEntropy(logits: Variable, labels: Variable | Tensor): Variable {
  return softmaxCrossEntropyOp([logits, asVariable(labels)], undefined);
}

/** The composite reference: logSumExp over the classes minus the label's logit (picked by a one-hot). */
export function softmaxCrossEntropyComposite(logits: Variable, labels: Tensor): Variable {
  const C = logits.shape[logits.rank - 1];
  const picked = logits.mul(oneHot(labels.reshape(logits.shape.slice(0, -1)), C, logits.dtype)).sum(-1);
  return logSumExp(logits, -1).sub(picked);
}

// ------------------------------------------------------------------------------------------------
// Sigmoid cross-entropy, elementwise, logits z and targets t of the same shape:
//   loss = max(z, 0) − z·t + log(1 + e^{−|z|})          ∂loss/∂z = σ(z) − t
// (the form of −t·log σ(z) − (1 − t)·log(1 − σ(z)) that neither overflows nor takes log 0)
// ------------------------------------------------------------------------------------------------
const sigmoidCrossEntropyOp = defineOp('sigmoidCrossEntropy', {
  forward(ctx, [logits, targets]) {
    const { loss, sigmoid } = sigmoidCrossEntropyKernel(logits, targets);
    ctx.save(sigmoid, targets.astype(logits.dtype).reshape(logits.shape));
    return loss;
  },
  backward(ctx, dLoss) {
    const [sigmoid, targets] = ctx.saved;
    return [sigmoid.sub(targets).mul(dLoss), null];
  },
});

/** Elementwise loss, in the logits' shape. */
export function sigmoidCrossEntropy(logits: Variable, targets: Variable | Tensor): Variable {
  return sigmoidCrossEntropyOp([logits, asVariable(targets)], undefined);
}

/** The composite reference: relu(z) − z·t + softplus(−|z|). */
export function sigmoidCrossEntropyComposite(logits: Variable, targets: Tensor): Variable {
  const t = targets.astype(logits.dtype).reshape(logits.shape);
  return logits.relu().sub(logits.mul(t)).add(logits.abs().neg().softplus());
}
