/**
 * The CPU's LSTM kernels (RecurrentKernels in ../backend.ts), gate order i, f, c̃, o as Keras:
 *
 *   z  = x_t·W + b + h_prev·U                 4u pre-activations, [z_i | z_f | z_c | z_o]
 *   i  = σ(z_i)   f = σ(z_f)   c̃ = tanh(z_c)   o = σ(z_o)     σ: the sigmoid, or TF.js's hardSigmoid
 *   c  = f ⊙ c_prev + i ⊙ c̃
 *   h  = o ⊙ tanh(c)
 *
 * The gate arithmetic of one row lives once, in cellForwardRow and cellBackwardRow; the one-step kernels
 * run it over the batch and the whole-sequence kernels run it inside their loop over time, with the
 * per-step matrix products h·U and dz·Uᵀ going to the CPU's matmul. docs/lstm.md derives the backward;
 * the composite reference built from autograd primitives is in @gradlab/layers (layers/lstm-cell.ts).
 */
import type { Tensor } from '../tensor.js';
import type { LstmSequenceOptions, LstmSequenceSaved, RecurrentActivation } from '../backend.js';
import { allocate } from '../dtype.js';
import type { TypedArray } from '../dtype.js';
import { contiguousData, cpuTensor } from './elementwise.js';
import { whileBIsConstant } from './wasm/gemm-f32.js';

const { exp, tanh, min, max } = Math;

/**
 * The gates' activation σ and its derivative written from σ's value s (all that backward keeps), for
 * `hard` false: the sigmoid, 1 / (1 + e^(−x)) (e^(−x) overflows to ∞ for very negative x, which gives 0
 * as it should), σ′ = s(1 − s); for `hard` true: TF.js's hardSigmoid (tfjs-layers 4.22,
 * backend/tfjs_backend.ts), clip(0.2·x + 0.5, 0, 1), whose slope is 0.2 where the line is not clipped
 * and 0 where it is (at the two corners, x = ±2.5, we take 0). One function with a flag rather than
 * two objects: the call stays monomorphic, so the engine inlines it in the hot loops below.
 */
const gateValue = (hard: boolean, x: number): number => (hard ? min(1, max(0, 0.2 * x + 0.5)) : 1 / (1 + exp(-x)));
const gateSlope = (hard: boolean, s: number): number => (hard ? (s > 0 && s < 1 ? 0.2 : 0) : s * (1 - s));

/** The flag for an activation name (checked by the front end, ops/recurrent.ts). */
const isHard = (name: RecurrentActivation | undefined): boolean => name === 'hardSigmoid';

// ---- one row of the cell: forward and backward side by side -------------------------------------------

/**
 * Forward of one row. On entry gates[g : g+4u] holds z; on exit the activated gates (i, f, c̃, o), which
 * is what backward needs. Reads c_prev at cPrev[cp], writes c at c[co] (which may be the same place:
 * each element is read before it is written), tanh(c) at tanhC[tc] and h at h[ho].
 */
function cellForwardRow(hard: boolean, u: number, gates: TypedArray, g: number, cPrev: TypedArray, cp: number,
  c: TypedArray, co: number, tanhC: TypedArray, tc: number, h: TypedArray, ho: number): void {
  for (let j = 0; j < u; j++) {
    const i = gateValue(hard, gates[g + j]);
    const f = gateValue(hard, gates[g + u + j]);
    const cc = tanh(gates[g + 2 * u + j]);
    const o = gateValue(hard, gates[g + 3 * u + j]);
    gates[g + j] = i; gates[g + u + j] = f; gates[g + 2 * u + j] = cc; gates[g + 3 * u + j] = o;
    const cNew = f * cPrev[cp + j] + i * cc;
    const t = tanh(cNew);
    c[co + j] = cNew;
    tanhC[tc + j] = t;
    h[ho + j] = o * t;
  }
}

/**
 * Backward of one row. dh and dc are the gradients reaching this step's h and c (from the output and
 * from the next step). c reaches the loss directly and through h = o ⊙ tanh(c), so first
 *   dc_t = dc + dh ⊙ o ⊙ (1 − tanh²c)
 * then each gate's gradient, times its activation's derivative (σ′(i) = i(1 − i) for the sigmoid, tanh′ = 1 − tanh²):
 *   dz_i = dc_t ⊙ c̃ ⊙ σ′(i)             dz_f = dc_t ⊙ c_prev ⊙ σ′(f)
 *   dz_c = dc_t ⊙ i ⊙ (1 − c̃²)          dz_o = dh ⊙ tanh c ⊙ σ′(o)
 *   dc_prev = dc_t ⊙ f                  (dh_prev = dz·Uᵀ is left to the caller: it mixes the row's units)
 * Writes dz at dz[zo] and dc_prev at dcPrev[po] (which may be dc itself: read before written).
 */
