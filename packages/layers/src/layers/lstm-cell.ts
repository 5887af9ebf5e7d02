/**
 * The LSTM cell, one time step, with Keras's gate order i, f, c, o (see docs/lstm.md):
 *
 *   z  = x_t·W + b + h_prev·U                 4u pre-activations, [z_i | z_f | z_c | z_o]
 *   i  = σ(z_i)   f = σ(z_f)   c̃ = tanh(z_c)   o = σ(z_o)
 *   c  = f ⊙ c_prev + i ⊙ c̃
 *   h  = o ⊙ tanh(c)
 *
 * This file holds the arithmetic of one row (one sequence of the batch) on flat typed arrays, forward
 * and backward side by side, and two versions of the step as autograd ops:
 *   - `lstmCell`: the fused op, one graph node per step with the closed-form backward below;
 *   - `lstmCellComposite`: the same step built from autograd primitives (matmul, slice, σ, tanh, ⊙, +),
 *     which the engine differentiates by itself: the reference the fused op is tested against.
 * The whole-sequence op in lstm-sequence.ts runs the same row functions in its loop.
 *
 * `x_t·W` is not part of the step: the layer computes it for all time steps at once, as one big
 * matmul. The cell op takes its step's slice with the bias added, `xz = x_t·W + b` ("x projected");
 * the sequence op takes x·W and adds b in its own loop.
 */
import { defineOp } from '@gradlab/autograd';
import type { Variable } from '@gradlab/autograd';
import { Tensor, allocate, formatShape, fromTypedArray, shapesEqual } from '@gradlab/tensor';
import type { TypedArray } from '@gradlab/tensor';
import { cellBackward, cellForward, lstmDevice, ranOnDevice } from './lstm-device.js';

/** σ(x) = 1 / (1 + e^(−x)); e^(−x) overflows to ∞ for very negative x, which gives 0 as it should. */
export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

// ---- the pointwise part of one row: forward and backward side by side --------------------------------

/**
 * Forward of one row. On entry gates[g : g+4u] holds z; on exit it holds the activated gates
 * (i, f, c̃, o), which is what backward needs. Reads c_prev at cPrev[cp], writes c at c[co] (which may be
 * the same place: each element is read before it is written), tanh(c) at tanhC[tc] and h at h[ho].
 */
export function cellForwardRow(u: number, gates: TypedArray, g: number, cPrev: TypedArray, cp: number,
  c: TypedArray, co: number, tanhC: TypedArray, tc: number, h: TypedArray, ho: number): void {
  for (let j = 0; j < u; j++) {
    const i = sigmoid(gates[g + j]);
    const f = sigmoid(gates[g + u + j]);
    const cc = Math.tanh(gates[g + 2 * u + j]);
    const o = sigmoid(gates[g + 3 * u + j]);
    gates[g + j] = i; gates[g + u + j] = f; gates[g + 2 * u + j] = cc; gates[g + 3 * u + j] = o;
    const cNew = f * cPrev[cp + j] + i * cc;
    const t = Math.tanh(cNew);
    c[co + j] = cNew;
    tanhC[tc + j] = t;
    h[ho + j] = o * t;
  }
}

/**
 * Backward of one row. dh and dc are the gradients reaching this step's h and c (from the output and
 * from the next step). c reaches the loss directly and through h = o ⊙ tanh(c), so first
 *   dc_t = dc + dh ⊙ o ⊙ (1 − tanh²c)
 * then each gate's gradient, times its activation's derivative (σ′ = σ(1 − σ), tanh′ = 1 − tanh²):
 *   dz_i = dc_t ⊙ c̃ ⊙ i(1 − i)          dz_f = dc_t ⊙ c_prev ⊙ f(1 − f)
 *   dz_c = dc_t ⊙ i ⊙ (1 − c̃²)          dz_o = dh ⊙ tanh c ⊙ o(1 − o)
 *   dc_prev = dc_t ⊙ f                  (dh_prev = dz·Uᵀ is left to the caller: it mixes the row's units)
 * Writes dz at dz[zo] and dc_prev at dcPrev[po] (which may be dc itself: read before written).
 */
export function cellBackwardRow(u: number, gates: TypedArray, g: number, cPrev: TypedArray, cp: number,
  tanhC: TypedArray, tc: number, dh: TypedArray, dho: number, dc: TypedArray, dco: number,
  dz: TypedArray, zo: number, dcPrev: TypedArray, po: number): void {
  for (let j = 0; j < u; j++) {
    const i = gates[g + j], f = gates[g + u + j], cc = gates[g + 2 * u + j], o = gates[g + 3 * u + j];
    const t = tanhC[tc + j];
    const dhj = dh[dho + j];
    const dct = dc[dco + j] + dhj * o * (1 - t * t);
    dz[zo + j] = dct * cc * i * (1 - i);
    dz[zo + u + j] = dct * cPrev[cp + j] * f * (1 - f);
    dz[zo + 2 * u + j] = dct * i * (1 - cc * cc);
    dz[zo + 3 * u + j] = dhj * t * o * (1 - o);
    dcPrev[po + j] = dct * f;
  }
}

// ---- the fused step as an autograd op ---------------------------------------------------------------

