/**
 * The optional fused kernels of the Backend interface (FusedKernels in @gradlab/tensor): BatchNorm and
 * LayerNorm forward and backward, softmax cross-entropy, and the LSTM cell's gate arithmetic. The
 * formulas are in @gradlab/tensor's backend.ts and, derived, in docs/layers.md and docs/lstm.md.
 *
 * Each is a few reductions (the levelled ones of reduce.ts: column statistics for BatchNorm, row
 * statistics for LayerNorm and softmax) and one elementwise kernel per output that reads its row's
 * and column's statistics directly, so nothing is broadcast into a full-size temporary and nothing
 * leaves the device. x is a matrix [M, C]: element o sits in row r = ⌊o/C⌋, column c = o − r·C.
 */
import type { Tensor } from '@gradlab/tensor';
import { formatShape } from '@gradlab/tensor';
import { launch, storageOf } from '../context.js';
import type { GpuContext } from '../context.js';
import { idiv, literal } from '../codegen.js';
import { copy, UNARY } from './elementwise.js';
import { reduce } from './reduce.js';

/** How a kernel input is indexed from (r, c): the full matrix, one value per column, per row, or one value. */
type Kind = 'full' | 'col' | 'row' | 'one';
type Inputs = Record<string, [Tensor, Kind]>;

/** out[r, c] = expr, where each input name in expr is that input read at (r, c) as its kind says. */
function rows(ctx: GpuContext, op: string, shape: [number, number], inputs: Inputs, expr: string): Tensor {
  const [M, C] = shape;
  const names = Object.keys(inputs);
  const at: Record<Kind, string> = { full: 'o', col: 'c', row: 'r', one: '0' };
  return launch(ctx, 'float32', shape, {
    op, key: `${M},${C}|${names.map((n) => `${n}:${inputs[n][1]}`).join(',')}|${expr}`,
    inputs: Object.fromEntries(names.map((n) => [n, storageOf(inputs[n][0])])),
    uniforms: Object.fromEntries(names.map((n) => [`${n}Offset`, inputs[n][0].offset])),
    body: (read) => [
      `  const r = ${idiv('o', C)};`,
      `  const c = o - r * ${C};`,
      ...names.map((n) => `  const ${n} = ${read(n, `${at[inputs[n][1]]} + ${n}Offset`)};`),
      `  return ${expr};`,
    ].join('\n'),
  });
}

/** x as a contiguous [M, C] matrix (a copy when it is a strided view). */
function matrix(ctx: GpuContext, op: string, x: Tensor, temps: Tensor[]): { x: Tensor; M: number; C: number } {
  if (x.rank < 1) throw new Error(`${op}: expected a tensor with a feature axis, got shape ${formatShape(x.shape)}`);
  const C = x.shape[x.rank - 1], M = C === 0 ? 0 : x.size / C;
  let m = x.isContiguous() ? x : copy(ctx, x, x.dtype);
  if (m !== x) temps.push(m);
  m = m.reshape([M, C]);
  return { x: m, M, C };
}

function free(temps: Tensor[]): void {
  for (const t of temps) t.storage.dispose();
}

const sigmoid = UNARY.sigmoid, tanh = UNARY.tanh;

// ---- BatchNorm --------------------------------------------------------------------------------

