/**
 * The LSTM as differentiable ops (gate order i, f, c̃, o, as Keras; docs/lstm.md derives everything):
 *
 *   z  = x_t·W + b + h_prev·U          i = σ(z_i)  f = σ(z_f)  c̃ = tanh(z_c)  o = σ(z_o)
 *   c  = f ⊙ c_prev + i ⊙ c̃             h = o ⊙ tanh(c)
 *
 * σ, the recurrent activation, is the sigmoid (Keras's default) or TF.js's default hardSigmoid,
 * clip(0.2·z + 0.5, 0, 1).
 *
 * Three forms:
 *   - lstmCellComposite: one step from autograd primitives (matmul, slice, σ, tanh, ⊙, +); the engine
 *     derives its backward. The teaching reference the other two are tested against.
 *   - lstmCell: one step as one node with two outputs (h, c), the gate arithmetic in the backend's kernel.
 *   - lstmSequence: the whole recurrence as one node whose backward runs backpropagation through time in
 *     the backend's kernel (RecurrentKernels in @gradlab/tensor; the CPU's loops are in
 *     packages/tensor/src/cpu/recurrent.ts). One node for T steps instead of T·k nodes: no per-step
 *     slices, concats or small tensors, and dU summed over all steps in one matmul.
 *
 * `x_t·W` is not part of the step: the layer computes it for all steps at once, as one big matmul.
 */
import { lstmCellBackward, lstmCellForward, lstmSequenceBackward, lstmSequenceForward } from '@gradlab/tensor';
import type { LstmSequenceOptions, LstmSequenceSaved, RecurrentActivation, Tensor } from '@gradlab/tensor';
import { defineOp } from '../engine.js';
import type { Variable } from '../variable.js';

export type { LstmSequenceOptions } from '@gradlab/tensor';

export type { RecurrentActivation } from '@gradlab/tensor';

/** The gates' activation from primitives: the sigmoid, or hardSigmoid as a line clipped to [0, 1]. */
function gateActivation(z: Variable, activation: RecurrentActivation): Variable {
  return activation === 'hardSigmoid' ? z.mul(0.2).add(0.5).clip(0, 1) : z.sigmoid();
}

/** The composite step: every line is a graph node. xz = x_t·W + b, h_prev and c_prev [B, u], U [u, 4u]. */
export function lstmCellComposite(xz: Variable, hPrev: Variable, cPrev: Variable, U: Variable,
  activation: RecurrentActivation = 'sigmoid'): { h: Variable; c: Variable } {
  const u = U.shape[0];
  const z = xz.add(hPrev.matmul(U));
  const gate = (k: number) => z.slice([null, [k * u, (k + 1) * u]]);
  const i = gateActivation(gate(0), activation), f = gateActivation(gate(1), activation);
  const cc = gate(2).tanh(), o = gateActivation(gate(3), activation);
  const c = f.mul(cPrev).add(i.mul(cc));
  const h = o.mul(c.tanh());
  return { h, c };
}

/**
 * lstmCell([xz, h_prev, c_prev, U]) → [h, c]. Backward from dh and dc (either may be null: unused):
 *   dz, dc_prev by the cell kernel,  dxz = dz,  dh_prev = dz·Uᵀ,  dU = h_prevᵀ·dz.
 */
const lstmCellOp = defineOp<RecurrentActivation>('lstmCell', {
  forward(ctx, [xz, hPrev, cPrev, U], activation): Tensor[] {
    const u = U.shape[0];
    if (U.rank !== 2 || U.shape[1] !== 4 * u || xz.rank !== 2 || xz.shape[1] !== 4 * u || hPrev.rank !== 2 || hPrev.shape[1] !== u) {
      throw new Error(`lstmCell: xz [${xz.shape}], h [${hPrev.shape}], c [${cPrev.shape}], U [${U.shape}]: expected xz [B, 4u], h and c [B, u], U [u, 4u]`);
    }
    const { h, c, gates, tanhC } = lstmCellForward(xz.add(hPrev.matmul(U)), cPrev, activation);
    ctx.save(gates, tanhC, hPrev, cPrev, U);
    return [h, c];
  },
  backward(ctx, [dh, dc]: (Tensor | null)[], activation) {
    const [gates, tanhC, hPrev, cPrev, U] = ctx.saved;
    const zeros = tanhC.mul(0);
    const { dz, dcPrev } = lstmCellBackward(dh ?? zeros, dc ?? zeros, gates, tanhC, cPrev, activation);
    return [
      ctx.needs(0) ? dz : null,
      ctx.needs(1) ? dz.matmul(U.T) : null,
      ctx.needs(2) ? dcPrev : null,
      ctx.needs(3) ? hPrev.T.matmul(dz) : null,
    ];
  },
});

/** The fused step: h and c after one step from xz = x_t·W + b, the previous states and U. */
export function lstmCell(xz: Variable, hPrev: Variable, cPrev: Variable, U: Variable,
  activation: RecurrentActivation = 'sigmoid'): { h: Variable; c: Variable } {
  const [h, c] = lstmCellOp([xz, hPrev, cPrev, U], activation);
  return { h, c };
}

/**
 * lstmSequence([xw, U, b]) → [B, R, u]: rows 0 … nOut−1 the outputs (all T steps, or the last), then
 * h_T and c_T with returnState. xw = x·W [B, T, 4u] for every step, U [u, 4u], b [4u].
 */
const lstmSequenceOp = defineOp<LstmSequenceOptions>('lstmSequence', {
  forward(ctx, [xw, U, bias], options) {
    const { output, saved } = lstmSequenceForward(xw, U, bias, options);
    ctx.save(saved.gates, saved.hPrev, saved.cPrev, saved.tanhC, U);
    return output;
  },
  backward(ctx, dy, options) {
    const [gates, hPrev, cPrev, tanhC, U] = ctx.saved;
    const saved: LstmSequenceSaved = { gates, hPrev, cPrev, tanhC };
    const { dxw, dU, dBias } = lstmSequenceBackward(dy, saved, U, options);
    return [ctx.needs(0) ? dxw : null, ctx.needs(1) ? dU : null, ctx.needs(2) ? dBias : null];
  },
});

export function lstmSequence(xw: Variable, U: Variable, bias: Variable, options: LstmSequenceOptions): Variable {
  return lstmSequenceOp([xw, U, bias], options);
}
