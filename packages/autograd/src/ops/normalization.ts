/**
 * Normalisation as differentiable ops, each in two forms side by side:
 *   - composite: built from the primitives of this package (mean, sub, square, div, …), one graph node
 *     per step, so the engine derives the backward by itself. This is the teaching reference.
 *   - fused: one node whose forward and backward are the backend's kernels (NormalizationKernels in
 *     @gradlab/tensor; the CPU's loops are in packages/tensor/src/cpu/normalization.ts). Fewer passes
 *     over memory and no intermediate tensors kept for backward, only x̂ and 1/σ.
 * Tests hold each fused op against its composite, and both against gradcheck, on every backend.
 *
 * x is read as a matrix [M, C]: C the feature axis (the last, as in Keras), M every other axis.
 * BatchNorm normalises each column over the rows (per feature, over the batch); LayerNorm each row
 * over its columns (per example); GroupNorm each example over groups of channels and all positions.
 * docs/layers.md derives the backward formulas.
 */
import { batchNormBackward, batchNormForward, groupNormBackward, groupNormForward } from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import { defineOp } from '../engine.js';
import { Variable } from '../variable.js';

/** What a training-mode batch norm returns: y and the batch's statistics (for the moving averages). */
export interface BatchNormResult { y: Variable; mean: Tensor; variance: Tensor }

// ------------------------------------------------------------------------------------------------
// BatchNorm, composite:  μ = mean(x), σ² = mean((x − μ)²), x̂ = (x − μ)/√(σ² + ε), y = γ·x̂ + β
// With a mask m (1 = real row), both means are weighted: μ = Σ m·x / Σ m.
// ------------------------------------------------------------------------------------------------
export function batchNormComposite(x: Variable, gamma: Variable, beta: Variable, epsilon: number, mask: Tensor | null): BatchNormResult {
  const channels = x.shape[x.rank - 1];
  const flat = x.reshape([-1, channels]);
  let mean: Variable, variance: Variable;
  if (mask === null) {
    mean = flat.mean(0, true);
    variance = flat.sub(mean).square().mean(0, true);
  } else {
    const m = new Variable(mask.astype(x.dtype).reshape([-1, 1]));
    // N = Σ m stays a tensor on m's backend: dividing by it needs no readback. A constant: no gradient.
    const count = m.data.sum();
    mean = flat.mul(m).sum(0, true).div(count);
    variance = flat.sub(mean).square().mul(m).sum(0, true).div(count);
  }
  const xHat = flat.sub(mean).div(variance.add(epsilon).sqrt());
  const y = xHat.mul(gamma).add(beta).reshape(x.shape);
  return { y, mean: mean.data.reshape([channels]), variance: variance.data.reshape([channels]) };
}

// ------------------------------------------------------------------------------------------------
// BatchNorm, fused (training mode). Three outputs from one node: y, and the batch's mean and variance
// (no gradient flows back through the statistics: the layer only feeds them to its moving averages).
// Backward, with g = dy and N = Σ m:
//   dβ = Σ_r g_r     dγ = Σ_r g_r·x̂_r     dx_r = γ·invstd·( g_r − m_r·dβ/N − m_r·x̂_r·dγ/N )
// ------------------------------------------------------------------------------------------------
interface BatchNormAttrs { epsilon: number; mask: Tensor | null }

const batchNormOp = defineOp<BatchNormAttrs>('batchNorm', {
  forward(ctx, [x, gamma, beta], { epsilon, mask }): Tensor[] {
    const { y, xHat, mean, variance, invstd } = batchNormForward(x, gamma, beta, epsilon, mask);
    ctx.save(xHat, invstd, gamma);
    return [y, mean, variance];
  },
  backward(ctx, [dy]: (Tensor | null)[], { mask }) {
    const [xHat, invstd, gamma] = ctx.saved;
    if (dy === null) return [null, null, null]; // only the statistics were used downstream
    const { dx, dGamma, dBeta } = batchNormBackward(dy, xHat, invstd, gamma, mask);
    return [dx, dGamma, dBeta];
  },
});

export function batchNorm(x: Variable, gamma: Variable, beta: Variable, epsilon: number, mask: Tensor | null = null): BatchNormResult {
  const [y, mean, variance] = batchNormOp([x, gamma, beta], { epsilon, mask });
  return { y, mean: mean.data, variance: variance.data };
}

// ------------------------------------------------------------------------------------------------
// GroupNorm: x [B, …, C] viewed as [B, S, G, K] (K = C/G), statistics per example and group over
// the positions s and the group's channels k:
//   μ_bg, σ²_bg over (s, k),  x̂ = (x − μ_bg)/√(σ²_bg + ε),  y_c = γ_c·x̂ + β_c
// Backward, with h = γ_c·dy:  dx = invstd·( h − mean_group(h) − x̂·mean_group(h·x̂) ),
//   dγ_c = Σ_{b,s} dy·x̂,  dβ_c = Σ_{b,s} dy  (BatchNorm's derivation with the statistics over a group).
// ------------------------------------------------------------------------------------------------
export function groupNormComposite(x: Variable, gamma: Variable, beta: Variable, groups: number, epsilon: number): Variable {
  const B = x.shape[0], C = x.shape[x.rank - 1];
  const S = x.shape.slice(1, -1).reduce((a, b) => a * b, 1);
  const grouped = x.reshape([B, S, groups, C / groups]);
  const mean = grouped.mean([1, 3], true);
  const centered = grouped.sub(mean);
  const variance = centered.square().mean([1, 3], true);
  const xHat = centered.div(variance.add(epsilon).sqrt()).reshape(x.shape);
  return xHat.mul(gamma).add(beta);
}

const groupNormOp = defineOp<{ groups: number; epsilon: number }>('groupNorm', {
  forward(ctx, [x, gamma, beta], { groups, epsilon }) {
    const { y, xHat, invstd } = groupNormForward(x, gamma, beta, groups, epsilon);
    ctx.save(xHat, invstd, gamma);
    return y;
  },
  backward(ctx, dy, { groups }) {
    const [xHat, invstd, gamma] = ctx.saved;
    const { dx, dGamma, dBeta } = groupNormBackward(dy, xHat, invstd, gamma, groups);
    return [dx, dGamma, dBeta];
  },
});

export function groupNorm(x: Variable, gamma: Variable, beta: Variable, groups: number, epsilon: number): Variable {
  return groupNormOp([x, gamma, beta], { groups, epsilon });
}

// ------------------------------------------------------------------------------------------------
// LayerNorm: per row r over its C features:  μ_r, σ²_r, x̂ = (x − μ_r)·invstd_r, y = γ·x̂ + β.
// That is GroupNorm with one group on x viewed as [M, C] (S = 1, K = C), so the fused form is
// the GroupNorm kernel; only the composite is written out on its own.
// ------------------------------------------------------------------------------------------------
export function layerNormComposite(x: Variable, gamma: Variable, beta: Variable, epsilon: number): Variable {
  const mean = x.mean(-1, true);
  const centered = x.sub(mean);
  const variance = centered.square().mean(-1, true);
  return centered.div(variance.add(epsilon).sqrt()).mul(gamma).add(beta);
}

export function layerNorm(x: Variable, gamma: Variable, beta: Variable, epsilon: number): Variable {
  const C = x.shape[x.rank - 1];
  return groupNorm(x.reshape([-1, C]), gamma, beta, 1, epsilon).reshape(x.shape);
}
