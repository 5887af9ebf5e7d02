/**
 * The backend conformance suite: every Backend kernel (primitives and fused kernels) on seeded random
 * inputs, each run on the backend under test and compared with a reference run. Shared by the jest
 * suites (conformance.test.ts here, for the cpu backend against itself in float64; the gpu package's
 * kernels.test.ts, one describe per GPU.js mode) and the gpu browser page (browser/entry.ts), so the
 * same list runs everywhere.
 *
 * A check makes its inputs on the CPU, runs `run` once on the CPU backend and once on a gpu
 * backend (inputs copied there with contiguousOn; views taken inside `run` are views of the device
 * tensors, so strided reads are exercised too), and compares element by element:
 *   |gpu − cpu| ≤ atol + rtol·|cpu|       (NaN must meet NaN)
 * Tolerances sit next to each check with the reason. The CPU kernels accumulate in float64; the
 * device accumulates in float32, so sums of n terms differ by about n·2⁻²⁴ relative.
 */
import * as T from '@gradlab/tensor';
import type { Tensor, UnaryOp, BinaryOp, ReduceOp, Conv2DOptions } from '@gradlab/tensor';

export interface Tolerance { atol: number; rtol: number }
export interface Check {
  name: string;
  tol: Tolerance;
  inputs: () => Tensor[];
  run: (...xs: Tensor[]) => Tensor;
  /** Include in the short list run with tiny tiles and in the browser (default true for the browser). */
  tiled?: boolean;
  /** The maths does not depend on the dtype: a float64 run of the same check is a reference for float32. */
  float?: boolean;
}
export interface CheckResult { name: string; ok: boolean; maxError: number; tol: Tolerance; detail: string }

const EXACT: Tolerance = { atol: 0, rtol: 0 };
/** One rounding of float32 (2⁻²⁴ ≈ 6e-8) and a few ulps for a transcendental in a shader. */
const MAP: Tolerance = { atol: 1e-6, rtol: 2e-6 };
/** exp/log/tanh/… in GLSL are allowed a few ulps more than JavaScript's Math, and the GL path computes log1p as log(1 + x). */
const TRANSCENDENTAL: Tolerance = { atol: 1e-6, rtol: 2e-5 };
/** GLSL leaves sin and cos to the implementation: SwiftShader's are off by about 1e-4 for |x| ≤ 6. */
const TRIG: Tolerance = { atol: 3e-4, rtol: 0 };
/** Sums of up to a few hundred float32 products (matmul, conv): about n·2⁻²⁴ relative to the sum of |terms|. */
const SUMS: Tolerance = { atol: 1e-4, rtol: 1e-4 };
/** Fused kernels: statistics over a few dozen float32 values, then a closed form (x̂·Σ(dy·x̂)/N, BPTT over 5 steps). */
const FUSED: Tolerance = { atol: 2e-4, rtol: 1e-3 };

/** Several outputs as one flat tensor, so a check compares them all. */
const flat = (...ts: (Tensor | null)[]): Tensor => T.concat(ts.filter((t): t is Tensor => t !== null).map((t) => t.reshape([-1]).astype('float32')));

const randn = (shape: number[], seed: number) => T.randn(shape, { seed });
const uniform = (shape: number[], lo: number, hi: number, seed: number) => T.uniform(shape, lo, hi, { seed });
/** Values on a coarse grid (halves), so that ties and exact equalities really happen. */
const grid = (shape: number[], seed: number) => T.round(T.randn(shape, { seed }).mul(3)).div(2);

const UNARY_INPUTS: Partial<Record<UnaryOp, () => Tensor>> = {
  log: () => uniform([7, 13], 0.01, 50, 11),
  sqrt: () => uniform([7, 13], 0, 50, 12),
  log1p: () => uniform([7, 13], -0.5, 50, 13),
  reciprocal: () => uniform([7, 13], 0.5, 4, 14).mul(T.sign(randn([7, 13], 15))),
  exp: () => uniform([7, 13], -20, 20, 16),
  expm1: () => uniform([7, 13], -5, 5, 17),
  round: () => grid([7, 13], 18),
};
const UNARY_OPS: UnaryOp[] = ['neg', 'exp', 'log', 'sqrt', 'abs', 'tanh', 'sigmoid', 'relu', 'square', 'sign', 'reciprocal',
  'floor', 'ceil', 'round', 'sin', 'cos', 'softplus', 'log1p', 'expm1'];
