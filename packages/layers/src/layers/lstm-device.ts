/**
 * The LSTM on a device: the same recurrence as lstm-cell.ts and lstm-sequence.ts, for inputs that live
 * in float32 on a backend offering the fused LSTM cell (FusedKernels in @gradlab/tensor: the gpu
 * backend does). The typed-array loops there would read every step's values back to the host and
 * upload the results; here each step is a few device kernels and nothing leaves the device:
 *
 *   z = xw_t + b + h·U                      (a slice, two adds, a matmul)
 *   gates, c, tanh c, h = cell(z, c_prev)   (the backend's lstmCellForward: the gate arithmetic)
 *   padded rows keep h and c                (where, with the step's column of the mask)
 *
 * and backward, from the last step to the first, as lstm-sequence.ts's loop:
 *
 *   dh += the step's output gradient;  dz, dc_prev = cell backward(dh, dc, …)   (lstmCellBackward)
 *   real rows: dh ← dz·Uᵀ, dc ← dc_prev;   padded rows: dz = 0, dh and dc pass unchanged
 *   dU = Σ_t h_prev,tᵀ·dz_t (one matmul over the stacked steps),  dxw = dz,  db = Σ dz
 *
 * Each step's tensors (gates, tanh c, c_prev, h_prev) are saved for backward, in time order.
 */
import type { Context } from '@gradlab/autograd';
import { Tensor, concat, formatShape, fusedKernelFor, getBackend, stack, where } from '@gradlab/tensor';
import type { Backend, FusedKernels } from '@gradlab/tensor';
import type { LstmSequenceAttrs } from './lstm-sequence.js';

export type LstmDevice = Backend & Required<Pick<FusedKernels, 'lstmCellForward' | 'lstmCellBackward'>>;

/** The backend of x when it runs the LSTM cell as fused kernels (and no other input is float64); else null. */
export function lstmDevice(x: Tensor, ...other: Tensor[]): LstmDevice | null {
  const device = fusedKernelFor('lstmCellForward', x, ...other);
  return device && device.lstmCellBackward ? (device as LstmDevice) : null;
}

/** The contexts of op calls whose forward ran here: their backward must run here too (it reads what forward saved). */
export const ranOnDevice = new WeakSet<Context>();

/** Zeros of `shape` on the backend of `like` (the states before the first step). */
function zerosOn(like: Tensor, shape: number[]): Tensor {
  return new Tensor(getBackend(like.backend).upload(new Float32Array(shape[0] * shape[1])), shape);
}

// ---- one step: lstmCellOp ---------------------------------------------------------------------------

/** lstmCellOp's forward: [h | c] [B, 2u] from xz = x_t·W + b, h_prev, c_prev and U. */
export function cellForward(ctx: Context, device: LstmDevice, xz: Tensor, hPrev: Tensor, cPrev: Tensor, U: Tensor): Tensor {
  const { h, c, gates, tanhC } = device.lstmCellForward(xz.add(hPrev.matmul(U)), cPrev);
  ranOnDevice.add(ctx);
  ctx.save(gates, tanhC, hPrev, cPrev, U);
  return concat([h, c], 1);
}

/** lstmCellOp's backward: dxz = dz,  dh_prev = dz·Uᵀ,  dc_prev = dc_t ⊙ f,  dU = h_prevᵀ·dz. */
export function cellBackward(ctx: Context, device: LstmDevice, dy: Tensor): (Tensor | null)[] {
  const [gates, tanhC, hPrev, cPrev, U] = ctx.saved;
  const u = U.shape[0];
  const { dz, dcPrev } = device.lstmCellBackward(dy.slice([null, [0, u]]), dy.slice([null, [u, 2 * u]]), gates, tanhC, cPrev);
  return [
    ctx.needs(0) ? dz : null,
    ctx.needs(1) ? dz.matmul(U.T) : null,
    ctx.needs(2) ? dcPrev : null,
    ctx.needs(3) ? hPrev.T.matmul(dz) : null,
  ];
}

// ---- the whole sequence: lstmSequenceOp --------------------------------------------------------------

/** Where lstm-sequence.ts puts things in its output [B, R, u]: the row of processing step k (at time t), or −1. */
export interface OutputLayout { nOut: number; R: number; rowOf(k: number, t: number): number }

