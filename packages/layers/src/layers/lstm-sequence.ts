/**
 * The LSTM over a whole sequence as ONE autograd op, whose backward runs backpropagation through time
 * (BPTT) explicitly. Why one node for T steps instead of T nodes: a node per step costs a slice of
 * the input projection, a concat of the outputs and several small tensors per step in both passes;
 * here the loop runs over flat typed arrays and the backward sums dU over all steps in one pass.
 * The arithmetic of each step is the fused cell's (lstm-cell.ts); docs/lstm.md derives it.
 *
 * Forward, for processing step k = 0 … T−1 (time t = k, or T−1−k when going backwards), each row b:
 *   z = xw[b, t] + b + h·U;  (i, f, c̃, o, c, h) as in the cell        if mask[b, t] = 1
 *   h, c unchanged                                                  if mask[b, t] = 0 (padding)
 *   output[k] = h   (so a padded step repeats the previous output, as Keras does; or 0 with
 *                    zeroOutputForMask, as in Keras's Bidirectional)
 *
 * Backward, k = T−1 … 0, carrying dh and dc (the gradients reaching h and c after step k):
 *   dh += dy[output row of step k]   (unless that output was a constant 0)
 *   real step:   dz[b, t], dc ← dc_prev by the cell's backward;  dh ← dz[b, t]·Uᵀ
 *   padded step: dz[b, t] = 0; dh and dc pass to the step before unchanged (h and c were copied)
 * and once at the end, dU = Σ_{b,t} h_prev[b, t]ᵀ · dz[b, t] (one matmul);  dxw = dz;  db = Σ_{b,t} dz[b, t].
 */
import { defineOp } from '@gradlab/autograd';
import type { Variable } from '@gradlab/autograd';
import { Tensor, allocate, formatShape, fromTypedArray } from '@gradlab/tensor';
import type { TypedArray } from '@gradlab/tensor';
import { cellBackwardRow, cellForwardRow, computeDType, valuesOf } from './lstm-cell.js';
import { lstmDevice, ranOnDevice, sequenceBackward, sequenceForward } from './lstm-device.js';
import type { OutputLayout } from './lstm-device.js';

export interface LstmSequenceAttrs {
  /** [B, T], 1 for real steps and 0 for padding; null: every step is real. */
  mask: Tensor | null;
  /** Read the sequence from its last step to its first. */
  goBackwards: boolean;
  /** One output row per step (else only the last output). */
  returnSequences: boolean;
  /** Append the final h and c as two more rows. */
  returnState: boolean;
  /**
   * With goBackwards and returnSequences: put the output computed at time t in row t (what
   * Bidirectional wants), instead of in processing order (what Keras's LSTM(goBackwards) returns).
   */
  timeAligned: boolean;
  /**
   * Keras's zero_output_for_mask: a padded step outputs zeros instead of repeating the previous
   * output (the state is carried either way). Bidirectional turns it on with returnSequences.
   */
  zeroOutputForMask: boolean;
}

/** Where things are in the output [B, R, u]: outputs first, then (returnState) h and c. */
function outputRows(attrs: LstmSequenceAttrs, T: number): { nOut: number; R: number } {
  const nOut = attrs.returnSequences ? T : 1;
  return { nOut, R: nOut + (attrs.returnState ? 2 : 0) };
}

/** The output row that processing step k (at time t) writes, or −1: without returnSequences only the last step's output is kept. */
function outputRow(attrs: LstmSequenceAttrs, k: number, t: number, T: number): number {
  if (!attrs.returnSequences) return k === T - 1 ? 0 : -1;
  return attrs.timeAligned ? t : k;
}

/** outputRows and outputRow together, for the device path (lstm-device.ts). */
function layoutOf(attrs: LstmSequenceAttrs, T: number): OutputLayout {
  return { ...outputRows(attrs, T), rowOf: (k, t) => outputRow(attrs, k, t, T) };
}

