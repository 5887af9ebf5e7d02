/**
 * The gpu backend's LSTM kernels (RecurrentKernels in @gradlab/tensor): the cell's gate arithmetic as
 * device kernels, and the whole sequence as a loop over time of a few device ops per step, so that
 * nothing leaves the device:
 *
 *   z = xw_t + b + h·U                      (a slice, two adds, a matmul)
 *   gates, c, tanh c, h = cell(z, c_prev)   (lstmCellForward below)
 *   padded rows keep h and c                (where, with the step's column of the mask)
 *
 * and backward, from the last step to the first:
 *
 *   dh += the step's output gradient;  dz, dc_prev = cell backward(dh, dc, …)
 *   real rows: dh ← dz·Uᵀ, dc ← dc_prev;   padded rows: dz = 0, dh and dc pass unchanged
 *   dU = Σ_t h_prev,tᵀ·dz_t (one matmul over the stacked steps),  dxw = dz,  db = Σ dz
 *
 * The CPU's loops (packages/tensor/src/cpu/recurrent.ts) compute the same; the formulas are in
 * @gradlab/tensor's backend.ts and docs/lstm.md.
 */
import { Tensor, formatShape, stack, where } from '@gradlab/tensor';
import type { LstmSequenceOptions, LstmSequenceSaved, RecurrentActivation } from '@gradlab/tensor';
import { launch, storageOf } from '../context.js';
import type { GpuContext } from '../context.js';
import { idiv } from '../codegen.js';
import { UNARY } from './elementwise.js';
import { free, matrix, rows } from './matrix.js';

const tanh = UNARY.tanh;

/** The gates' activation σ as kernel code, and its derivative from σ's value s (as the CPU kernel's gateValue and gateSlope). */
const GATE: Record<RecurrentActivation, { value: (x: string) => string; slope: (s: string) => string }> = {
  sigmoid: { value: UNARY.sigmoid, slope: (s) => `${s} * (1.0 - ${s})` },
  hardSigmoid: { value: (x) => `Math.min(1.0, Math.max(0.0, 0.2 * ${x} + 0.5))`, slope: (s) => `(${s} > 0.0 && ${s} < 1.0 ? 0.2 : 0.0)` },
};

// ---- the LSTM cell --------------------------------------------------------------------------------

/** Column j of z [B, 4u] belongs to gate k = ⌊j/u⌋ (i, f, c̃, o): statements setting b, k, jj (j − k·u). */
function gateIndex(u: number): string {
  return [`  const b = ${idiv('o', 4 * u)};`, `  const j = o - b * ${4 * u};`, `  const k = ${idiv('j', u)};`, `  const jj = j - k * ${u};`].join('\n');
}

export function lstmCellForward(ctx: GpuContext, z0: Tensor, cPrev0: Tensor, activation: RecurrentActivation) {
  const temps: Tensor[] = [];
  const { x: z, M: B, C: four } = matrix(ctx, 'lstmCellForward', z0, temps);
  const u = four / 4;
  const { x: cPrev } = matrix(ctx, 'lstmCellForward', cPrev0, temps);
  if (!Number.isInteger(u) || cPrev.size !== B * u) {
    throw new Error(`lstmCellForward: z ${formatShape(z0.shape)} must be [B, 4u] and cPrev ${formatShape(cPrev0.shape)} [B, u]`);
  }
  const gates = launch(ctx, 'float32', [B, 4 * u], {
    op: 'lstm-gates', key: `${B},${u},${activation}`, inputs: { z: storageOf(z) }, uniforms: { zOffset: z.offset },
    body: (read) => [gateIndex(u), `  const v = ${read('z', 'o + zOffset')};`, `  return k == 2 ? ${tanh('v')} : ${GATE[activation].value('v')};`].join('\n'),
  });
  const gate = (k: number, read: (n: string, p: string) => string) => read('g', `b * ${4 * u} + jj + ${k * u}`);
  const perUnit = (op: string, inputs: Record<string, Tensor>, expr: (read: (n: string, p: string) => string) => string) =>
    launch(ctx, 'float32', [B, u], {
      op, key: `${B},${u}`, inputs: Object.fromEntries(Object.entries(inputs).map(([n, t]) => [n, storageOf(t)])),
      uniforms: Object.fromEntries(Object.entries(inputs).map(([n, t]) => [`${n}Offset`, t.offset])),
      body: (read) => [`  const b = ${idiv('o', u)};`, `  const jj = o - b * ${u};`, `  return ${expr(read)};`].join('\n'),
    });
  // c = f·cPrev + i·c̃
  const c = perUnit('lstm-c', { g: gates, p: cPrev }, (read) => `${gate(1, read)} * ${read('p', 'o + pOffset')} + ${gate(0, read)} * ${gate(2, read)}`);
  const tanhC = rows(ctx, 'lstm-tanhc', [B, u], { cv: [c, 'full'] }, tanh('cv'));
  const h = perUnit('lstm-h', { g: gates, t: tanhC }, (read) => `${gate(3, read)} * ${read('t', 'o')}`);
  free(temps);
  return { h, c, gates, tanhC };
}