const EXACT_UNARY: ReadonlySet<UnaryOp> = new Set(['neg', 'abs', 'relu', 'sign', 'floor', 'ceil', 'round']);

const BINARY_OPS: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'reluGrad'];

function convCases(): { name: string; x: number[]; w: number[]; options: Conv2DOptions }[] {
  return [
    { name: '3x3 valid', x: [2, 9, 8, 3], w: [3, 3, 3, 4], options: {} },
    { name: '3x3 same stride 2', x: [2, 9, 8, 3], w: [3, 3, 3, 5], options: { padding: 'same', strides: 2 } },
    { name: '1x1', x: [2, 5, 6, 4], w: [1, 1, 4, 3], options: {} },
    { name: '5x5 same', x: [1, 7, 6, 2], w: [5, 5, 2, 3], options: { padding: 'same' } },
    { name: '2x3 same strides [2,1]', x: [2, 7, 7, 2], w: [2, 3, 2, 3], options: { padding: 'same', strides: [2, 1] } },
  ];
}

function poolCases(): { name: string; x: number[]; options: T.Pool2DOptions }[] {
  return [
    { name: '2x2 valid', x: [2, 8, 6, 3], options: { poolSize: 2 } },
    { name: '3x3 same stride 2', x: [2, 7, 9, 2], options: { poolSize: 3, strides: 2, padding: 'same' } },
    { name: '3x2 overlapping stride 1', x: [1, 6, 5, 2], options: { poolSize: [3, 2], strides: 1 } },
  ];
}