/** The mask as one byte per (b, t), or null when there is none; checks its shape. */
function maskBytes(mask: Tensor | null, B: number, T: number): Uint8Array | null {
  if (mask === null) return null;
  if (mask.rank !== 2 || mask.shape[0] !== B || mask.shape[1] !== T) {
    throw new Error(`lstm: mask ${formatShape(mask.shape)} does not fit inputs of batch ${B} and ${T} time steps (expected [${B},${T}])`);
  }
  const values = mask.dataSync();
  const bytes = new Uint8Array(B * T);
  for (let i = 0; i < bytes.length; i++) bytes[i] = values[i] !== 0 ? 1 : 0;
  return bytes;
}

/** Copy u values: dst[dAt …] = src[sAt …]. */
function copyRow(dst: TypedArray, dAt: number, src: TypedArray, sAt: number, u: number): void {
  for (let j = 0; j < u; j++) dst[dAt + j] = src[sAt + j];
}
/** Add u values: dst[dAt …] += src[sAt …]. */
function addRow(dst: TypedArray, dAt: number, src: TypedArray, sAt: number, u: number): void {
  for (let j = 0; j < u; j++) dst[dAt + j] += src[sAt + j];
}

/**
 * lstmSequence([xw, U, b]) → [B, R, u]
 *   xw [B, T, 4u] = x·W for every step (one matmul, done by the caller)    U [u, 4u]    b [4u]
 *   rows 0 … nOut−1: the outputs (all T, or the last); then h_T and c_T if returnState.
 * The bias is added here, in the loop that adds h·U anyway (so z = xw + b + h·U costs no extra pass),
 * and db = Σ_{b,t} dz. Per step, h·U and dz·Uᵀ are [B, ·] matmuls over the whole batch (the tensor
 * package's). dU is one [u, B·T] @ [B·T, 4u] matmul at the end. The rest runs on flat arrays, or, for
 * float32 inputs on a device with the fused LSTM cell kernels, as device kernels (lstm-device.ts).
 */