export function lstmCellBackward(ctx: GpuContext, dh0: Tensor, dc0: Tensor, gates: Tensor, tanhC0: Tensor, cPrev0: Tensor, activation: RecurrentActivation) {
  const temps: Tensor[] = [];
  const { x: dh, M: B, C: u } = matrix(ctx, 'lstmCellBackward', dh0, temps);
  const { x: dc } = matrix(ctx, 'lstmCellBackward', dc0, temps);
  const { x: cPrev } = matrix(ctx, 'lstmCellBackward', cPrev0, temps);
  const { x: g } = matrix(ctx, 'lstmCellBackward', gates, temps);
  const { x: tanhC } = matrix(ctx, 'lstmCellBackward', tanhC0, temps); // a step's slice of the saved sequence: read from 0
  const gate = (k: number, read: (n: string, p: string) => string) => read('g', `b * ${4 * u} + jj + ${k * u}`);
  // dcTotal = dc + dh·o·(1 − tanh²c): the gradient reaching c from h and from the next step
  const dct = launch(ctx, 'float32', [B, u], {
    op: 'lstm-dct', key: `${B},${u}`,
    inputs: { g: storageOf(g), dh: storageOf(dh), dc: storageOf(dc), t: storageOf(tanhC) },
    uniforms: { dhOffset: dh.offset, dcOffset: dc.offset },
    body: (read) => [`  const b = ${idiv('o', u)};`, `  const jj = o - b * ${u};`, `  const t = ${read('t', 'o')};`,
      `  return ${read('dc', 'o + dcOffset')} + ${read('dh', 'o + dhOffset')} * ${gate(3, read)} * (1.0 - t * t);`].join('\n'),
  });
  // dz per gate: i: dct·c̃·σ′(i)   f: dct·cPrev·σ′(f)   c̃: dct·i·(1−c̃²)   o: dh·tanh c·σ′(o)
  const slope = GATE[activation].slope;
  const dz = launch(ctx, 'float32', [B, 4 * u], {
    op: 'lstm-dz', key: `${B},${u},${activation}`,
    inputs: { g: storageOf(g), d: storageOf(dct), dh: storageOf(dh), t: storageOf(tanhC), p: storageOf(cPrev) },
    uniforms: { dhOffset: dh.offset, pOffset: cPrev.offset },
    body: (read) => [
      gateIndex(u),
      `  const i = ${gate(0, read)};`, `  const f = ${gate(1, read)};`, `  const cc = ${gate(2, read)};`, `  const og = ${gate(3, read)};`,
      `  const d = ${read('d', `b * ${u} + jj`)};`,
      `  if (k == 0) { return d * cc * ${slope('i')}; }`,
      `  if (k == 1) { return d * ${read('p', `b * ${u} + jj + pOffset`)} * ${slope('f')}; }`,
      '  if (k == 2) { return d * i * (1.0 - cc * cc); }',
      `  return ${read('dh', `b * ${u} + jj + dhOffset`)} * ${read('t', `b * ${u} + jj`)} * ${slope('og')};`,
    ].join('\n'),
  });
  // dcPrev = dcTotal·f
  const dcPrev = launch(ctx, 'float32', [B, u], {
    op: 'lstm-dcprev', key: `${B},${u}`, inputs: { g: storageOf(g), d: storageOf(dct) },
    body: (read) => [`  const b = ${idiv('o', u)};`, `  const jj = o - b * ${u};`, `  return ${read('d', 'o')} * ${gate(1, read)};`].join('\n'),
  });
  free([...temps, dct]);
  return { dz: dz.reshape(gates.shape), dcPrev: dcPrev.reshape(cPrev0.shape) };
}

