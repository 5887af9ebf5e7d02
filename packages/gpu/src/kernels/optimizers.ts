/**
 * The gpu backend's optimizer updates (OptimizerKernels in @gradlab/tensor), written with the
 * backend's elementwise ops on device tensors: the parameter, its gradient and the optimizer's state
 * never leave the device. The formulas are beside each optimizer class in @gradlab/layers's optimizers/;
 * the CPU's single-loop versions are packages/tensor/src/cpu/optimizers.ts.
 */
import type { AdamHyper, RmspropHyper, SgdHyper, Tensor } from '@gradlab/tensor';

export function sgdUpdate(w: Tensor, g: Tensor, velocity: Tensor | null, { lr, momentum: mu, nesterov }: SgdHyper) {
  if (velocity === null) return { w: w.sub(g.mul(lr)), velocity: null };
  const v = velocity.mul(mu).sub(g.mul(lr));
  return { w: nesterov ? w.add(v.mul(mu)).sub(g.mul(lr)) : w.add(v), velocity: v };
}

export function adamUpdate(w: Tensor, g: Tensor, m: Tensor, v: Tensor, { lr, beta1: b1, beta2: b2, epsilon: eps, step }: AdamHyper) {
  const alpha = (lr * Math.sqrt(1 - b2 ** step)) / (1 - b1 ** step);
  const m2 = m.add(g.sub(m).mul(1 - b1));
  const v2 = v.add(g.square().sub(v).mul(1 - b2));
  return { w: w.sub(m2.mul(alpha).div(v2.sqrt().add(eps))), m: m2, v: v2 };
}

export function rmspropUpdate(w: Tensor, g: Tensor, s: Tensor, a: Tensor | null, b: Tensor | null, { lr, rho, momentum: mu, epsilon: eps }: RmspropHyper) {
  const s2 = s.mul(rho).add(g.square().mul(1 - rho));
  let d = s2.add(eps);
  const a2 = a === null ? null : a.mul(rho).add(g.mul(1 - rho));
  if (a2 !== null) d = d.sub(a2.square());
  const delta = g.mul(lr).div(d.sqrt());
  const b2 = b === null ? null : b.mul(mu).add(delta);
  return { w: w.sub(b2 ?? delta), s: s2, a: a2, b: b2 };
}
