/**
 * The CPU's loss kernels (LossKernels in ../backend.ts): cross-entropies from logits, in the stable
 * forms that never take the log of an underflowed softmax or sigmoid. Sums run in float64.
 */
import type { Tensor } from '../tensor.js';
import { allocate } from '../dtype.js';
import { contiguousData, cpuTensor } from './elementwise.js';

// Math's functions as module locals: these loops call them per element, and inside jest's sandbox
// every lookup of the global `Math` costs about 70 times more (plain Node does not care).
const { exp, log, log1p, abs } = Math;

/**
 * Per row r of logits z [N, C] with max m_r:
 *   softmax_rj = e^{z_rj − m_r} / Σ_k e^{z_rk − m_r}
 *   loss_r     = m_r + log Σ_k e^{z_rk − m_r} − z_{r,label_r}
 * The labels are read here anyway, so a label that is not a class index is refused by name.
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor) {
  const C = logits.shape[logits.rank - 1], N = logits.size / C;
  const z = contiguousData(logits), y = contiguousData(labels);
  const softmax = allocate(logits.dtype, logits.size), loss = allocate(logits.dtype, N);
  for (let r = 0, o = 0; r < N; r++, o += C) {
    let max = -Infinity;
    for (let j = 0; j < C; j++) if (z[o + j] > max) max = z[o + j];
    let sum = 0;
    for (let j = 0; j < C; j++) sum += exp(z[o + j] - max);
    for (let j = 0; j < C; j++) softmax[o + j] = exp(z[o + j] - max) / sum;
    const label = y[r];
    if (!(label >= 0 && label < C)) {
      throw new Error(`softmaxCrossEntropy: label ${label} (at ${r}) is outside the valid range [0, ${C}) for logits [${logits.shape}]`);
    }
    loss[r] = max + log(sum) - z[o + label];
  }
  return { loss: cpuTensor(loss, [N]), softmax: cpuTensor(softmax, logits.shape) };
}

/**
 * Elementwise, logits z and targets t:
 *   loss = max(z, 0) − z·t + log(1 + e^{−|z|})      σ(z) = 1/(1 + e^{−z}), computed from e^{−|z|} so
 *   that neither form overflows: z ≥ 0 gives 1/(1 + e^{−z}), z < 0 gives e^{z}/(1 + e^{z}).
 */
export function sigmoidCrossEntropy(logits: Tensor, targets: Tensor) {
  const z = contiguousData(logits), t = contiguousData(targets);
  const loss = allocate(logits.dtype, logits.size), sigmoid = allocate(logits.dtype, logits.size);
  for (let i = 0; i < z.length; i++) {
    const x = z[i], e = exp(-abs(x));
    loss[i] = (x > 0 ? x : 0) - x * t[i] + log1p(e);
    sigmoid[i] = x >= 0 ? 1 / (1 + e) : e / (1 + e);
  }
  return { loss: cpuTensor(loss, logits.shape), sigmoid: cpuTensor(sigmoid, logits.shape) };
}