/** Flat row-major values of `t` as `dtype` (a view of t's storage when no copy is needed). */
export function valuesOf(t: Tensor, dtype: 'float32' | 'float64'): TypedArray {
  return t.astype(dtype).dataSync();
}

/** The float dtype an LSTM computes in: float64 if its input is, float32 otherwise. */
export function computeDType(t: Tensor): 'float32' | 'float64' {
  return t.dtype === 'float64' ? 'float64' : 'float32';
}

/**
 * lstmCell([xz, h_prev, c_prev, U]) → [B, 2u] holding h and c side by side ([h | c] along the last axis;
 * an op has one output, so the two states share it: slice them apart).
 *   xz [B, 4u] = x_t·W + b     h_prev, c_prev [B, u]     U [u, 4u]
 * Backward, from dh and dc (the two halves of dy):
 *   dz by cellBackwardRow,   dxz = dz,   dh_prev = dz·Uᵀ,   dc_prev = dc_t ⊙ f,   dU = h_prevᵀ·dz.
 * The two matrix products go to the tensor package's matmul; the rest is the row functions above.
 * On a device with the fused LSTM cell kernels, lstm-device.ts runs the same step there instead.
 */
export const lstmCellOp = defineOp<undefined>('lstmCell', {
  forward(ctx, [xz, hPrev, cPrev, U]) {
    const [B, n] = xz.shape;
    const u = U.shape[0];
    if (xz.rank !== 2 || n !== 4 * u || U.rank !== 2 || U.shape[1] !== 4 * u
      || !shapesEqual(hPrev.shape, [B, u]) || !shapesEqual(cPrev.shape, [B, u])) {
      throw new Error(`lstmCell: xz ${formatShape(xz.shape)}, h ${formatShape(hPrev.shape)}, c ${formatShape(cPrev.shape)}, ` +
        `U ${formatShape(U.shape)}: expected xz [B, 4u], h and c [B, u], U [u, 4u]`);
    }
    const device = lstmDevice(xz, hPrev, cPrev, U);
    if (device) return cellForward(ctx, device, xz, hPrev, cPrev, U);
    const dtype = computeDType(xz);
    const [h, c, W] = [hPrev.astype(dtype), cPrev.astype(dtype), U.astype(dtype)];
    const gates = xz.astype(dtype).add(h.matmul(W)).toTypedArray(); // z = xz + h_prev·U, activated in place below
    const cValues = c.dataSync();
    const tanhC = allocate(dtype, B * u);
    const out = allocate(dtype, B * 2 * u); // row b: h (u values), then c (u values)
    for (let b = 0; b < B; b++) {
      cellForwardRow(u, gates, b * n, cValues, b * u, out, b * 2 * u + u, tanhC, b * u, out, b * 2 * u);
    }
    ctx.save(fromTypedArray(gates, [B, n]), fromTypedArray(tanhC, [B, u]), h, c, W);
    return fromTypedArray(out, [B, 2 * u]);
  },
  backward(ctx, dy) {
    if (ranOnDevice.has(ctx)) return cellBackward(ctx, lstmDevice(ctx.saved[0])!, dy);
    const [gatesT, tanhCT, h, c, W] = ctx.saved;
    const [B, u] = tanhCT.shape;
    const dtype = computeDType(gatesT);
    const d = valuesOf(dy, dtype); // row b: dh, then dc
    const dz = allocate(dtype, B * 4 * u), dcPrev = allocate(dtype, B * u);
    const [gates, tanhC, cPrev] = [gatesT.dataSync(), tanhCT.dataSync(), c.dataSync()];
    for (let b = 0; b < B; b++) {
      cellBackwardRow(u, gates, b * 4 * u, cPrev, b * u, tanhC, b * u, d, b * 2 * u, d, b * 2 * u + u, dz, b * 4 * u, dcPrev, b * u);
    }
    const dzT = fromTypedArray(dz, [B, 4 * u]);
    return [
      ctx.needs(0) ? dzT : null,
      ctx.needs(1) ? dzT.matmul(W.T) : null,
      ctx.needs(2) ? fromTypedArray(dcPrev, [B, u]) : null,
      ctx.needs(3) ? h.T.matmul(dzT) : null,
    ];
  },
});

/** The fused step: h and c after one step from xz = x_t·W + b, the previous states and U. */
export function lstmCell(xz: Variable, hPrev: Variable, cPrev: Variable, U: Variable): { h: Variable; c: Variable } {
  const u = U.shape[0];
  const hc = lstmCellOp([xz, hPrev, cPrev, U], undefined);
  return { h: hc.slice([null, [0, u]]), c: hc.slice([null, [u, 2 * u]]) };
}

/**
 * The same step from autograd primitives, for reading and for testing the fused op: every line is a
 * node and the engine works out the backward on its own.
 */
export function lstmCellComposite(xz: Variable, hPrev: Variable, cPrev: Variable, U: Variable): { h: Variable; c: Variable } {
  const u = U.shape[0];
  const z = xz.add(hPrev.matmul(U));
  const gate = (k: number) => z.slice([null, [k * u, (k + 1) * u]]);
  const i = gate(0).sigmoid(), f = gate(1).sigmoid(), cc = gate(2).tanh(), o = gate(3).sigmoid();
  const c = f.mul(cPrev).add(i.mul(cc));
  const h = o.mul(c.tanh());
  return { h, c };
}
