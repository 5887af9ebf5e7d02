/**
 * Normalisation ops, each written twice: composed from autograd primitives (the readable version a
 * learner can follow node by node) and fused (one op with the closed-form backward: fewer passes over
 * memory, no intermediate tensors). Tests hold the two against each other and against gradcheck.
 *
 * Both work on x viewed as a matrix [M, C]: C is the normalised feature axis (the last one, as in
 * Keras), M = every other axis flattened (batch, time, height, width).
 *
 * BatchNorm normalises each column over the rows (statistics per feature, over the batch);
 * LayerNorm normalises each row over its columns (statistics per example, over the features).
 *
 * The fused ops run their loops below on the CPU. When x lives on a device whose backend offers the
 * same maths as fused kernels (FusedKernels in @gradlab/tensor: the gpu backend does), they call those
 * instead, so that nothing is read back to the host: the first lines of each forward and backward.
 */
import { defineOp, Variable } from '@gradlab/autograd';
import type { Context } from '@gradlab/autograd';
import { Tensor, allocate, fromTypedArray, formatShape, fusedKernelFor } from '@gradlab/tensor';

/** Σ of an array (the number of unmasked rows of a 0/1 mask). */
function total(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s;
}

/** The statistics a training-mode batch norm computed, for the moving averages. */
export interface BatchStats { mean: Tensor; variance: Tensor }

// ------------------------------------------------------------------------------------------------
// BatchNorm, composite:  μ = mean(x), σ² = mean((x − μ)²), x̂ = (x − μ)/√(σ² + ε), y = γ·x̂ + β
// With a mask m (1 = real row), both means are weighted: μ = Σ m·x / Σ m.
// ------------------------------------------------------------------------------------------------
export function batchNormComposite(x: Variable, gamma: Variable, beta: Variable, epsilon: number, mask: Tensor | null): { y: Variable; stats: BatchStats } {
  const channels = x.shape[x.rank - 1];
  const flat = x.reshape([-1, channels]);
  let mean: Variable, variance: Variable;
  if (mask === null) {
    mean = flat.mean(0, true);
    variance = flat.sub(mean).square().mean(0, true);
  } else {
    const m = new Variable(mask.astype(x.dtype).reshape([-1, 1]));
    // N = Σ m stays a tensor (shape []) on m's backend: dividing by it needs no readback, so the mask
    // may be still being computed on an asynchronous device. It is a constant: no gradient flows to it.
    const count = m.data.sum();
    mean = flat.mul(m).sum(0, true).div(count);
    variance = flat.sub(mean).square().mul(m).sum(0, true).div(count);
  }
  const xHat = flat.sub(mean).div(variance.add(epsilon).sqrt());
  const y = xHat.mul(gamma).add(beta).reshape(x.shape);
  return { y, stats: { mean: mean.data.reshape([channels]), variance: variance.data.reshape([channels]) } };
}

// ------------------------------------------------------------------------------------------------
// BatchNorm, fused (training mode). Forward as above. Backward, with g = dy and N = Σ m:
//   dβ = Σ_r g_r          dγ = Σ_r g_r·x̂_r
//   dx_r = γ·invstd·( g_r − m_r·(Σ_s g_s)/N − m_r·x̂_r·(Σ_s g_s·x̂_s)/N )
// (without a mask m ≡ 1 and this is the textbook dx = γ·invstd·(dy − mean(dy) − x̂·mean(dy·x̂)).)
// Derivation: docs/layers.md.
// ------------------------------------------------------------------------------------------------
interface BatchNormAttrs { epsilon: number; mask: Tensor | null; stats?: BatchStats }