function cellBackwardRow(hard: boolean, u: number, gates: TypedArray, g: number, cPrev: TypedArray, cp: number,
  tanhC: TypedArray, tc: number, dh: TypedArray, dho: number, dc: TypedArray, dco: number,
  dz: TypedArray, zo: number, dcPrev: TypedArray, po: number): void {
  for (let j = 0; j < u; j++) {
    const i = gates[g + j], f = gates[g + u + j], cc = gates[g + 2 * u + j], o = gates[g + 3 * u + j];
    const t = tanhC[tc + j];
    const dhj = dh[dho + j];
    const dct = dc[dco + j] + dhj * o * (1 - t * t);
    dz[zo + j] = dct * cc * gateSlope(hard, i);
    dz[zo + u + j] = dct * cPrev[cp + j] * gateSlope(hard, f);
    dz[zo + 2 * u + j] = dct * i * (1 - cc * cc);
    dz[zo + 3 * u + j] = dhj * t * gateSlope(hard, o);
    dcPrev[po + j] = dct * f;
  }
}

// ---- one step over the batch ---------------------------------------------------------------------------

export function lstmCellForward(z: Tensor, cPrev: Tensor, activation: RecurrentActivation) {
  const [B, n] = z.shape, u = n / 4, hard = isHard(activation);
  const gates = contiguousData(z).slice(); // activated in place
  const cp = contiguousData(cPrev);
  const c = allocate(z.dtype, B * u), tanhC = allocate(z.dtype, B * u), h = allocate(z.dtype, B * u);
  for (let b = 0; b < B; b++) cellForwardRow(hard, u, gates, b * n, cp, b * u, c, b * u, tanhC, b * u, h, b * u);
  return { h: cpuTensor(h, [B, u]), c: cpuTensor(c, [B, u]), gates: cpuTensor(gates, [B, n]), tanhC: cpuTensor(tanhC, [B, u]) };
}

export function lstmCellBackward(dh: Tensor, dc: Tensor, gates: Tensor, tanhC: Tensor, cPrev: Tensor, activation: RecurrentActivation) {
  const [B, u] = tanhC.shape, hard = isHard(activation);
  const g = contiguousData(gates), t = contiguousData(tanhC), cp = contiguousData(cPrev);
  const dhv = contiguousData(dh), dcv = contiguousData(dc);
  const dz = allocate(gates.dtype, B * 4 * u), dcPrev = allocate(gates.dtype, B * u);
  for (let b = 0; b < B; b++) {
    cellBackwardRow(hard, u, g, b * 4 * u, cp, b * u, t, b * u, dhv, b * u, dcv, b * u, dz, b * 4 * u, dcPrev, b * u);
  }
  return { dz: cpuTensor(dz, [B, 4 * u]), dcPrev: cpuTensor(dcPrev, [B, u]) };
}

// ---- the whole sequence --------------------------------------------------------------------------------
// Forward, processing step k = 0 … T−1 (time t = k, or T−1−k going backwards), each row b:
//   real step (mask 1):   z = xw[b, t] + b + h·U, then the cell
//   padded step (mask 0): h and c carry over unchanged
//   the step's output row = h (or 0 for a padded step with zeroOutputForMask)
// Backward, k = T−1 … 0, carrying dh and dc:
//   dh += dy[the step's output row];  real step: dz, dc ← the cell's backward, dh ← dz·Uᵀ
//   padded step: dz = 0, dh and dc pass to the step before unchanged
// and once at the end dU = Σ_{t} h_prev,tᵀ·dz_t (one matmul over all steps), dxw = dz, dbias = Σ dz.

/** Rows of the output [B, R, u]: the outputs (all T or the last), then h_T and c_T with returnState. */
export function outputRows(options: LstmSequenceOptions, T: number): { nOut: number; R: number } {
  const nOut = options.returnSequences ? T : 1;
  return { nOut, R: nOut + (options.returnState ? 2 : 0) };
}

/** The output row that processing step k (at time t) writes, or −1 (without returnSequences only the last step's). */
export function outputRow(options: LstmSequenceOptions, k: number, t: number, T: number): number {
  if (!options.returnSequences) return k === T - 1 ? 0 : -1;
  return options.timeAligned ? t : k;
}

/** The mask as one byte per (b, t), or null. */
function maskBytes(mask: Tensor | null): Uint8Array | null {
  if (mask === null) return null;
  const values = contiguousData(mask);
  const bytes = new Uint8Array(values.length);
  for (let i = 0; i < bytes.length; i++) bytes[i] = values[i] !== 0 ? 1 : 0;
  return bytes;
}

function copyRow(dst: TypedArray, dAt: number, src: TypedArray, sAt: number, u: number): void {
  for (let j = 0; j < u; j++) dst[dAt + j] = src[sAt + j];
}
function addRow(dst: TypedArray, dAt: number, src: TypedArray, sAt: number, u: number): void {
  for (let j = 0; j < u; j++) dst[dAt + j] += src[sAt + j];
}

