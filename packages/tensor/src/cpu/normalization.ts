/**
 * The CPU's normalisation kernels (NormalizationKernels in ../backend.ts): BatchNorm and GroupNorm,
 * forward and backward side by side, as plain loops over flat arrays. LayerNorm is GroupNorm with one
 * group on x viewed as [M, C] (ops/normalization.ts does that view), so its loops are these too.
 *
 * The readable composite versions, one autograd node per step, are in @gradlab/autograd's
 * ops/normalization.ts; docs/layers.md derives the backward formulas.
 *
 * Statistics accumulate in float64 whatever the dtype, and the variance is always a second pass about
 * the mean (never E[x²] − E[x]², which cancels catastrophically when the mean is large).
 */
import type { Tensor } from '../tensor.js';
import { allocate } from '../dtype.js';
import { contiguousData, cpuTensor } from './elementwise.js';

/** Σ of an array (the number of unmasked rows of a 0/1 mask). */
function total(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s;
}

// ---- BatchNorm: statistics per column c of x [M, C], over the (unmasked) rows -------------------------
//   mean_c = Σ_r m_r·x_rc / N,  var_c = Σ_r m_r·(x_rc − mean_c)² / N,  N = Σ m
//   invstd_c = 1/√(var_c + ε),  x̂ = (x − mean)·invstd,  y = γ·x̂ + β

export function batchNormForward(x: Tensor, gamma: Tensor, beta: Tensor, epsilon: number, mask: Tensor | null) {
  const C = x.shape[x.rank - 1], M = x.size / C;
  const xs = contiguousData(x), gs = contiguousData(gamma), bs = contiguousData(beta);
  const m = mask === null ? null : contiguousData(mask);
  const count = m ? total(m) : M;
  const mean = new Float64Array(C), varSum = new Float64Array(C);
  for (let r = 0; r < M; r++) {
    if (m && m[r] === 0) continue;
    for (let c = 0; c < C; c++) mean[c] += xs[r * C + c];
  }
  for (let c = 0; c < C; c++) mean[c] /= count;
  for (let r = 0; r < M; r++) {
    if (m && m[r] === 0) continue;
    for (let c = 0; c < C; c++) { const d = xs[r * C + c] - mean[c]; varSum[c] += d * d; }
  }
  const invstd = allocate(x.dtype, C), variance = allocate(x.dtype, C), meanOut = allocate(x.dtype, C);
  for (let c = 0; c < C; c++) {
    variance[c] = varSum[c] / count;
    meanOut[c] = mean[c];
    invstd[c] = 1 / Math.sqrt(variance[c] + epsilon);
  }
  const xHat = allocate(x.dtype, x.size), y = allocate(x.dtype, x.size);
  for (let r = 0; r < M; r++) {
    for (let c = 0; c < C; c++) {
      const i = r * C + c;
      xHat[i] = (xs[i] - mean[c]) * invstd[c];
      y[i] = gs[c] * xHat[i] + bs[c];
    }
  }
  return {
    y: cpuTensor(y, x.shape), xHat: cpuTensor(xHat, x.shape),
    mean: cpuTensor(meanOut, [C]), variance: cpuTensor(variance, [C]), invstd: cpuTensor(invstd, [C]),
  };
}

// Backward, with g = dy and N = Σ m:
//   dβ_c = Σ_r g_rc      dγ_c = Σ_r g_rc·x̂_rc
//   dx_rc = γ_c·invstd_c·( g_rc − m_r·dβ_c/N − m_r·x̂_rc·dγ_c/N )
// (a masked row's x̂ is not part of the statistics, so only the first term reaches it.)
export function batchNormBackward(dy: Tensor, xHat: Tensor, invstd: Tensor, gamma: Tensor, mask: Tensor | null) {
  const C = xHat.shape[xHat.rank - 1], M = xHat.size / C;
  const h = contiguousData(xHat), s = contiguousData(invstd), gs = contiguousData(gamma), g = contiguousData(dy);
  const m = mask === null ? null : contiguousData(mask);
  const count = m ? total(m) : M;
  const sumG = new Float64Array(C), sumGx = new Float64Array(C);
  for (let r = 0; r < M; r++) {
    for (let c = 0; c < C; c++) { const i = r * C + c; sumG[c] += g[i]; sumGx[c] += g[i] * h[i]; }
  }
  const dx = allocate(dy.dtype, dy.size);
  for (let r = 0; r < M; r++) {
    const w = m ? m[r] : 1;
    for (let c = 0; c < C; c++) {
      const i = r * C + c;
      dx[i] = gs[c] * s[c] * (g[i] - (w * sumG[c]) / count - (w * h[i] * sumGx[c]) / count);
    }
  }
  const dGamma = allocate(dy.dtype, C), dBeta = allocate(dy.dtype, C);
  for (let c = 0; c < C; c++) { dGamma[c] = sumGx[c]; dBeta[c] = sumG[c]; }
  return { dx: cpuTensor(dx, xHat.shape), dGamma: cpuTensor(dGamma, [C]), dBeta: cpuTensor(dBeta, [C]) };
}

