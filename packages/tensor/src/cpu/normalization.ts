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
import type { TypedArray } from '../dtype.js';
import { allocate } from '../dtype.js';
import { contiguousData, cpuTensor } from './elementwise.js';
import { columnSquaredDeviationsWasm, columnSumsWasm, gradientSumsWasm, inputGradientWasm, normalizeRowsWasm } from './wasm/batch-norm-f32.js';

/** Σ of an array (the number of unmasked rows of a 0/1 mask). */
function total(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s;
}

// ---- BatchNorm: statistics per column c of x [M, C], over the (unmasked) rows -------------------------
//   mean_c = Σ_r m_r·x_rc / N,  var_c = Σ_r m_r·(x_rc − mean_c)² / N,  N = Σ m
//   invstd_c = 1/√(var_c + ε),  x̂ = (x − mean)·invstd,  y = γ·x̂ + β
//
// Why the loops look as they do: x is row-major [M, C] (channels last), so a column's entries are C
// apart. Each pass walks x once, in memory order, FOUR ROWS A STEP: the per-column values (mean_c,
// invstd_c, γ_c, β_c, the accumulators) are read once for four elements, and four rows' contributions
// are added together before they reach the accumulator. On the image model's [123 008, 32] (issue 13)
// that took the forward from ~28 ms to ~11 ms, and one element per step over the nested row/column loops
// was slower still (~42 ms inside a training step). A masked batch (padded sequences) skips rows, so
// its statistics take the plain one-row-a-step loops.
//
// Which path runs where: float32 without a mask, with an even C (≤ 4,096) and at least 4,096 numbers,
// runs every pass on WebAssembly SIMD (wasm/batch-norm-f32.ts): the same float64 arithmetic in the same
// order, two columns per instruction, so the results keep their bits (the loops stay the reference, and
// a test compares the two). Everything else runs the loops below: float64, odd C, small tensors, engines
// without SIMD, GRADLAB_BATCHNORM=js, and a masked batch's statistics and dx (x̂ and y, and the
// backward's two sums, cover every row with or without a mask, so they take the kernel either way).
// Why not JavaScript alone: even four rows a step, its loops need ~1 ns a number a pass, twice the kernel's.

/** acc[c] = Σ_r x[r·C + c] (+ over unmasked rows only, with a mask). */
function columnSums(xs: TypedArray, C: number, mask: ArrayLike<number> | null, acc: Float64Array): void {
  if (mask === null && xs instanceof Float32Array && columnSumsWasm(xs, C, acc)) return;
  const n = xs.length;
  let base = 0;
  if (mask === null) {
    for (; base + 4 * C <= n; base += 4 * C) {
      for (let c = 0, i = base; c < C; c++, i++) acc[c] += (xs[i] + xs[i + C]) + (xs[i + 2 * C] + xs[i + 3 * C]);
    }
  }
  for (let r = base / C; base < n; base += C, r++) {
    if (mask !== null && mask[r] === 0) continue;
    for (let c = 0; c < C; c++) acc[c] += xs[base + c];
  }
}

/** acc[c] = Σ_r (x[r·C + c] − mean_c)², over unmasked rows with a mask: the variance's second pass. */
function columnSquaredDeviations(xs: TypedArray, C: number, mask: ArrayLike<number> | null, mean: Float64Array, acc: Float64Array): void {
  if (mask === null && xs instanceof Float32Array && columnSquaredDeviationsWasm(xs, C, mean, acc)) return;
  const n = xs.length;
  let base = 0;
  if (mask === null) {
    for (; base + 4 * C <= n; base += 4 * C) {
      for (let c = 0, i = base; c < C; c++, i++) {
        const m = mean[c];
        const d0 = xs[i] - m, d1 = xs[i + C] - m, d2 = xs[i + 2 * C] - m, d3 = xs[i + 3 * C] - m;
        acc[c] += (d0 * d0 + d1 * d1) + (d2 * d2 + d3 * d3);
      }
    }
  }
  for (let r = base / C; base < n; base += C, r++) {
    if (mask !== null && mask[r] === 0) continue;
    for (let c = 0; c < C; c++) { const d = xs[base + c] - mean[c]; acc[c] += d * d; }
  }
}

/**
 * x̂ = (x − mean)·invstd and y = γ·x̂ + β for every row (masked rows too: they are normalised with the
 * batch's statistics, they just did not count in them). y reads x̂ back from its array, so that it is
 * γ times the x̂ that is stored (rounded to float32 in a float32 tensor), as a separate mul and add give.
 */
function normalizeRows(xs: TypedArray, C: number, mean: Float64Array, invstd: TypedArray, gamma: TypedArray, beta: TypedArray, xHat: TypedArray, y: TypedArray): void {
  if (xs instanceof Float32Array && normalizeRowsWasm(xs, C, mean, invstd as Float32Array, gamma as Float32Array, beta as Float32Array, xHat as Float32Array, y as Float32Array)) return;
  const n = xs.length;
  let base = 0;
  for (; base + 4 * C <= n; base += 4 * C) {
    for (let c = 0; c < C; c++) {
      const m = mean[c], s = invstd[c], g = gamma[c], b = beta[c];
      const i0 = base + c, i1 = i0 + C, i2 = i1 + C, i3 = i2 + C;
      xHat[i0] = (xs[i0] - m) * s; xHat[i1] = (xs[i1] - m) * s; xHat[i2] = (xs[i2] - m) * s; xHat[i3] = (xs[i3] - m) * s;
      y[i0] = g * xHat[i0] + b; y[i1] = g * xHat[i1] + b; y[i2] = g * xHat[i2] + b; y[i3] = g * xHat[i3] + b;
    }
  }
  for (; base < n; base += C) {
    for (let c = 0, i = base; c < C; c++, i++) { xHat[i] = (xs[i] - mean[c]) * invstd[c]; y[i] = gamma[c] * xHat[i] + beta[c]; }
  }
}