export function allChecks(): Check[] {
  const checks: Check[] = [];
  const add = (c: Check) => checks.push(c);

  // ---- elementwise ----------------------------------------------------------------------------
  for (const op of UNARY_OPS) {
    add({
      name: `unary ${op}`,
      tol: EXACT_UNARY.has(op) ? EXACT : op === 'square' ? MAP : op === 'sin' || op === 'cos' ? TRIG : TRANSCENDENTAL,
      inputs: () => [UNARY_INPUTS[op]?.() ?? uniform([7, 13], -6, 6, 19)],
      run: (x) => T.unary(op, x), tiled: op === 'tanh',
    });
  }
  add({ name: 'unary tanh/sigmoid/softplus at ±80 (no overflow)', tol: TRANSCENDENTAL,
    inputs: () => [T.tensor([-80, -30, -1e-3, 0, 1e-3, 30, 80])],
    run: (x) => T.stack([T.tanh(x), T.sigmoid(x), T.softplus(x)]) });
  add({ name: 'unary on a transposed view', tol: MAP, inputs: () => [randn([5, 8], 20)], run: (x) => x.T.square(), tiled: true });
  for (const op of BINARY_OPS) {
    const comparison = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'].includes(op);
    add({
      name: `binary ${op} broadcast [4,1,6] with [5,1]`,
      // + − × and comparisons are exact in float32; ÷ and pow round once more; pow uses exp/log in GLSL
      tol: comparison || op === 'maximum' || op === 'minimum' || op === 'reluGrad' ? EXACT : op === 'pow' ? TRANSCENDENTAL : MAP,
      inputs: () => op === 'pow'
        ? [uniform([4, 1, 6], 0.1, 3, 21), grid([5, 1], 22)]
        : comparison ? [grid([4, 1, 6], 23), grid([5, 1], 24)] : [randn([4, 1, 6], 25), op === 'div' ? uniform([5, 1], 0.5, 2, 26) : randn([5, 1], 27)],
      run: (a, b) => T.binary(op, a, b), tiled: op === 'add' || op === 'ge',
    });
  }
  add({ name: 'binary pow: negative base, integer exponents', tol: TRANSCENDENTAL,
    inputs: () => [T.tensor([-2, -1.5, -3, 0, 2, -2]), T.tensor([3, 2, 0, 0, -1, -2])], run: (a, b) => a.pow(b) });
  add({ name: 'binary add: transposed view + scalar number', tol: MAP, inputs: () => [randn([6, 5], 28)], run: (a) => a.T.add(2.5) });
  add({ name: 'binary mul: sliced view * broadcast row', tol: MAP, inputs: () => [randn([6, 8], 29), randn([3], 30)],
    run: (a, b) => a.slice([[1, 5], [2, 5]]).mul(b), tiled: true });
  add({ name: 'binary sub: reversed (negative-stride) view', tol: MAP, inputs: () => [randn([7, 4], 39)],
    run: (a) => a.slice([[null, null, -1], [null, null, -2]]).sub(a.slice([[0, 7], [0, 2]])) });
  add({ name: 'mulAdd x [4,5,6] · s [6] + t [6] (BatchNorm at inference)', tol: MAP, inputs: () => [randn([4, 5, 6], 33), randn([6], 34), randn([6], 35)],
    run: (x, s, t) => T.mulAdd(x, s, t) });
  add({ name: 'mulAdd x [5,1] · s [4,1,6] + t [6] (a general broadcast)', tol: MAP, inputs: () => [randn([5, 1], 36), randn([4, 1, 6], 37), randn([6], 38)],
    run: (x, s, t) => T.mulAdd(x, s, t) });
  add({ name: 'where cond [4,5,1] ? a [5,6] : 0', tol: EXACT, inputs: () => [randn([4, 5, 1], 31), randn([5, 6], 32)],
    run: (c, a) => T.where(c.gt(0), a, 0), tiled: true });
  add({ name: 'copy of a permuted view', tol: EXACT, inputs: () => [randn([3, 4, 5], 33)], run: (x) => x.transpose([2, 0, 1]).contiguous(), tiled: true });
  add({ name: 'copy float32 → int32 truncates toward zero', tol: EXACT, inputs: () => [randn([5, 7], 34)], run: (x) => x.mul(10).astype('int32') });
  add({ name: 'int32 arithmetic stays int32', tol: EXACT, inputs: () => [T.randint([4, 6], -50, 50, { seed: 35 }), T.randint([6], -9, 9, { seed: 36 })],
    run: (a, b) => a.mul(b).sub(a.abs()).add(3) });
  add({ name: 'float64 runs on the host, exactly', tol: EXACT, inputs: () => [randn([4, 5], 37).astype('float64'), randn([5, 3], 38).astype('float64')],
    run: (a, b) => a.matmul(b).tanh().sum(0) });

  // ---- reductions -----------------------------------------------------------------------------
  const reduceOps: ReduceOp[] = ['sum', 'mean', 'max', 'min', 'prod'];
  for (const op of reduceOps) {
    for (const axes of [undefined, [0], [1], [0, 2], [2]] as (number[] | undefined)[]) {
      add({
        name: `reduce ${op} of [6,7,5] over ${axes ? `[${axes}]` : 'all'}`,
        tol: op === 'max' || op === 'min' ? EXACT : SUMS,
        inputs: () => [op === 'prod' ? randn([6, 7, 5], 40).mul(0.05).add(1) : randn([6, 7, 5], 41)],
        run: (x) => T[op](x, axes), tiled: op === 'sum' && axes?.length === 2,
      });
    }
  }
  add({ name: 'reduce sum of a long axis (3 levels): [3, 20000] over 1', tol: { atol: 1e-3, rtol: 1e-4 },
    inputs: () => [randn([3, 20000], 42)], run: (x) => x.sum(1) });
  add({ name: 'reduce mean over axis 0 of [300, 20] (levels with inner > 1)', tol: SUMS, inputs: () => [randn([300, 20], 43)], run: (x) => x.mean(0) });
  add({ name: 'reduce mean over axis 0 of [300, 2] (2 levels, inner > 1)', tol: SUMS, inputs: () => [randn([300, 2], 49)], run: (x) => x.mean(0), tiled: true });
  add({ name: 'reduce max over axis 0 of a transposed view', tol: EXACT, inputs: () => [randn([9, 4], 44)], run: (x) => x.T.max(0) });
  for (const op of ['argmax', 'argmin'] as const) {
    for (const axis of [0, 1, 2]) {
      add({ name: `${op} of [6,7,5] over ${axis}, with ties (first wins)`, tol: EXACT, inputs: () => [grid([6, 7, 5], 45)],
        run: (x) => T[op](x, axis), tiled: axis === 1 });
    }
  }
  add({ name: 'argmax of everything', tol: EXACT, inputs: () => [randn([5, 9], 46)], run: (x) => x.argmax() });
  for (const correction of [0, 1]) {
    add({ name: `variance over [0,1] of [8,6,3] (correction ${correction})`, tol: SUMS, inputs: () => [randn([8, 6, 3], 47).add(100)],
      run: (x) => x.variance([0, 1], false, correction), tiled: correction === 0 });
  }
  add({ name: 'logSumExp over the last axis (composite of max, exp, sum, log)', tol: TRANSCENDENTAL,
    inputs: () => [randn([4, 10], 48).mul(20)], run: (x) => T.logSumExp(x, -1) });

  // ---- matmul ---------------------------------------------------------------------------------
  const mm = (name: string, a: number[], b: number[], f: (a: Tensor, b: Tensor) => Tensor = (p, q) => p.matmul(q), tiled = false) =>
    add({ name: `matmul ${name}`, tol: SUMS, float: true, inputs: () => [randn(a, 50), randn(b, 51)], run: f, tiled });
  mm('[17,33] @ [33,9]', [17, 33], [33, 9], undefined, true);
  mm('[64,128] @ [128,48]', [64, 128], [128, 48]);
  // more than one 128×128 block of C each way, and a k that is not a multiple of 8 (webgpu's WGSL kernel)
  mm('[150,45] @ [45,260]', [150, 45], [45, 260]);
  mm('batched [3,17,33] @ [3,33,9]', [3, 17, 33], [3, 33, 9]);
  mm('batched [2,9,11] @ [2,11,7]', [2, 9, 11], [2, 11, 7], undefined, true);
  mm('broadcast batch [2,1,5,7] @ [3,7,4]', [2, 1, 5, 7], [3, 7, 4]);
  mm('transposed views Aᵀ @ Bᵀ', [13, 6], [5, 13], (a, b) => a.T.matmul(b.T), true);
  mm('vector @ matrix, matrix @ vector', [6], [6, 4], (v, m) => T.concat([v.matmul(m), m.T.matmul(v)]));
  mm('K = 1 (outer product)', [5, 1], [1, 7]);
  mm('sliced operand', [10, 12], [8, 5], (a, b) => a.slice([[2, 9], [0, 8]]).matmul(b));

  // ---- convolution ----------------------------------------------------------------------------
  for (const c of convCases()) {
    const tiled = c.name === '3x3 same stride 2';
    const info = T.conv2dInfo('check', c.x, c.w, c.options);
    const dyShape = [info.batch, info.outHeight, info.outWidth, info.outChannels];
    add({ name: `conv2d ${c.name}`, tol: SUMS, float: true, inputs: () => [randn(c.x, 60), randn(c.w, 61)], run: (x, w) => T.conv2d(x, w, c.options), tiled });
    add({ name: `conv2dBackpropInput ${c.name}`, tol: SUMS, float: true, inputs: () => [randn(dyShape, 62), randn(c.w, 63)],
      run: (dy, w) => T.conv2dBackpropInput(dy, w, c.x, c.options), tiled });
    add({ name: `conv2dBackpropFilter ${c.name}`, tol: SUMS, float: true, inputs: () => [randn(c.x, 64), randn(dyShape, 65)],
      run: (x, dy) => T.conv2dBackpropFilter(x, dy, c.w, c.options), tiled });
  }
  add({ name: 'conv2d of a permuted (NCHW → NHWC) view', tol: SUMS, inputs: () => [randn([2, 3, 6, 5], 66), randn([3, 3, 3, 2], 67)],
    run: (x, w) => T.conv2d(x.transpose([0, 2, 3, 1]), w) });

  // ---- pooling --------------------------------------------------------------------------------
  for (const p of poolCases()) {
    const tiled = p.name === '3x3 same stride 2';
    const info = T.pool2dInfo('check', p.x, p.options);
    const dyShape = [info.batch, info.outHeight, info.outWidth, info.outChannels];
    add({ name: `maxPool2d ${p.name} (ties)`, tol: EXACT, inputs: () => [grid(p.x, 70)], run: (x) => T.maxPool2d(x, p.options), tiled });
    add({ name: `maxPool2dBackward ${p.name} (ties go to the first)`, tol: MAP, inputs: () => [randn(dyShape, 71), grid(p.x, 72)],
      run: (dy, x) => T.maxPool2dBackward(dy, x, p.options), tiled });
    add({ name: `avgPool2d ${p.name}`, tol: MAP, inputs: () => [randn(p.x, 73)], run: (x) => T.avgPool2d(x, p.options), tiled });
    add({ name: `avgPool2dBackward ${p.name}`, tol: MAP, inputs: () => [randn(dyShape, 74)], run: (dy) => T.avgPool2dBackward(dy, p.x, p.options), tiled });
  }

  // ---- moving values: concat, stack, pad, gather, scatterAdd, oneHot ----------------------------------
  const ids = () => T.tensor([[4, 0, 1], [2, 2, 3]], { dtype: 'int32' });
  add({ name: 'move: concat axis 1 of a float and a transposed view', tol: EXACT, inputs: () => [randn([6, 2, 7], 80), randn([7, 5, 6], 81)],
    run: (a, b) => T.concat([a, b.transpose([2, 1, 0])], 1), tiled: true });
  add({ name: 'move: concat of int32 and float32 promotes', tol: EXACT, inputs: () => [grid([3, 4], 82).astype('int32'), randn([2, 4], 83)],
    run: (a, b) => T.concat([a, b], 0) });
  add({ name: 'move: stack of 40 slices (joined in groups: a shader reads few textures)', tol: EXACT, inputs: () => [randn([40, 3, 5], 84)],
    run: (x) => T.stack(Array.from({ length: 40 }, (_, i) => x.slice([i])), 1), tiled: true });
  add({ name: 'move: pad [[1,2],[0,3]] with -1.5', tol: EXACT, inputs: () => [randn([9, 8], 85)], run: (x) => T.pad(x, [[1, 2], [0, 3]], -1.5), tiled: true });
  add({ name: 'move: pad of a transposed int32 view', tol: EXACT, inputs: () => [grid([3, 4, 2], 86).astype('int32')],
    run: (x) => T.pad(x.transpose([2, 0, 1]), [[0, 1], [2, 0], [1, 1]]) });
  add({ name: 'move: gather axis 1 with [2,3] indices', tol: EXACT, inputs: () => [randn([3, 5, 4], 87), ids()],
    run: (x, i) => T.gather(x, i, 1), tiled: true });
  add({ name: 'move: indexSelect rows of a transposed view', tol: EXACT, inputs: () => [randn([6, 7], 88), T.tensor([6, 0, 6, 2], { dtype: 'int32' })],
    run: (x, i) => T.indexSelect(x.T, 0, i) });
  add({ name: 'move: scatterAdd axis 1, a repeated index accumulates', tol: MAP, inputs: () => [randn([3, 2, 3, 4], 89), ids()],
    run: (u, i) => T.scatterAdd([3, 5, 4], i, u, 1), tiled: true });
  add({ name: 'move: oneHot float32 and int32', tol: EXACT, inputs: () => [ids()],
    run: (i) => T.concat([T.oneHot(i, 6), T.oneHot(i, 6, 'int32').astype('float32')], -1) });

  // ---- fused kernels: normalisation, losses, the LSTM, optimizer updates ---------------------------------
  const eps = 1e-3;
  const rowMask = () => T.tensor([1, 1, 0, 1, 0, 1, 1, 1]);
  const bnInputs = () => [randn([8, 5], 100).mul(3).add(2), uniform([5], 0.5, 2, 101), randn([5], 102), randn([8, 5], 103)];
  for (const masked of [false, true]) {
    const mask = () => (masked ? rowMask() : null);
    add({ name: `fused: batchNormForward${masked ? ' with a row mask' : ''}`, tol: FUSED, float: true, inputs: bnInputs, tiled: masked,
      run: (x, g, b) => { const o = T.batchNormForward(x, g, b, eps, mask()); return flat(o.y, o.xHat, o.mean, o.variance, o.invstd); } });
    add({ name: `fused: batchNormBackward${masked ? ' with a row mask' : ''}`, tol: FUSED, float: true, inputs: bnInputs,
      run: (x, g, b, dy) => {
        const o = T.batchNormForward(x, g, b, eps, mask());
        const d = T.batchNormBackward(dy, o.xHat, o.invstd, g, mask());
        return flat(d.dx, d.dGamma, d.dBeta);
      } });
  }
  for (const [name, shape, groups] of [['GroupNorm [2,3,3,8] in 4 groups', [2, 3, 3, 8], 4], ['LayerNorm: GroupNorm of [6,8] in 1 group', [6, 8], 1]] as const) {
    const C = shape[shape.length - 1];
    const inputs = () => [randn([...shape], 104).mul(2).add(1), uniform([C], 0.5, 2, 105), randn([C], 106), randn([...shape], 107)];
    add({ name: `fused: groupNormForward, ${name}`, tol: FUSED, float: true, inputs, tiled: groups === 4,
      run: (x, g, b) => { const o = T.groupNormForward(x, g, b, groups, eps); return flat(o.y, o.xHat, o.invstd); } });
    add({ name: `fused: groupNormBackward, ${name}`, tol: FUSED, float: true, inputs,
      run: (x, g, b, dy) => {
        const o = T.groupNormForward(x, g, b, groups, eps);
        const d = T.groupNormBackward(dy, o.xHat, o.invstd, g, groups);
        return flat(d.dx, d.dGamma, d.dBeta);
      } });
  }
  add({ name: 'fused: softmaxCrossEntropy, logits up to ±60', tol: TRANSCENDENTAL, float: true, tiled: true,
    inputs: () => [randn([5, 7], 108).mul(20), T.tensor([0, 6, 3, 3, 1], { dtype: 'int32' })],
    run: (z, y) => { const o = T.softmaxCrossEntropy(z, y); return flat(o.loss, o.softmax); } });
  add({ name: 'fused: sigmoidCrossEntropy, logits up to ±40', tol: TRANSCENDENTAL, float: true,
    inputs: () => [randn([4, 6], 109).mul(15), uniform([4, 6], 0, 1, 110)],
    run: (z, t) => { const o = T.sigmoidCrossEntropy(z, t); return flat(o.loss, o.sigmoid); } });
  const [B, Tn, u] = [3, 5, 2];
  for (const activation of ['sigmoid', 'hardSigmoid'] as const) {
    // z up to about ±6: hardSigmoid's gates are clipped (0 or 1) in some places and on its line in others
    add({ name: `fused: lstmCellForward and lstmCellBackward, ${activation}`, tol: FUSED, float: true, tiled: true,
      inputs: () => [randn([B, 4 * u], 111).mul(2), randn([B, u], 112), randn([B, u], 113), randn([B, u], 114)],
      run: (z, c, dh, dc) => {
        const o = T.lstmCellForward(z, c, activation);
        const d = T.lstmCellBackward(dh, dc, o.gates, o.tanhC, c, activation);
        return flat(o.h, o.c, o.gates, o.tanhC, d.dz, d.dcPrev);
      } });
  }
  const lengths = () => T.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]], { dtype: 'int32' });
  const sequences: [string, Omit<T.LstmSequenceOptions, 'mask'>, boolean][] = [
    ['last output', { goBackwards: false, returnSequences: false, returnState: false, timeAligned: false, zeroOutputForMask: false }, false],
    ['masked, goBackwards, every output, states', { goBackwards: true, returnSequences: true, returnState: true, timeAligned: false, zeroOutputForMask: false }, true],
    ['masked, time-aligned, zeros at padding (Bidirectional)', { goBackwards: true, returnSequences: true, returnState: false, timeAligned: true, zeroOutputForMask: true }, true],
    ['masked, states, hardSigmoid gates', { goBackwards: false, returnSequences: true, returnState: true, timeAligned: false, zeroOutputForMask: false, recurrentActivation: 'hardSigmoid' }, true],
  ];
  for (const [name, options, masked] of sequences) {
    add({ name: `fused: lstmSequenceForward and lstmSequenceBackward, ${name}`, tol: FUSED, float: true, tiled: masked,
      inputs: () => [randn([B, Tn, 4 * u], 115), randn([u, 4 * u], 116).mul(0.5), randn([4 * u], 117).mul(0.1)],
      run: (xw, U, b) => {
        const o = T.lstmSequenceForward(xw, U, b, { ...options, mask: masked ? lengths() : null });
        const dy = T.randn(o.output.shape, { seed: 118 }).astype(xw.dtype);
        const d = T.lstmSequenceBackward(dy, o.saved, U, { ...options, mask: masked ? lengths() : null });
        // the saved state is between a backend's forward and its own backward (padded steps' gates are unspecified)
        return flat(o.output, d.dxw, d.dU, d.dBias);
      } });
  }
  const params = () => [randn([4, 3], 120), randn([4, 3], 121), randn([4, 3], 122).mul(0.1), uniform([4, 3], 0, 0.5, 123), randn([4, 3], 124).mul(0.1)];
  add({ name: 'fused: sgdUpdate plain, momentum, nesterov', tol: MAP, float: true, inputs: params,
    run: (w, g, v) => flat(T.sgdUpdate(w, g, null, { lr: 0.1, momentum: 0, nesterov: false }).w,
      ...Object.values(T.sgdUpdate(w, g, v, { lr: 0.1, momentum: 0.9, nesterov: false })),
      ...Object.values(T.sgdUpdate(w, g, v, { lr: 0.1, momentum: 0.9, nesterov: true }))) });
  add({ name: 'fused: adamUpdate at steps 1 and 7', tol: MAP, float: true, tiled: true, inputs: params,
    run: (w, g, m, v) => flat(...Object.values(T.adamUpdate(w, g, m, v, { lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step: 1 })),
      ...Object.values(T.adamUpdate(w, g, m, v, { lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step: 7 }))) });
  add({ name: 'fused: rmspropUpdate plain, centered with momentum', tol: MAP, float: true, inputs: params,
    run: (w, g, m, s, a) => flat(...Object.values(T.rmspropUpdate(w, g, s, null, null, { lr: 0.01, rho: 0.9, momentum: 0, epsilon: 1e-7 })),
      ...Object.values(T.rmspropUpdate(w, g, s, a, m, { lr: 0.01, rho: 0.9, momentum: 0.5, epsilon: 1e-7 }))) });
  return checks;
}