// ---- GroupNorm: x [B, …, C] viewed as [B, S, G, K], statistics per (b, g) over N = S·K elements ------
// Element (b, s, g, k) sits at flat index (b·S + s)·C + g·K + k: a group is S runs of K neighbours.

/** x [B, …, C] as [B, S, G, K]: the sizes of the four axes. */
export function groupView(shape: readonly number[], groups: number): { B: number; S: number; G: number; K: number } {
  const C = shape[shape.length - 1], B = shape[0];
  return { B, S: shape.slice(1, -1).reduce((a, b) => a * b, 1), G: groups, K: C / groups };
}

export function groupNormForward(x: Tensor, gamma: Tensor, beta: Tensor, groups: number, epsilon: number) {
  const { B, S, G, K } = groupView(x.shape, groups);
  const C = G * K, N = S * K;
  const xs = contiguousData(x), gs = contiguousData(gamma), bs = contiguousData(beta);
  const xHat = allocate(x.dtype, x.size), y = allocate(x.dtype, x.size), invstd = allocate(x.dtype, B * G);
  for (let b = 0; b < B; b++) {
    for (let g = 0; g < G; g++) {
      const first = b * S * C + g * K; // element (b, 0, g, 0)
      let mean = 0;
      for (let s = 0; s < S; s++) for (let k = 0, i = first + s * C; k < K; k++, i++) mean += xs[i];
      mean /= N;
      let v = 0;
      for (let s = 0; s < S; s++) for (let k = 0, i = first + s * C; k < K; k++, i++) { const d = xs[i] - mean; v += d * d; }
      const r = 1 / Math.sqrt(v / N + epsilon);
      invstd[b * G + g] = r;
      for (let s = 0; s < S; s++) {
        for (let k = 0, i = first + s * C; k < K; k++, i++) {
          xHat[i] = (xs[i] - mean) * r;
          y[i] = gs[g * K + k] * xHat[i] + bs[g * K + k];
        }
      }
    }
  }
  return { y: cpuTensor(y, x.shape), xHat: cpuTensor(xHat, x.shape), invstd: cpuTensor(invstd, [B, G]) };
}

// Backward per group, with h = γ_c·dy (per element):
//   dx = invstd·( h − mean_group(h) − x̂·mean_group(h·x̂) ),   dγ_c = Σ_{b,s} dy·x̂,   dβ_c = Σ_{b,s} dy
export function groupNormBackward(dy: Tensor, xHat: Tensor, invstd: Tensor, gamma: Tensor, groups: number) {
  const { B, S, G, K } = groupView(xHat.shape, groups);
  const C = G * K, N = S * K;
  const h = contiguousData(xHat), rs = contiguousData(invstd), gs = contiguousData(gamma), d = contiguousData(dy);
  const dx = allocate(dy.dtype, dy.size), dGamma = allocate(dy.dtype, C), dBeta = allocate(dy.dtype, C);
  for (let b = 0; b < B; b++) {
    for (let g = 0; g < G; g++) {
      const first = b * S * C + g * K;
      let meanH = 0, meanHx = 0;
      for (let s = 0; s < S; s++) {
        for (let k = 0, i = first + s * C; k < K; k++, i++) {
          const c = g * K + k, hv = d[i] * gs[c];
          meanH += hv; meanHx += hv * h[i];
          dGamma[c] += d[i] * h[i];
          dBeta[c] += d[i];
        }
      }
      meanH /= N; meanHx /= N;
      const r = rs[b * G + g];
      for (let s = 0; s < S; s++) {
        for (let k = 0, i = first + s * C; k < K; k++, i++) dx[i] = r * (d[i] * gs[g * K + k] - meanH - h[i] * meanHx);
      }
    }
  }
  return { dx: cpuTensor(dx, xHat.shape), dGamma: cpuTensor(dGamma, [C]), dBeta: cpuTensor(dBeta, [C]) };
}