const batchNormTrainOp = defineOp<BatchNormAttrs>('batchNorm', {
  forward(ctx: Context, [x, gamma, beta], attrs) {
    const device = fusedKernelFor('batchNormForward', x, gamma, beta);
    if (device) {
      const { y, xHat, mean, variance, invstd } = device.batchNormForward(x, gamma, beta, attrs.epsilon, attrs.mask);
      attrs.stats = { mean, variance };
      ctx.save(xHat, invstd, gamma);
      return y;
    }
    const C = x.shape[x.rank - 1], M = x.size / C;
    const xs = x.dataSync(), gs = gamma.dataSync(), bs = beta.dataSync();
    const m = attrs.mask?.dataSync() ?? null;
    const count = m ? total(m) : M;
    const mean = new Float64Array(C), varSum = new Float64Array(C);
    for (let r = 0; r < M; r++) {
      const w = m ? m[r] : 1;
      if (w === 0) continue;
      for (let c = 0; c < C; c++) mean[c] += xs[r * C + c];
    }
    for (let c = 0; c < C; c++) mean[c] /= count;
    for (let r = 0; r < M; r++) { // second pass: variance about the mean (never E[x²] − E[x]²)
      if (m && m[r] === 0) continue;
      for (let c = 0; c < C; c++) { const d = xs[r * C + c] - mean[c]; varSum[c] += d * d; }
    }
    const invstd = allocate(x.dtype, C), variance = allocate(x.dtype, C), meanOut = allocate(x.dtype, C);
    for (let c = 0; c < C; c++) {
      variance[c] = varSum[c] / count;
      meanOut[c] = mean[c];
      invstd[c] = 1 / Math.sqrt(variance[c] + attrs.epsilon);
    }
    const xHat = allocate(x.dtype, x.size), y = allocate(x.dtype, x.size);
    for (let r = 0; r < M; r++) {
      for (let c = 0; c < C; c++) {
        const i = r * C + c;
        xHat[i] = (xs[i] - mean[c]) * invstd[c];
        y[i] = gs[c] * xHat[i] + bs[c];
      }
    }
    attrs.stats = { mean: fromTypedArray(meanOut, [C]), variance: fromTypedArray(variance, [C]) };
    ctx.save(fromTypedArray(xHat, x.shape), fromTypedArray(invstd, [C]), gamma);
    return fromTypedArray(y, x.shape);
  },
  backward(ctx: Context, dy, attrs) {
    const [xHatT, invstdT, gamma] = ctx.saved;
    const device = fusedKernelFor('batchNormBackward', xHatT, dy, gamma);
    if (device) {
      const { dx, dGamma, dBeta } = device.batchNormBackward(dy, xHatT, invstdT, gamma, attrs.mask);
      return [dx, dGamma, dBeta];
    }
    const C = xHatT.shape[xHatT.rank - 1], M = xHatT.size / C;
    const xHat = xHatT.dataSync(), invstd = invstdT.dataSync(), gs = gamma.dataSync(), g = dy.contiguous().dataSync();
    const m = attrs.mask?.dataSync() ?? null;
    const count = m ? total(m) : M;
    const sumG = new Float64Array(C), sumGx = new Float64Array(C);
    for (let r = 0; r < M; r++) {
      for (let c = 0; c < C; c++) { const i = r * C + c; sumG[c] += g[i]; sumGx[c] += g[i] * xHat[i]; }
    }
    const dx = allocate(dy.dtype, dy.size);
    for (let r = 0; r < M; r++) {
      const w = m ? m[r] : 1;
      for (let c = 0; c < C; c++) {
        const i = r * C + c;
        dx[i] = gs[c] * invstd[c] * (g[i] - (w * sumG[c]) / count - (w * xHat[i] * sumGx[c]) / count);
      }
    }
    const dGamma = allocate(dy.dtype, C), dBeta = allocate(dy.dtype, C);
    for (let c = 0; c < C; c++) { dGamma[c] = sumGx[c]; dBeta[c] = sumG[c]; }
    return [fromTypedArray(dx, xHatT.shape), fromTypedArray(dGamma, [C]), fromTypedArray(dBeta, [C])];
  },
});

export function batchNormFused(x: Variable, gamma: Variable, beta: Variable, epsilon: number, mask: Tensor | null): { y: Variable; stats: BatchStats } {
  const attrs: BatchNormAttrs = { epsilon, mask: mask ? mask.astype(x.dtype).contiguous() : null };
  const y = batchNormTrainOp([x, gamma, beta], attrs);
  return { y, stats: attrs.stats! };
}

// ------------------------------------------------------------------------------------------------
// BatchNorm at inference: fixed statistics, so it is an affine map per feature:
//   y = γ·(x − μ_moving)·invstd + β = x·scale + shift,  scale = γ·invstd,  shift = β − μ_moving·scale
//   dx = dy·scale,  dγ = Σ dy·x̂,  dβ = Σ dy  (autograd derives them through the two [C]-sized ops)
// Composite only: folding the four per-element steps into one scale and one shift leaves two
// passes over x, which is what a fused kernel would do too.
// ------------------------------------------------------------------------------------------------
export function batchNormInference(x: Variable, gamma: Variable, beta: Variable, movingMean: Tensor, movingVariance: Tensor, epsilon: number): Variable {
  const invstd = movingVariance.add(epsilon).sqrt().reciprocal();
  const scale = gamma.mul(invstd);
  const shift = beta.sub(scale.mul(movingMean));
  return x.mul(scale).add(shift);
}