export function lstmSequenceForward(xw: Tensor, U: Tensor, bias: Tensor, options: LstmSequenceOptions) {
  const [B, T, n] = xw.shape, u = n / 4, dtype = xw.dtype, hard = isHard(options.recurrentActivation);
  const mask = maskBytes(options.mask);
  const x = contiguousData(xw), bv = contiguousData(bias);
  const gates = allocate(dtype, T * B * n);  // step t's row b at (t·B + b)·4u: z, then the activated gates
  const hPrev = allocate(dtype, T * B * u);  // h before step t: dU needs it
  const cPrev = allocate(dtype, T * B * u);  // c before step t: df needs it
  const tanhC = allocate(dtype, T * B * u);  // tanh(c) after step t
  const h = allocate(dtype, B * u), c = allocate(dtype, B * u); // the running state, zeros at first
  const { nOut, R } = outputRows(options, T);
  const out = allocate(dtype, B * R * u);
  // U is packed for the float32 kernel once, not at every step (see whileBIsConstant)
  whileBIsConstant(U.storage.read(), () => { for (let k = 0; k < T; k++) {
    const t = options.goBackwards ? T - 1 - k : k;
    const hU = cpuTensor(h, [B, u]).matmul(U).valuesForKernel(); // h·U for the whole batch
    for (let b = 0; b < B; b++) {
      const at = t * B + b;
      copyRow(hPrev, at * u, h, b * u, u);
      copyRow(cPrev, at * u, c, b * u, u);
      if (mask !== null && mask[b * T + t] === 0) continue;
      const g = at * n, xo = (b * T + t) * n;
      for (let j = 0; j < n; j++) gates[g + j] = x[xo + j] + bv[j] + hU[b * n + j];
      cellForwardRow(hard, u, gates, g, c, b * u, c, b * u, tanhC, at * u, h, b * u);
    }
    const row = outputRow(options, k, t, T);
    for (let b = 0; row >= 0 && b < B; b++) {
      if (options.zeroOutputForMask && mask !== null && mask[b * T + t] === 0) continue; // the row stays 0
      copyRow(out, (b * R + row) * u, h, b * u, u);
    }
  } });
  if (options.returnState) {
    for (let b = 0; b < B; b++) {
      copyRow(out, (b * R + nOut) * u, h, b * u, u);
      copyRow(out, (b * R + nOut + 1) * u, c, b * u, u);
    }
  }
  const saved: LstmSequenceSaved = {
    gates: cpuTensor(gates, [T, B, n]), hPrev: cpuTensor(hPrev, [T, B, u]),
    cPrev: cpuTensor(cPrev, [T, B, u]), tanhC: cpuTensor(tanhC, [T, B, u]),
  };
  return { output: cpuTensor(out, [B, R, u]), saved };
}

export function lstmSequenceBackward(dy: Tensor, saved: LstmSequenceSaved, U: Tensor, options: LstmSequenceOptions) {
  const [T, B, u] = saved.hPrev.shape, n = 4 * u, dtype = saved.gates.dtype, hard = isHard(options.recurrentActivation);
  const gates = contiguousData(saved.gates), cPrev = contiguousData(saved.cPrev), tanhC = contiguousData(saved.tanhC);
  const UT = U.T.contiguous(); // Uᵀ, laid out once for the T products dz·Uᵀ
  const mask = maskBytes(options.mask);
  const { nOut, R } = outputRows(options, T);
  const d = contiguousData(dy);
  const dzTime = allocate(dtype, T * B * n); // time-major, for dU; stays 0 at padded steps
  const dh = allocate(dtype, B * u), dc = allocate(dtype, B * u);
  if (options.returnState) {
    for (let b = 0; b < B; b++) {
      addRow(dh, b * u, d, (b * R + nOut) * u, u);
      addRow(dc, b * u, d, (b * R + nOut + 1) * u, u);
    }
  }
  whileBIsConstant(UT.storage.read(), () => { for (let k = T - 1; k >= 0; k--) {
    const t = options.goBackwards ? T - 1 - k : k;
    const row = outputRow(options, k, t, T);
    for (let b = 0; b < B; b++) {
      const at = t * B + b;
      const padded = mask !== null && mask[b * T + t] === 0;
      if (row >= 0 && !(padded && options.zeroOutputForMask)) addRow(dh, b * u, d, (b * R + row) * u, u);
      if (padded) continue; // dh and dc pass through
      cellBackwardRow(hard, u, gates, at * n, cPrev, at * u, tanhC, at * u, dh, b * u, dc, b * u, dzTime, at * n, dc, b * u);
    }
    // dh_prev = dz_t·Uᵀ for the real rows; a padded row keeps its dh (h was copied through the step)
    const dhPrev = cpuTensor(dzTime.subarray(t * B * n, (t + 1) * B * n), [B, n]).matmul(UT).valuesForKernel();
    for (let b = 0; b < B; b++) {
      if (mask === null || mask[b * T + t] !== 0) copyRow(dh, b * u, dhPrev, b * u, u);
    }
  } });
  const dz = cpuTensor(dzTime, [T, B, n]);
  return {
    dxw: dz.transpose([1, 0, 2]).contiguous(),
    dU: saved.hPrev.reshape([T * B, u]).T.matmul(dz.reshape([T * B, n])), // Σ h_prevᵀ·dz at once
    dBias: dz.sum([0, 1]),
  };
}
