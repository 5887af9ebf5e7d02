/**
 * Front ends of the normalisation kernels (NormalizationKernels in ../backend.ts): they check shapes
 * and dtypes, naming the op, and call the backend that holds x. The maths is in the backend's kernel
 * (cpu/normalization.ts for the CPU) and, as a readable composite, in @gradlab/autograd's
 * ops/normalization.ts.
 */
import type { Tensor } from '../tensor.js';
import { getBackend } from '../backend.js';
import { formatShape } from '../shape.js';

function checkFloat(op: string, x: Tensor): void {
  if (x.dtype === 'int32') throw new Error(`${op}: x ${formatShape(x.shape)} must be float32 or float64, got int32`);
  if (x.rank < 1) throw new Error(`${op}: x must have a feature axis, got a scalar`);
}

/** γ and β are [C], C = x's last axis. */
function checkAffine(op: string, x: Tensor, gamma: Tensor, beta: Tensor): void {
  const C = x.shape[x.rank - 1];
  for (const [name, p] of [['gamma', gamma], ['beta', beta]] as const) {
    if (p.rank !== 1 || p.shape[0] !== C) {
      throw new Error(`${op}: input ${formatShape(x.shape)} has ${C} features, ${name} ${formatShape(p.shape)} expects ${p.shape[0]}`);
    }
  }
}

/** The mask as x's float dtype, one entry per row of x [M, C]. */
function rowMask(op: string, x: Tensor, mask: Tensor | null): Tensor | null {
  if (mask === null) return null;
  const rows = x.size / x.shape[x.rank - 1];
  if (mask.size !== rows) {
    throw new Error(`${op}: mask ${formatShape(mask.shape)} does not match input ${formatShape(x.shape)} (expected ${rows} entries, one per position)`);
  }
  return mask.astype(x.dtype).reshape([rows]);
}

/** BatchNorm, training mode: y, x̂ and the batch's mean, variance and 1/√(variance + ε) per feature. */
export function batchNormForward(x: Tensor, gamma: Tensor, beta: Tensor, epsilon: number, mask: Tensor | null) {
  checkFloat('batchNorm', x);
  checkAffine('batchNorm', x, gamma, beta);
  return getBackend(x.backend).batchNormForward(x, gamma.astype(x.dtype), beta.astype(x.dtype), epsilon, rowMask('batchNorm', x, mask));
}

export function batchNormBackward(dy: Tensor, xHat: Tensor, invstd: Tensor, gamma: Tensor, mask: Tensor | null) {
  return getBackend(xHat.backend).batchNormBackward(dy.astype(xHat.dtype), xHat, invstd, gamma.astype(xHat.dtype), rowMask('batchNorm', xHat, mask));
}

/** GroupNorm of x [B, …, C] in `groups` groups of C/groups channels: y, x̂ and invstd [B, groups]. */
export function groupNormForward(x: Tensor, gamma: Tensor, beta: Tensor, groups: number, epsilon: number) {
  checkFloat('groupNorm', x);
  checkAffine('groupNorm', x, gamma, beta);
  const C = x.shape[x.rank - 1];
  if (x.rank < 2 || !Number.isInteger(groups) || groups < 1 || C % groups !== 0) {
    throw new Error(`groupNorm: input ${formatShape(x.shape)} must be [batch, …, channels] with channels a multiple of groups (${groups})`);
  }
  return getBackend(x.backend).groupNormForward(x, gamma.astype(x.dtype), beta.astype(x.dtype), groups, epsilon);
}

export function groupNormBackward(dy: Tensor, xHat: Tensor, invstd: Tensor, gamma: Tensor, groups: number) {
  return getBackend(xHat.backend).groupNormBackward(dy.astype(xHat.dtype), xHat, invstd, gamma.astype(xHat.dtype), groups);
}