/**
 * Run one check on the CPU and on `backend`; compare. Leaves the CPU backend active. With
 * `reference: 'float64'` the expected values come from the CPU backend with every float32 input cast
 * to float64 (the other code path of each CPU kernel: the JavaScript gemm instead of WebAssembly's,
 * float64 arithmetic throughout), which is how the cpu backend is held to the suite itself.
 */
export function runCheck(check: Check, backend: string, reference: 'cpu' | 'float64' = 'cpu'): CheckResult {
  const { expected, actual } = runOnBoth(check, backend, reference);
  return describeMismatch(check, backend, expected, actual) ?? compareValues(check, expected.dataSync(), actual.dataSync());
}

/**
 * runCheck for a backend under GPU.js's asynchronous contract (webgpu, webasm-async), whose results
 * are pending when the op returns: the values are awaited instead of read synchronously.
 */
export async function runCheckAsync(check: Check, backend: string): Promise<CheckResult> {
  const { expected, actual } = runOnBoth(check, backend, 'cpu');
  return describeMismatch(check, backend, expected, actual) ?? compareValues(check, expected.dataSync(), await actual.data());
}

function runOnBoth(check: Check, backend: string, reference: 'cpu' | 'float64'): { expected: Tensor; actual: Tensor } {
  const inputs = check.inputs();
  T.setBackend('cpu');
  const expected = reference === 'cpu' ? check.run(...inputs)
    : check.run(...inputs.map((x) => (x.dtype === 'float32' ? x.astype('float64') : x))).astype('float32');
  T.setBackend(backend);
  try {
    return { expected, actual: check.run(...inputs.map((x) => x.contiguousOn(backend))) };
  } finally {
    T.setBackend('cpu');
  }
}