export function batchNormForward(ctx: GpuContext, x0: Tensor, gamma: Tensor, beta: Tensor, epsilon: number, mask: Tensor | null) {
  const temps: Tensor[] = [];
  const { x, M, C } = matrix(ctx, 'batchNormForward', x0, temps);
  const shape: [number, number] = [M, C];
  const eps = literal(epsilon);
  let mean: Tensor, variance: Tensor;
  if (mask === null) {
    mean = reduce(ctx, 'mean', x, [0]);                                                         // [1, C]
    const sq = rows(ctx, 'bn-dev2', shape, { x: [x, 'full'], mu: [mean, 'col'] }, '(x - mu) * (x - mu)');
    variance = reduce(ctx, 'mean', sq, [0]);
    temps.push(sq);
  } else {
    // weighted by the 0/1 mask: mean = Σ m·x / Σ m, variance = Σ m·(x − mean)² / Σ m
    const count = reduce(ctx, 'sum', mask.reshape([M, 1]), [0, 1]);                           // [1, 1]
    const mx = rows(ctx, 'bn-mx', shape, { x: [x, 'full'], m: [mask, 'row'] }, 'm * x');
    const sum = reduce(ctx, 'sum', mx, [0]);
    mean = rows(ctx, 'bn-div', [1, C], { s: [sum, 'col'], n: [count, 'one'] }, 's / n');
    const sq = rows(ctx, 'bn-mdev2', shape, { x: [x, 'full'], mu: [mean, 'col'], m: [mask, 'row'] }, 'm * (x - mu) * (x - mu)');
    const sqSum = reduce(ctx, 'sum', sq, [0]);
    variance = rows(ctx, 'bn-div', [1, C], { s: [sqSum, 'col'], n: [count, 'one'] }, 's / n');
    temps.push(count, mx, sum, sq, sqSum);
  }
  const invstd = rows(ctx, 'bn-invstd', [1, C], { v: [variance, 'col'] }, `1.0 / Math.sqrt(v + ${eps})`);
  const xHat = rows(ctx, 'bn-xhat', shape, { x: [x, 'full'], mu: [mean, 'col'], s: [invstd, 'col'] }, '(x - mu) * s');
  const y = rows(ctx, 'bn-y', shape, { h: [xHat, 'full'], g: [gamma, 'col'], b: [beta, 'col'] }, 'g * h + b');
  free(temps);
  return { y: y.reshape(x0.shape), xHat: xHat.reshape(x0.shape), mean: mean.reshape([C]), variance: variance.reshape([C]), invstd: invstd.reshape([C]) };
}

export function batchNormBackward(ctx: GpuContext, dy0: Tensor, xHat0: Tensor, invstd: Tensor, gamma: Tensor, mask: Tensor | null) {
  const temps: Tensor[] = [];
  const { x: dy, M, C } = matrix(ctx, 'batchNormBackward', dy0, temps);
  const { x: xHat } = matrix(ctx, 'batchNormBackward', xHat0, temps);
  const shape: [number, number] = [M, C];
  const sumG = reduce(ctx, 'sum', dy, [0]);                                                     // Σ_r dy   [1, C]
  const gx = rows(ctx, 'bn-gx', shape, { g: [dy, 'full'], h: [xHat, 'full'] }, 'g * h');
  const sumGx = reduce(ctx, 'sum', gx, [0]);                                                    // Σ_r dy·x̂
  const count = mask === null ? null : reduce(ctx, 'sum', mask.reshape([M, 1]), [0, 1]);
  const inputs: Inputs = { g: [dy, 'full'], h: [xHat, 'full'], sg: [sumG, 'col'], sgx: [sumGx, 'col'], s: [invstd, 'col'], w: [gamma, 'col'] };
  if (mask !== null && count !== null) { inputs.m = [mask, 'row']; inputs.n = [count, 'one']; }
  const weight = mask === null ? '' : 'm * ';
  const n = mask === null ? literal(M) : 'n';
  const dx = rows(ctx, 'bn-dx', shape, inputs, `w * s * (g - ${weight}sg / ${n} - ${weight}h * sgx / ${n})`);
  free([...temps, gx, ...(count ? [count] : [])]);
  return { dx: dx.reshape(dy0.shape), dGamma: sumGx.reshape([C]), dBeta: sumG.reshape([C]) };
}

// ---- LayerNorm --------------------------------------------------------------------------------

export function layerNormForward(ctx: GpuContext, x0: Tensor, gamma: Tensor, beta: Tensor, epsilon: number) {
  const temps: Tensor[] = [];
  const { x, M, C } = matrix(ctx, 'layerNormForward', x0, temps);
  const shape: [number, number] = [M, C];
  const mean = reduce(ctx, 'mean', x, [1]);                                                     // [M, 1]
  const sq = rows(ctx, 'ln-dev2', shape, { x: [x, 'full'], mu: [mean, 'row'] }, '(x - mu) * (x - mu)');
  const variance = reduce(ctx, 'mean', sq, [1]);
  const invstd = rows(ctx, 'ln-invstd', [M, 1], { v: [variance, 'full'] }, `1.0 / Math.sqrt(v + ${literal(epsilon)})`);
  const xHat = rows(ctx, 'ln-xhat', shape, { x: [x, 'full'], mu: [mean, 'row'], s: [invstd, 'row'] }, '(x - mu) * s');
  const y = rows(ctx, 'ln-y', shape, { h: [xHat, 'full'], g: [gamma, 'col'], b: [beta, 'col'] }, 'g * h + b');
  free([...temps, mean, sq, variance]);
  return { y: y.reshape(x0.shape), xHat: xHat.reshape(x0.shape), invstd: invstd.reshape([M]) };
}