/** The mask [B, T] as a float tensor on x's backend (moved once, not once per step), or null. */
function deviceMask(mask: Tensor | null, x: Tensor, B: number, T: number): Tensor | null {
  if (mask === null) return null;
  if (mask.rank !== 2 || mask.shape[0] !== B || mask.shape[1] !== T) {
    throw new Error(`lstm: mask ${formatShape(mask.shape)} does not fit inputs of batch ${B} and ${T} time steps (expected [${B},${T}])`);
  }
  return mask.backend === x.backend ? mask : mask.contiguousOn(x.backend);
}

/** lstmSequenceOp's forward on the device: the output [B, R, u]; saves U and every step's tensors. */
export function sequenceForward(ctx: Context, device: LstmDevice, xw: Tensor, U: Tensor, bias: Tensor,
  attrs: LstmSequenceAttrs, layout: OutputLayout): Tensor {
  const [B, T] = xw.shape;
  const u = U.shape[0];
  const mask = deviceMask(attrs.mask, xw, B, T);
  const gates: Tensor[] = [], tanhC: Tensor[] = [], cPrev: Tensor[] = [], hPrev: Tensor[] = []; // by time t
  const out: Tensor[] = [];
  let h = zerosOn(xw, [B, u]), c = h;
  for (let k = 0; k < T; k++) {
    const t = attrs.goBackwards ? T - 1 - k : k;
    hPrev[t] = h; cPrev[t] = c;
    const step = device.lstmCellForward(xw.slice([null, t]).add(bias).add(h.matmul(U)), c);
    gates[t] = step.gates; tanhC[t] = step.tanhC;
    const real = mask?.slice([null, [t, t + 1]]) ?? null; // [B, 1], broadcast over the units
    h = real ? where(real, step.h, h) : step.h;
    c = real ? where(real, step.c, c) : step.c;
    const row = layout.rowOf(k, t);
    if (row >= 0) out[row] = real && attrs.zeroOutputForMask ? where(real, h, 0) : h;
  }
  if (attrs.returnState) out.push(h, c);
  ranOnDevice.add(ctx);
  ctx.save(U, ...gates, ...tanhC, ...cPrev, ...hPrev);
  return stack(out, 1);
}

/** lstmSequenceOp's backward on the device: [dxw, dU, db]. */
export function sequenceBackward(ctx: Context, device: LstmDevice, dy: Tensor, attrs: LstmSequenceAttrs,
  layout: OutputLayout): (Tensor | null)[] {
  const [U, ...steps] = ctx.saved;
  const T = steps.length / 4;
  const [gates, tanhC, cPrev, hPrev] = [0, 1, 2, 3].map((i) => steps.slice(i * T, (i + 1) * T));
  const [B, u] = hPrev[0].shape;
  const mask = deviceMask(attrs.mask, dy, B, T);
  const UT = U.T;
  const dz: Tensor[] = [];
  let dh: Tensor = attrs.returnState ? dy.slice([null, layout.nOut]) : zerosOn(dy, [B, u]);
  let dc: Tensor = attrs.returnState ? dy.slice([null, layout.nOut + 1]) : zerosOn(dy, [B, u]);
  for (let k = T - 1; k >= 0; k--) {
    const t = attrs.goBackwards ? T - 1 - k : k;
    const real = mask?.slice([null, [t, t + 1]]) ?? null;
    const row = layout.rowOf(k, t);
    if (row >= 0) {
      const dOut = dy.slice([null, row]);
      dh = dh.add(real && attrs.zeroOutputForMask ? where(real, dOut, 0) : dOut); // a zeroed output passes no gradient
    }
    const back = device.lstmCellBackward(dh, dc, gates[t], tanhC[t], cPrev[t]);
    dz[t] = real ? where(real, back.dz, 0) : back.dz;
    const dhPrev = dz[t].matmul(UT);
    dh = real ? where(real, dhPrev, dh) : dhPrev;
    dc = real ? where(real, back.dcPrev, dc) : back.dcPrev;
  }
  const n = 4 * u;
  const dzAll = stack(dz, 1); // [B, T, 4u]
  return [
    ctx.needs(0) ? dzAll : null,
    ctx.needs(1) ? stack(hPrev, 1).reshape([B * T, u]).T.matmul(dzAll.reshape([B * T, n])) : null, // Σ h_prevᵀ·dz at once
    ctx.needs(2) ? dzAll.sum([0, 1]) : null,
  ];
}
