/**
 * Front ends of the optimizer kernels (OptimizerKernels in ../backend.ts): every state tensor has the
 * parameter's shape; the update runs on the backend holding the parameter.
 */
import type { Tensor } from '../tensor.js';
import { getBackend } from '../backend.js';
import type { AdamHyper, RmspropHyper, SgdHyper } from '../backend.js';
import { formatShape, shapesEqual } from '../shape.js';

function checkShapes(op: string, w: Tensor, others: Record<string, Tensor | null>): void {
  for (const [name, t] of Object.entries(others)) {
    if (t !== null && !shapesEqual(t.shape, w.shape)) {
      throw new Error(`${op}: ${name} ${formatShape(t.shape)} does not match the parameter ${formatShape(w.shape)}`);
    }
  }
}

export function sgdUpdate(w: Tensor, g: Tensor, velocity: Tensor | null, hyper: SgdHyper) {
  checkShapes('sgdUpdate', w, { gradient: g, velocity });
  return getBackend(w.backend).sgdUpdate(w, g.astype(w.dtype), velocity, hyper);
}

export function adamUpdate(w: Tensor, g: Tensor, m: Tensor, v: Tensor, hyper: AdamHyper) {
  checkShapes('adamUpdate', w, { gradient: g, m, v });
  return getBackend(w.backend).adamUpdate(w, g.astype(w.dtype), m, v, hyper);
}

export function rmspropUpdate(w: Tensor, g: Tensor, s: Tensor, a: Tensor | null, b: Tensor | null, hyper: RmspropHyper) {
  checkShapes('rmspropUpdate', w, { gradient: g, s, a, b });
  return getBackend(w.backend).rmspropUpdate(w, g.astype(w.dtype), s, a, b, hyper);
}