export function layerNormBackward(ctx: GpuContext, dy0: Tensor, xHat0: Tensor, invstd: Tensor, gamma: Tensor) {
  const temps: Tensor[] = [];
  const { x: dy, M, C } = matrix(ctx, 'layerNormBackward', dy0, temps);
  const { x: xHat } = matrix(ctx, 'layerNormBackward', xHat0, temps);
  const shape: [number, number] = [M, C];
  const g = rows(ctx, 'ln-g', shape, { d: [dy, 'full'], w: [gamma, 'col'] }, 'd * w');           // g = dy·γ
  const gx = rows(ctx, 'ln-gx', shape, { g: [g, 'full'], h: [xHat, 'full'] }, 'g * h');
  const meanG = reduce(ctx, 'mean', g, [1]), meanGx = reduce(ctx, 'mean', gx, [1]);             // [M, 1]
  const dx = rows(ctx, 'ln-dx', shape, { g: [g, 'full'], h: [xHat, 'full'], mg: [meanG, 'row'], mgx: [meanGx, 'row'], s: [invstd, 'row'] },
    's * (g - mg - h * mgx)');
  const dyx = rows(ctx, 'ln-dyx', shape, { d: [dy, 'full'], h: [xHat, 'full'] }, 'd * h');
  const dGamma = reduce(ctx, 'sum', dyx, [0]), dBeta = reduce(ctx, 'sum', dy, [0]);
  free([...temps, g, gx, meanG, meanGx, dyx]);
  return { dx: dx.reshape(dy0.shape), dGamma: dGamma.reshape([C]), dBeta: dBeta.reshape([C]) };
}

// ---- softmax cross-entropy --------------------------------------------------------------------

export function softmaxCrossEntropy(ctx: GpuContext, logits0: Tensor, labels0: Tensor) {
  const temps: Tensor[] = [];
  const { x: z, M: N, C } = matrix(ctx, 'softmaxCrossEntropy', logits0, temps);
  if (labels0.size !== N) {
    throw new Error(`softmaxCrossEntropy: logits ${formatShape(logits0.shape)} have ${N} rows, labels ${formatShape(labels0.shape)} have ${labels0.size}`);
  }
  const labels = labels0.isContiguous() ? labels0 : copy(ctx, labels0, labels0.dtype);
  if (labels !== labels0) temps.push(labels);
  const shape: [number, number] = [N, C];
  const m = reduce(ctx, 'max', z, [1]);                                                         // row max [N, 1]
  const e = rows(ctx, 'sce-exp', shape, { z: [z, 'full'], m: [m, 'row'] }, 'Math.exp(z - m)');  // e^{z − max} ≤ 1
  const s = reduce(ctx, 'sum', e, [1]);
  const softmax = rows(ctx, 'sce-softmax', shape, { e: [e, 'full'], s: [s, 'row'] }, 'e / s');
  // loss_r = log Σ e^{z − m} + m − z[r, label_r]: one thread per row reads its label's logit. A label
  // that is not a class index gives NaN (the caller does not read labels back to check them).
  const loss = launch(ctx, 'float32', [N], {
    op: 'sce-loss', key: `${N},${C}`,
    inputs: { z: storageOf(z), m: storageOf(m), s: storageOf(s), y: storageOf(labels) },
    uniforms: { zOffset: z.offset, yOffset: labels.offset },
    body: (read) => [
      `  const label = ${read('y', 'o + yOffset')};`,
      `  if (label < 0.0 || label > ${literal(C - 1)} || Math.floor(label) != label) { return ${literal(NaN)}; }`,
      `  return Math.log(${read('s', 'o')}) + ${read('m', 'o')} - ${read('z', `o * ${C} + label + zOffset`)};`,
    ].join('\n'),
  });
  free([...temps, m, e, s]);
  return { loss, softmax: softmax.reshape(logits0.shape) };
}

// ---- the LSTM cell --------------------------------------------------------------------------------

