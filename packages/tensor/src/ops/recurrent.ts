/**
 * Front ends of the LSTM kernels (RecurrentKernels in ../backend.ts): shape checks naming the op, then
 * the backend holding the input. Gate order i, f, c̃, o (Keras); the formulas are in the backend.ts
 * interface and derived in docs/lstm.md.
 */
import type { Tensor } from '../tensor.js';
import { getBackend } from '../backend.js';
import type { LstmSequenceOptions, LstmSequenceSaved, RecurrentActivation } from '../backend.js';
import { formatShape, shapesEqual } from '../shape.js';

export const RECURRENT_ACTIVATIONS: readonly RecurrentActivation[] = ['sigmoid', 'hardSigmoid'];

/** Refuses a gate activation the kernels do not have, naming the op. */
export function checkRecurrentActivation(op: string, activation: unknown): RecurrentActivation {
  if (!RECURRENT_ACTIVATIONS.includes(activation as RecurrentActivation)) {
    throw new Error(`${op}: recurrentActivation ${JSON.stringify(activation)} is not one of ${RECURRENT_ACTIVATIONS.map((a) => `'${a}'`).join(', ')}`);
  }
  return activation as RecurrentActivation;
}

/** One step's gate arithmetic: z [B, 4u] pre-activations, cPrev [B, u]; σ of the gates is `activation`. */
export function lstmCellForward(z: Tensor, cPrev: Tensor, activation: RecurrentActivation = 'sigmoid') {
  const [B, n] = z.shape;
  if (z.rank !== 2 || n % 4 !== 0 || !shapesEqual(cPrev.shape, [B, n / 4])) {
    throw new Error(`lstmCell: z ${formatShape(z.shape)} and c ${formatShape(cPrev.shape)}: expected z [B, 4u] and c [B, u]`);
  }
  return getBackend(z.backend).lstmCellForward(z, cPrev.astype(z.dtype), checkRecurrentActivation('lstmCell', activation));
}

export function lstmCellBackward(dh: Tensor, dc: Tensor, gates: Tensor, tanhC: Tensor, cPrev: Tensor, activation: RecurrentActivation = 'sigmoid') {
  const d = gates.dtype;
  return getBackend(gates.backend).lstmCellBackward(dh.astype(d), dc.astype(d), gates, tanhC, cPrev.astype(d),
    checkRecurrentActivation('lstmCell', activation));
}

/** The recurrence over xw = x·W [B, T, 4u] with U [u, 4u] and bias [4u]; see RecurrentKernels. */
export function lstmSequenceForward(xw: Tensor, U: Tensor, bias: Tensor, options: LstmSequenceOptions) {
  const [B, T, n] = xw.shape;
  const u = U.shape[0];
  if (xw.rank !== 3 || U.rank !== 2 || U.shape[1] !== 4 * u || n !== 4 * u || bias.rank !== 1 || bias.shape[0] !== n) {
    throw new Error(`lstmSequence: xw ${formatShape(xw.shape)}, U ${formatShape(U.shape)} and b ${formatShape(bias.shape)}: ` +
      'expected xw [B, T, 4u], U [u, 4u] and b [4u]');
  }
  const { mask } = options;
  if (mask !== null && !shapesEqual(mask.shape, [B, T])) {
    throw new Error(`lstm: mask ${formatShape(mask.shape)} does not fit inputs of batch ${B} and ${T} time steps (expected [${B},${T}])`);
  }
  if (options.recurrentActivation !== undefined) checkRecurrentActivation('lstmSequence', options.recurrentActivation);
  const d = xw.dtype === 'float64' ? 'float64' : 'float32';
  return getBackend(xw.backend).lstmSequenceForward(xw.astype(d), U.astype(d), bias.astype(d), options);
}

export function lstmSequenceBackward(dy: Tensor, saved: LstmSequenceSaved, U: Tensor, options: LstmSequenceOptions) {
  const d = saved.gates.dtype;
  return getBackend(saved.gates.backend).lstmSequenceBackward(dy.astype(d), saved, U.astype(d), options);
}