// ---- the whole sequence ----------------------------------------------------------------------------

/** Rows of the output [B, R, u] (as the CPU kernel): the outputs (all T, or the last), then h_T and c_T. */
function outputRow(options: LstmSequenceOptions, k: number, t: number, T: number): number {
  if (!options.returnSequences) return k === T - 1 ? 0 : -1;
  return options.timeAligned ? t : k;
}

export function lstmSequenceForward(ctx: GpuContext, xw: Tensor, U: Tensor, bias: Tensor, options: LstmSequenceOptions, zeros: (shape: number[]) => Tensor) {
  const [B, T] = xw.shape;
  const u = U.shape[0];
  const mask = options.mask;
  const gates: Tensor[] = [], tanhC: Tensor[] = [], cPrev: Tensor[] = [], hPrev: Tensor[] = []; // by time t
  const out: Tensor[] = [];
  let h = zeros([B, u]), c = h;
  for (let k = 0; k < T; k++) {
    const t = options.goBackwards ? T - 1 - k : k;
    hPrev[t] = h; cPrev[t] = c;
    const step = lstmCellForward(ctx, xw.slice([null, t]).add(bias).add(h.matmul(U)), c, options.recurrentActivation ?? 'sigmoid');
    gates[t] = step.gates; tanhC[t] = step.tanhC;
    const real = mask?.slice([null, [t, t + 1]]) ?? null; // [B, 1], broadcast over the units
    h = real ? where(real, step.h, h) : step.h;
    c = real ? where(real, step.c, c) : step.c;
    const row = outputRow(options, k, t, T);
    if (row >= 0) out[row] = real && options.zeroOutputForMask ? where(real, h, 0) : h;
  }
  if (options.returnState) out.push(h, c);
  const saved: LstmSequenceSaved = { gates: stack(gates, 0), hPrev: stack(hPrev, 0), cPrev: stack(cPrev, 0), tanhC: stack(tanhC, 0) };
  return { output: stack(out, 1), saved };
}

export function lstmSequenceBackward(ctx: GpuContext, dy: Tensor, saved: LstmSequenceSaved, U: Tensor, options: LstmSequenceOptions, zeros: (shape: number[]) => Tensor) {
  const [T, B, u] = saved.hPrev.shape;
  const mask = options.mask;
  const nOut = options.returnSequences ? T : 1;
  const UT = U.T;
  const dz: Tensor[] = [];
  let dh: Tensor = options.returnState ? dy.slice([null, nOut]) : zeros([B, u]);
  let dc: Tensor = options.returnState ? dy.slice([null, nOut + 1]) : zeros([B, u]);
  for (let k = T - 1; k >= 0; k--) {
    const t = options.goBackwards ? T - 1 - k : k;
    const real = mask?.slice([null, [t, t + 1]]) ?? null;
    const row = outputRow(options, k, t, T);
    if (row >= 0) {
      const dOut = dy.slice([null, row]);
      dh = dh.add(real && options.zeroOutputForMask ? where(real, dOut, 0) : dOut); // a zeroed output passes no gradient
    }
    const back = lstmCellBackward(ctx, dh, dc, saved.gates.slice([t]), saved.tanhC.slice([t]), saved.cPrev.slice([t]), options.recurrentActivation ?? 'sigmoid');
    dz[t] = real ? where(real, back.dz, 0) : back.dz;
    const dhPrev = dz[t].matmul(UT);
    dh = real ? where(real, dhPrev, dh) : dhPrev;
    dc = real ? where(real, back.dcPrev, dc) : back.dcPrev;
  }
  const n = 4 * u;
  const dzTime = stack(dz, 0); // [T, B, 4u]
  return {
    dxw: stack(dz, 1),
    dU: saved.hPrev.reshape([T * B, u]).T.matmul(dzTime.reshape([T * B, n])),
    dBias: dzTime.sum([0, 1]),
  };
}