export const lstmSequenceOp = defineOp<LstmSequenceAttrs>('lstmSequence', {
  forward(ctx, [xw, U, bias], attrs) {
    const [B, T, n] = xw.shape;
    const u = U.shape[0];
    if (xw.rank !== 3 || U.rank !== 2 || U.shape[1] !== 4 * u || n !== 4 * u || bias.rank !== 1 || bias.shape[0] !== n) {
      throw new Error(`lstmSequence: xw ${formatShape(xw.shape)}, U ${formatShape(U.shape)} and b ${formatShape(bias.shape)}: ` +
        'expected xw [B, T, 4u], U [u, 4u] and b [4u]');
    }
    const device = lstmDevice(xw, U, bias);
    if (device) return sequenceForward(ctx, device, xw, U, bias, attrs, layoutOf(attrs, T));
    const dtype = computeDType(xw);
    const mask = maskBytes(attrs.mask, B, T);
    const x = valuesOf(xw, dtype), bv = valuesOf(bias, dtype);
    const W = U.astype(dtype);
    const gates = allocate(dtype, B * T * n); // z, then the activated gates, of step (b, t) at (b·T + t)·4u
    const hPrev = allocate(dtype, B * T * u); // h before step (b, t): dU needs it
    const cPrev = allocate(dtype, B * T * u); // c before step (b, t): df needs it
    const tanhC = allocate(dtype, B * T * u); // tanh(c) after step (b, t)
    const h = allocate(dtype, B * u), c = allocate(dtype, B * u); // the running state, zeros at first
    const { nOut, R } = outputRows(attrs, T);
    const out = allocate(dtype, B * R * u);
    for (let k = 0; k < T; k++) {
      const t = attrs.goBackwards ? T - 1 - k : k;
      const hU = fromTypedArray(h, [B, u]).matmul(W).dataSync(); // h·U for the whole batch
      for (let b = 0; b < B; b++) {
        const at = b * T + t;
        copyRow(hPrev, at * u, h, b * u, u);
        copyRow(cPrev, at * u, c, b * u, u);
        if (mask !== null && mask[at] === 0) continue; // padding: h and c carry over
        const g = at * n;
        for (let j = 0; j < n; j++) gates[g + j] = x[g + j] + bv[j] + hU[b * n + j];
        cellForwardRow(u, gates, g, c, b * u, c, b * u, tanhC, at * u, h, b * u);
      }
      const row = outputRow(attrs, k, t, T);
      for (let b = 0; row >= 0 && b < B; b++) {
        if (attrs.zeroOutputForMask && mask !== null && mask[b * T + t] === 0) continue; // the row stays 0
        copyRow(out, (b * R + row) * u, h, b * u, u);
      }
    }
    for (let b = 0; b < B; b++) {
      if (attrs.returnState) {
        copyRow(out, (b * R + nOut) * u, h, b * u, u);
        copyRow(out, (b * R + nOut + 1) * u, c, b * u, u);
      }
    }
    ctx.save(fromTypedArray(gates, [B, T, n]), fromTypedArray(hPrev, [B, T, u]), fromTypedArray(cPrev, [B, T, u]),
      fromTypedArray(tanhC, [B, T, u]), W);
    return fromTypedArray(out, [B, R, u]);
  },

  backward(ctx, dy, attrs) {
    if (ranOnDevice.has(ctx)) {
      const T = (ctx.saved.length - 1) / 4;
      return sequenceBackward(ctx, lstmDevice(ctx.saved[0])!, dy, attrs, layoutOf(attrs, T));
    }
    const [gatesT, hPrevT, cPrevT, tanhCT, W] = ctx.saved;
    const [B, T, u] = hPrevT.shape;
    const n = 4 * u;
    const dtype = computeDType(gatesT);
    const gates = gatesT.dataSync(), cPrev = cPrevT.dataSync(), tanhC = tanhCT.dataSync();
    const WT = W.T.contiguous(); // Uᵀ, laid out once for the T products dz·Uᵀ
    const mask = maskBytes(attrs.mask, B, T);
    const { nOut, R } = outputRows(attrs, T);
    const d = valuesOf(dy, dtype);
    const dz = allocate(dtype, B * T * n); // stays 0 at padded steps
    const dzStep = allocate(dtype, B * n); // step t's rows of dz, for dz_t·Uᵀ
    const dh = allocate(dtype, B * u), dc = allocate(dtype, B * u);
    for (let b = 0; b < B; b++) {
      if (attrs.returnState) {
        addRow(dh, b * u, d, (b * R + nOut) * u, u);
        addRow(dc, b * u, d, (b * R + nOut + 1) * u, u);
      }
    }
    for (let k = T - 1; k >= 0; k--) {
      const t = attrs.goBackwards ? T - 1 - k : k;
      const row = outputRow(attrs, k, t, T);
      for (let b = 0; b < B; b++) {
        const at = b * T + t;
        const padded = mask !== null && mask[at] === 0;
        if (row >= 0 && !(padded && attrs.zeroOutputForMask)) addRow(dh, b * u, d, (b * R + row) * u, u);
        if (padded) continue; // dh and dc pass through
        cellBackwardRow(u, gates, at * n, cPrev, at * u, tanhC, at * u, dh, b * u, dc, b * u, dz, at * n, dc, b * u);
      }
      // dh_prev = dz_t·Uᵀ for the real rows; a padded row keeps its dh (h was copied through the step).
      // dz_t is copied out rather than viewed: a tensor made from an array before the array is filled
      // would see the old values on a backend whose upload copies (a GPU texture).
      for (let b = 0; b < B; b++) copyRow(dzStep, b * n, dz, (b * T + t) * n, n);
      const dhPrev = fromTypedArray(dzStep, [B, n]).matmul(WT).dataSync();
      for (let b = 0; b < B; b++) {
        if (mask === null || mask[b * T + t] !== 0) copyRow(dh, b * u, dhPrev, b * u, u);
      }
    }
    const dzT = fromTypedArray(dz, [B, T, n]);
    return [
      ctx.needs(0) ? dzT : null,
      ctx.needs(1) ? hPrevT.reshape([B * T, u]).T.matmul(dzT.reshape([B * T, n])) : null, // Σ h_prevᵀ·dz at once
      ctx.needs(2) ? dzT.sum([0, 1]) : null,
    ];
  },
});

/** Run the recurrence over xw = x·W ([B, T, 4u]) with recurrent kernel U and bias b; see lstmSequenceOp. */
export function lstmSequence(xw: Variable, U: Variable, bias: Variable, attrs: LstmSequenceAttrs): Variable {
  return lstmSequenceOp([xw, U, bias], attrs);
}
