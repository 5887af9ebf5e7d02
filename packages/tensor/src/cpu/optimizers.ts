/**
 * The CPU's optimizer updates (OptimizerKernels in ../backend.ts): one loop per rule over the
 * parameter's values, so a step allocates only the new w and the new state, not ~10 full-size
 * temporaries per parameter. The formulas, with where Keras and PyTorch differ, are in
 * @gradlab/layers's optimizers/ (one file per optimizer), next to the class a learner uses.
 */
import type { Tensor } from '../tensor.js';
import type { AdamHyper, RmspropHyper, SgdHyper } from '../backend.js';
import { allocate } from '../dtype.js';
import { contiguousData, cpuTensor } from './elementwise.js';

// Math.sqrt as a module local: these loops call it per element, and inside jest's sandbox every lookup
// of the global `Math` costs about 70 times more (plain Node does not care).
const { sqrt } = Math;

/** A fresh array of x's dtype and size, and a function to wrap it in x's shape. */
function like(x: Tensor) {
  const data = allocate(x.dtype, x.size);
  return { data, tensor: () => cpuTensor(data, x.shape) };
}

/** v ← μ·v − lr·g;  w ← w + v (nesterov: w + μ·v − lr·g);  without momentum w ← w − lr·g. */
export function sgdUpdate(w: Tensor, g: Tensor, velocity: Tensor | null, { lr, momentum: mu, nesterov }: SgdHyper) {
  const ws = contiguousData(w), gs = contiguousData(g);
  const out = like(w);
  if (velocity === null) {
    for (let i = 0; i < ws.length; i++) out.data[i] = ws[i] - lr * gs[i];
    return { w: out.tensor(), velocity: null };
  }
  const vs = contiguousData(velocity), v = like(velocity);
  for (let i = 0; i < ws.length; i++) {
    const vi = mu * vs[i] - lr * gs[i];
    v.data[i] = vi;
    out.data[i] = nesterov ? ws[i] + mu * vi - lr * gs[i] : ws[i] + vi;
  }
  return { w: out.tensor(), velocity: v.tensor() };
}

/** m ← m + (1 − β1)(g − m);  v ← v + (1 − β2)(g² − v);  w ← w − α·m/(√v + ε),  α = lr·√(1 − β2ᵗ)/(1 − β1ᵗ). */
export function adamUpdate(w: Tensor, g: Tensor, m: Tensor, v: Tensor, { lr, beta1: b1, beta2: b2, epsilon: eps, step }: AdamHyper) {
  const ws = contiguousData(w), gs = contiguousData(g), ms = contiguousData(m), vs = contiguousData(v);
  const out = like(w), mNew = like(m), vNew = like(v);
  const alpha = (lr * sqrt(1 - b2 ** step)) / (1 - b1 ** step);
  for (let i = 0; i < ws.length; i++) {
    const gi = gs[i];
    const mi = ms[i] + (1 - b1) * (gi - ms[i]);
    const vi = vs[i] + (1 - b2) * (gi * gi - vs[i]);
    mNew.data[i] = mi;
    vNew.data[i] = vi;
    out.data[i] = ws[i] - (alpha * mi) / (sqrt(vi) + eps);
  }
  return { w: out.tensor(), m: mNew.tensor(), v: vNew.tensor() };
}

/**
 * s ← ρ·s + (1 − ρ)·g²;  d = s + ε (centered: a ← ρ·a + (1 − ρ)·g, d = s − a² + ε);  Δ = lr·g/√d;
 * w ← w − Δ (momentum: b ← μ·b + Δ, w ← w − b).
 */
export function rmspropUpdate(w: Tensor, g: Tensor, s: Tensor, a: Tensor | null, b: Tensor | null,
  { lr, rho, momentum: mu, epsilon: eps }: RmspropHyper) {
  const ws = contiguousData(w), gs = contiguousData(g), ss = contiguousData(s);
  const as = a === null ? null : contiguousData(a), bs = b === null ? null : contiguousData(b);
  const out = like(w), sNew = like(s), aNew = a === null ? null : like(a), bNew = b === null ? null : like(b);
  for (let i = 0; i < ws.length; i++) {
    const gi = gs[i];
    const si = rho * ss[i] + (1 - rho) * gi * gi;
    sNew.data[i] = si;
    let d = si + eps;
    if (as !== null && aNew !== null) {
      const ai = rho * as[i] + (1 - rho) * gi;
      aNew.data[i] = ai;
      d -= ai * ai;
    }
    const delta = (lr * gi) / sqrt(d);
    if (bs !== null && bNew !== null) {
      const bi = mu * bs[i] + delta;
      bNew.data[i] = bi;
      out.data[i] = ws[i] - bi;
    } else out.data[i] = ws[i] - delta;
  }
  return { w: out.tensor(), s: sNew.tensor(), a: aNew?.tensor() ?? null, b: bNew?.tensor() ?? null };
}