// ------------------------------------------------------------------------------------------------
// LayerNorm: per row r over its C features:  μ_r, σ²_r, x̂ = (x − μ_r)·invstd_r, y = γ·x̂ + β.
// Backward with g = dy·γ (per element):
//   dx_r = invstd_r·( g − mean_c(g) − x̂·mean_c(g·x̂) ),  dγ = Σ_r dy·x̂,  dβ = Σ_r dy
// ------------------------------------------------------------------------------------------------
export function layerNormComposite(x: Variable, gamma: Variable, beta: Variable, epsilon: number): Variable {
  const mean = x.mean(-1, true);
  const centered = x.sub(mean);
  const variance = centered.square().mean(-1, true);
  return centered.div(variance.add(epsilon).sqrt()).mul(gamma).add(beta);
}

const layerNormOp = defineOp<{ epsilon: number }>('layerNorm', {
  forward(ctx, [x, gamma, beta], { epsilon }) {
    const device = fusedKernelFor('layerNormForward', x, gamma, beta);
    if (device) {
      const { y, xHat, invstd } = device.layerNormForward(x, gamma, beta, epsilon);
      ctx.save(xHat, invstd, gamma);
      return y;
    }
    const C = x.shape[x.rank - 1], M = x.size / C;
    const xs = x.dataSync(), gs = gamma.dataSync(), bs = beta.dataSync();
    const xHat = allocate(x.dtype, x.size), y = allocate(x.dtype, x.size), invstd = allocate(x.dtype, M);
    for (let r = 0; r < M; r++) {
      let mean = 0;
      for (let c = 0; c < C; c++) mean += xs[r * C + c];
      mean /= C;
      let v = 0;
      for (let c = 0; c < C; c++) { const d = xs[r * C + c] - mean; v += d * d; }
      const s = 1 / Math.sqrt(v / C + epsilon);
      invstd[r] = s;
      for (let c = 0; c < C; c++) {
        const i = r * C + c;
        xHat[i] = (xs[i] - mean) * s;
        y[i] = gs[c] * xHat[i] + bs[c];
      }
    }
    ctx.save(fromTypedArray(xHat, x.shape), fromTypedArray(invstd, [M]), gamma);
    return fromTypedArray(y, x.shape);
  },
  backward(ctx, dy) {
    const [xHatT, invstdT, gamma] = ctx.saved;
    const device = fusedKernelFor('layerNormBackward', xHatT, dy, gamma);
    if (device) {
      const { dx, dGamma, dBeta } = device.layerNormBackward(dy, xHatT, invstdT, gamma);
      return [dx, dGamma, dBeta];
    }
    const C = xHatT.shape[xHatT.rank - 1], M = xHatT.size / C;
    const xHat = xHatT.dataSync(), invstd = invstdT.dataSync(), gs = gamma.dataSync(), d = dy.contiguous().dataSync();
    const dx = allocate(dy.dtype, dy.size), dGamma = allocate(dy.dtype, C), dBeta = allocate(dy.dtype, C);
    for (let r = 0; r < M; r++) {
      let meanG = 0, meanGx = 0;
      for (let c = 0; c < C; c++) {
        const i = r * C + c, g = d[i] * gs[c];
        meanG += g; meanGx += g * xHat[i];
        dGamma[c] += d[i] * xHat[i];
        dBeta[c] += d[i];
      }
      meanG /= C; meanGx /= C;
      for (let c = 0; c < C; c++) {
        const i = r * C + c;
        dx[i] = invstd[r] * (d[i] * gs[c] - meanG - xHat[i] * meanGx);
      }
    }
    return [fromTypedArray(dx, xHatT.shape), fromTypedArray(dGamma, [C]), fromTypedArray(dBeta, [C])];
  },
});

export function layerNormFused(x: Variable, gamma: Variable, beta: Variable, epsilon: number): Variable {
  return layerNormOp([x, gamma, beta], { epsilon });
}

/** Throw unless the normalised axis of x matches the parameters: names the layer and both shapes. */
export function checkFeatures(layer: string, x: Variable, gamma: Variable): void {
  if (x.shape[x.rank - 1] !== gamma.shape[0]) {
    throw new Error(`${layer}: input ${formatShape(x.shape)} has ${x.shape[x.rank - 1]} features, gamma ${formatShape(gamma.shape)} expects ${gamma.shape[0]}`);
  }
}