const failure = (check: Check, detail: string): CheckResult => ({ name: check.name, ok: false, maxError: Infinity, tol: check.tol, detail });

/** Where the result is, its shape or its dtype is wrong: the failure; else null. */
function describeMismatch(check: Check, backend: string, expected: Tensor, actual: Tensor): CheckResult | null {
  if (actual.backend !== backend && expected.dtype !== 'float64') return failure(check, `result lives on '${actual.backend}', not '${backend}'`);
  if (!T.shapesEqual(actual.shape, expected.shape)) return failure(check, `shape ${T.formatShape(actual.shape)} vs ${T.formatShape(expected.shape)}`);
  if (actual.dtype !== expected.dtype) return failure(check, `dtype ${actual.dtype} vs ${expected.dtype}`);
  return null;
}

/** Element by element: |a − e| ≤ atol + rtol·|e| (NaN must meet NaN). */
function compareValues(check: Check, e: ArrayLike<number>, a: ArrayLike<number>): CheckResult {
  let maxError = 0, worst = -1;
  for (let i = 0; i < e.length; i++) {
    if (Number.isNaN(e[i]) && Number.isNaN(a[i])) continue;
    const err = Math.abs(a[i] - e[i]);
    const excess = err - (check.tol.atol + check.tol.rtol * Math.abs(e[i]));
    if (!(err <= maxError) || Number.isNaN(err)) maxError = Number.isNaN(err) ? Infinity : err;
    if (!(excess <= 0) && worst < 0) worst = i;
  }
  const ok = worst < 0;
  return { name: check.name, ok, maxError, tol: check.tol, detail: ok ? '' : `element ${worst}: gpu ${a[worst]} vs cpu ${e[worst]}` };
}