export function batchNormForward(x: Tensor, gamma: Tensor, beta: Tensor, epsilon: number, mask: Tensor | null) {
  const C = x.shape[x.rank - 1], M = x.size / C;
  const xs = contiguousData(x), gs = contiguousData(gamma), bs = contiguousData(beta);
  const m = mask === null ? null : contiguousData(mask);
  const count = m ? total(m) : M;
  const mean = new Float64Array(C), varSum = new Float64Array(C);
  columnSums(xs, C, m, mean);
  for (let c = 0; c < C; c++) mean[c] /= count;
  columnSquaredDeviations(xs, C, m, mean, varSum);
  const invstd = allocate(x.dtype, C), variance = allocate(x.dtype, C), meanOut = allocate(x.dtype, C);
  for (let c = 0; c < C; c++) {
    variance[c] = varSum[c] / count;
    meanOut[c] = mean[c];
    invstd[c] = 1 / Math.sqrt(variance[c] + epsilon);
  }
  const xHat = allocate(x.dtype, x.size), y = allocate(x.dtype, x.size);
  normalizeRows(xs, C, mean, invstd, gs, bs, xHat, y);
  return {
    y: cpuTensor(y, x.shape), xHat: cpuTensor(xHat, x.shape),
    mean: cpuTensor(meanOut, [C]), variance: cpuTensor(variance, [C]), invstd: cpuTensor(invstd, [C]),
  };
}

// Backward, with g = dy and N = Σ m:
//   dβ_c = Σ_r g_rc      dγ_c = Σ_r g_rc·x̂_rc
//   dx_rc = γ_c·invstd_c·( g_rc − m_r·dβ_c/N − m_r·x̂_rc·dγ_c/N )
// (a masked row's x̂ is not part of the statistics, so only the first term reaches it.)
// Both passes go four rows a step, as the forward's do; dx's per-column factors are hoisted out of the
// row loop: k_c = γ_c·invstd_c, a_c = dβ_c/N, b_c = dγ_c/N, so dx = k·(g − m·a − m·x̂·b).

/** sumG[c] = Σ_r g_rc and sumGx[c] = Σ_r g_rc·x̂_rc, over every row. */
function gradientSums(g: TypedArray, h: TypedArray, C: number, sumG: Float64Array, sumGx: Float64Array): void {
  if (g instanceof Float32Array && gradientSumsWasm(g, h as Float32Array, C, sumG, sumGx)) return;
  const n = g.length;
  let base = 0;
  for (; base + 4 * C <= n; base += 4 * C) {
    for (let c = 0, i = base; c < C; c++, i++) {
      const g0 = g[i], g1 = g[i + C], g2 = g[i + 2 * C], g3 = g[i + 3 * C];
      sumG[c] += (g0 + g1) + (g2 + g3);
      sumGx[c] += (g0 * h[i] + g1 * h[i + C]) + (g2 * h[i + 2 * C] + g3 * h[i + 3 * C]);
    }
  }
  for (; base < n; base += C) {
    for (let c = 0, i = base; c < C; c++, i++) { sumG[c] += g[i]; sumGx[c] += g[i] * h[i]; }
  }
}

export function batchNormBackward(dy: Tensor, xHat: Tensor, invstd: Tensor, gamma: Tensor, mask: Tensor | null) {
  const C = xHat.shape[xHat.rank - 1];
  const h = contiguousData(xHat), s = contiguousData(invstd), gs = contiguousData(gamma), g = contiguousData(dy);
  const m = mask === null ? null : contiguousData(mask);
  const count = m ? total(m) : xHat.size / C;
  const sumG = new Float64Array(C), sumGx = new Float64Array(C);
  gradientSums(g, h, C, sumG, sumGx);
  const k = new Float64Array(C), a = new Float64Array(C), b = new Float64Array(C);
  for (let c = 0; c < C; c++) { k[c] = gs[c] * s[c]; a[c] = sumG[c] / count; b[c] = sumGx[c] / count; }
  const dx = allocate(dy.dtype, dy.size), n = dx.length;
  const onKernel = m === null && dx instanceof Float32Array && inputGradientWasm(g as Float32Array, h as Float32Array, C, k, a, b, dx);
  let base = onKernel ? n : 0; // the rows done so far
  if (m === null) {
    for (; base + 4 * C <= n; base += 4 * C) {
      for (let c = 0; c < C; c++) {
        const kc = k[c], ac = a[c], bc = b[c];
        const i0 = base + c, i1 = i0 + C, i2 = i1 + C, i3 = i2 + C;
        dx[i0] = kc * (g[i0] - ac - h[i0] * bc); dx[i1] = kc * (g[i1] - ac - h[i1] * bc);
        dx[i2] = kc * (g[i2] - ac - h[i2] * bc); dx[i3] = kc * (g[i3] - ac - h[i3] * bc);
      }
    }
  }
  for (let r = base / C; base < n; base += C, r++) {
    const w = m ? m[r] : 1;
    for (let c = 0, i = base; c < C; c++, i++) dx[i] = k[c] * (g[i] - w * a[c] - w * h[i] * b[c]);
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