/** Column j of z [B, 4u] belongs to gate k = ⌊j/u⌋ (i, f, c̃, o): statements setting b, k, jj (j − k·u). */
function gateIndex(u: number): string {
  return [`  const b = ${idiv('o', 4 * u)};`, `  const j = o - b * ${4 * u};`, `  const k = ${idiv('j', u)};`, `  const jj = j - k * ${u};`].join('\n');
}

export function lstmCellForward(ctx: GpuContext, z0: Tensor, cPrev0: Tensor) {
  const temps: Tensor[] = [];
  const { x: z, M: B, C: four } = matrix(ctx, 'lstmCellForward', z0, temps);
  const u = four / 4;
  const { x: cPrev } = matrix(ctx, 'lstmCellForward', cPrev0, temps);
  if (!Number.isInteger(u) || cPrev.size !== B * u) {
    throw new Error(`lstmCellForward: z ${formatShape(z0.shape)} must be [B, 4u] and cPrev ${formatShape(cPrev0.shape)} [B, u]`);
  }
  const gates = launch(ctx, 'float32', [B, 4 * u], {
    op: 'lstm-gates', key: `${B},${u}`, inputs: { z: storageOf(z) }, uniforms: { zOffset: z.offset },
    body: (read) => [gateIndex(u), `  const v = ${read('z', 'o + zOffset')};`, `  return k == 2 ? ${tanh('v')} : ${sigmoid('v')};`].join('\n'),
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

export function lstmCellBackward(ctx: GpuContext, dh0: Tensor, dc0: Tensor, gates: Tensor, tanhC: Tensor, cPrev0: Tensor) {
  const temps: Tensor[] = [];
  const { x: dh, M: B, C: u } = matrix(ctx, 'lstmCellBackward', dh0, temps);
  const { x: dc } = matrix(ctx, 'lstmCellBackward', dc0, temps);
  const { x: cPrev } = matrix(ctx, 'lstmCellBackward', cPrev0, temps);
  const { x: g } = matrix(ctx, 'lstmCellBackward', gates, temps);
  const gate = (k: number, read: (n: string, p: string) => string) => read('g', `b * ${4 * u} + jj + ${k * u}`);
  // dcTotal = dc + dh·o·(1 − tanh²c): the gradient reaching c from h and from the next step
  const dct = launch(ctx, 'float32', [B, u], {
    op: 'lstm-dct', key: `${B},${u}`,
    inputs: { g: storageOf(g), dh: storageOf(dh), dc: storageOf(dc), t: storageOf(tanhC) },
    uniforms: { dhOffset: dh.offset, dcOffset: dc.offset },
    body: (read) => [`  const b = ${idiv('o', u)};`, `  const jj = o - b * ${u};`, `  const t = ${read('t', 'o')};`,
      `  return ${read('dc', 'o + dcOffset')} + ${read('dh', 'o + dhOffset')} * ${gate(3, read)} * (1.0 - t * t);`].join('\n'),
  });
  // dz per gate: i: dct·c̃·i(1−i)   f: dct·cPrev·f(1−f)   c̃: dct·i·(1−c̃²)   o: dh·tanh c·o(1−o)
  const dz = launch(ctx, 'float32', [B, 4 * u], {
    op: 'lstm-dz', key: `${B},${u}`,
    inputs: { g: storageOf(g), d: storageOf(dct), dh: storageOf(dh), t: storageOf(tanhC), p: storageOf(cPrev) },
    uniforms: { dhOffset: dh.offset, pOffset: cPrev.offset },
    body: (read) => [
      gateIndex(u),
      `  const i = ${gate(0, read)};`, `  const f = ${gate(1, read)};`, `  const cc = ${gate(2, read)};`, `  const og = ${gate(3, read)};`,
      `  const d = ${read('d', `b * ${u} + jj`)};`,
      '  if (k == 0) { return d * cc * i * (1.0 - i); }',
      `  if (k == 1) { return d * ${read('p', `b * ${u} + jj + pOffset`)} * f * (1.0 - f); }`,
      '  if (k == 2) { return d * i * (1.0 - cc * cc); }',
      `  return ${read('dh', `b * ${u} + jj + dhOffset`)} * ${read('t', `b * ${u} + jj`)} * og * (1.0 - og);`,
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
