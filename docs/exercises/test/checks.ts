/**
 * One check per exercise. Each takes an implementation (a solution module, a stub, or a learner's
 * exercise.ts) and throws if it is wrong. Every check has two halves:
 *   - against gradlab's reference: the same quantity from gradlab's own op (autograd's backward of the
 *     fused or composite op, the conv kernel, optimizers.Adam), compared element by element;
 *   - a gradient check: the implementation's backward is wrapped into an autograd op (defineOp) and held
 *     against central differences of its forward (checkGradients) — the definition of the derivative.
 * Inputs are float64 (finite differences need its digits) and seeded, so a failure repeats.
 */
import { F, Variable, concat, conv2d, conv2dInfo, defineOp, formatShape, noGrad, optimizers, randn, tensor, toDot } from 'gradlab';
import type { Conv2DOptions, Tensor } from 'gradlab';
import { assertClose, assertGradcheck, referenceGrads } from './assert';
import type * as S01 from '../01-sum-to-shape/solution';
import type * as S02 from '../02-matmul-backward/solution';
import type * as S03 from '../03-softmax-backward/solution';
import type * as S04 from '../04-batchnorm-composite/solution';
import type * as S05 from '../05-batchnorm-closed-form/solution';
import type * as S06 from '../06-batchnorm-masked/solution';
import type * as S07 from '../07-lstm-cell-backward/solution';
import type * as S08 from '../08-im2col-col2im/solution';
import type * as S09 from '../09-adam/solution';

const rand = (shape: number[], seed: number, scale = 1): Tensor => randn(shape, { seed, dtype: 'float64' }).mul(scale);
const EPS = 1e-3; // Keras's BatchNormalization epsilon

export function check01(impl: typeof S01): void {
  const cases: [number[], number[]][] = [[[3, 4], [4]], [[3, 4], [3, 1]], [[2, 3, 4], [3, 1]], [[2, 3, 4], [1]], [[5, 1, 4], [1, 4]], [[2, 3], [2, 3]]];
  cases.forEach(([from, to], k) => {
    const grad = rand(from, k);
    assertClose(`exercise 01: sumToShape(${formatShape(from)} → ${formatShape(to)})`, impl.sumToShape(grad, to), F.sumToShape(grad, to));
  });
  let refused = false;
  try { impl.sumToShape(rand([2, 3], 9), [4]); } catch { refused = true; }
  if (!refused) throw new Error('exercise 01: sumToShape([2,3] → [4]) should throw: [2,3] is not a broadcast of [4]');
  const add = defineOp('exercise01Add', {
    forward: (ctx, [a, b]) => a.add(b),
    backward: (ctx, dy) => [impl.sumToShape(dy, ctx.inputShapes[0]), impl.sumToShape(dy, ctx.inputShapes[1])],
  });
  assertGradcheck('exercise 01: a + b with b broadcast, your sumToShape in its backward', (a, b) => add([a, b], undefined), [rand([2, 3, 4], 1), rand([3, 1], 2)]);
}

export function check02(impl: typeof S02): void {
  const a = rand([3, 5], 1), b = rand([5, 4], 2), dy = rand([3, 4], 3);
  const [da, db] = referenceGrads((x, y) => F.matmul(x, y), [a, b], dy);
  const mine = impl.matmulBackward(a, b, dy);
  assertClose('exercise 02: ∂L/∂A', mine.da, da);
  assertClose('exercise 02: ∂L/∂B', mine.db, db);
  const matmul = defineOp('exercise02Matmul', {
    forward: (ctx, [x, y]) => { ctx.save(x, y); return x.matmul(y); },
    backward: (ctx, g) => { const r = impl.matmulBackward(ctx.saved[0], ctx.saved[1], g); return [r.da, r.db]; },
  });
  assertGradcheck('exercise 02: matmul with your backward', (x, y) => matmul([x, y], undefined), [a, b]);
}

export function check03(impl: typeof S03): void {
  const x = rand([4, 6], 1, 3), dy = rand([4, 6], 2);
  const y = noGrad(() => F.softmax(new Variable(x), -1).data);
  const [dx] = referenceGrads((v) => F.softmax(v, -1), [x], dy);
  assertClose('exercise 03: ∂L/∂x', impl.softmaxBackward(y, dy), dx);
  const softmax = defineOp('exercise03Softmax', {
    forward: (ctx, [v]) => { const e = v.sub(v.max(-1, true)).exp(); const s = e.div(e.sum(-1, true)); ctx.save(s); return s; },
    backward: (ctx, g) => [impl.softmaxBackward(ctx.saved[0], g)],
  });
  assertGradcheck('exercise 03: softmax with your backward', (v) => softmax([v], undefined), [x]);
}

/** x with a mean and a spread per feature that are not 0 and 1, so normalising has work to do. */
const bnInputs = (): Tensor[] => [rand([6, 5], 1, 2).add(tensor([1, -2, 0.5, 3, 0], { dtype: 'float64' })), rand([5], 2).add(1), rand([5], 3)];

export function check04(impl: typeof S04): void {
  const [x, gamma, beta] = bnInputs();
  const dy = rand([6, 5], 4);
  const yours = (a: Variable, g: Variable, b: Variable): Variable => impl.batchNorm(a, g, b, EPS);
  const fused = (a: Variable, g: Variable, b: Variable): Variable => F.batchNorm(a, g, b, EPS).y;
  const y = yours(...([x, gamma, beta].map((t) => new Variable(t, { requiresGrad: true })) as [Variable, Variable, Variable]));
  if (/label="batchNorm/.test(toDot(y))) throw new Error('exercise 04: your graph calls the fused F.batchNorm; build it from mean, sub, square, sqrt, div, mul and add');
  assertClose('exercise 04: y', y.data, noGrad(() => fused(new Variable(x), new Variable(gamma), new Variable(beta)).data));
  const ref = referenceGrads(fused, [x, gamma, beta], dy);
  referenceGrads(yours, [x, gamma, beta], dy).forEach((g, i) => assertClose(`exercise 04: ∂L/∂${['x', 'γ', 'β'][i]} through your graph`, g, ref[i]));
  assertGradcheck('exercise 04: your composite BatchNorm', yours, [x, gamma, beta]);
}

/** BatchNorm with a closed-form backward of the learner's, as an autograd op (mask optional). */
function batchNormWith(backward: (x: Tensor, gamma: Tensor, dy: Tensor) => { dx: Tensor; dgamma: Tensor; dbeta: Tensor }, mask: Tensor | null) {
  const op = defineOp('exerciseBatchNorm', {
    forward: (ctx, [x, gamma, beta]) => {
      ctx.save(x, gamma);
      return noGrad(() => F.batchNorm(new Variable(x), new Variable(gamma), new Variable(beta), EPS, mask).y.data);
    },
    backward: (ctx, dy) => { const r = backward(ctx.saved[0], ctx.saved[1], dy); return [r.dx, r.dgamma, r.dbeta]; },
  });
  return (x: Variable, gamma: Variable, beta: Variable): Variable => op([x, gamma, beta], undefined);
}

export function check05(impl: typeof S05): void {
  const [x, gamma, beta] = bnInputs();
  const dy = rand([6, 5], 4);
  const [dx, dgamma, dbeta] = referenceGrads((a, g, b) => F.batchNorm(a, g, b, EPS).y, [x, gamma, beta], dy);
  const mine = impl.batchNormBackward(x, gamma, dy, EPS);
  assertClose('exercise 05: dx', mine.dx, dx);
  assertClose('exercise 05: dgamma', mine.dgamma, dgamma);
  assertClose('exercise 05: dbeta', mine.dbeta, dbeta);
  assertGradcheck('exercise 05: BatchNorm with your backward', batchNormWith((a, g, d) => impl.batchNormBackward(a, g, d, EPS), null), [x, gamma, beta]);
}

export function check06(impl: typeof S06): void {
  const [x, gamma, beta] = bnInputs();
  const dy = rand([6, 5], 4);
  const mask = tensor([1, 1, 0, 1, 0, 1], { dtype: 'float64' });
  const [dx, dgamma, dbeta] = referenceGrads((a, g, b) => F.batchNorm(a, g, b, EPS, mask).y, [x, gamma, beta], dy);
  const mine = impl.batchNormMaskedBackward(x, gamma, dy, mask, EPS);
  assertClose('exercise 06: dx', mine.dx, dx);
  assertClose('exercise 06: dgamma', mine.dgamma, dgamma);
  assertClose('exercise 06: dbeta', mine.dbeta, dbeta);
  assertGradcheck('exercise 06: masked BatchNorm with your backward', batchNormWith((a, g, d) => impl.batchNormMaskedBackward(a, g, d, mask, EPS), mask), [x, gamma, beta]);
}

export function check07(impl: typeof S07): void {
  const B = 3, u = 4;
  const inputs = [rand([B, 4 * u], 1), rand([B, u], 2, 0.5), rand([B, u], 3), rand([u, 4 * u], 4, 0.5)];
  const dh = rand([B, u], 5), dc = rand([B, u], 6);
  const vars = inputs.map((t) => new Variable(t, { requiresGrad: true }));
  const { h, c } = F.lstmCellComposite(vars[0], vars[1], vars[2], vars[3]);
  h.mul(dh).sum().add(c.mul(dc).sum()).backward(); // dh and dc as the upstream gradients of h and c
  const mine = impl.lstmCellBackward(inputs[0], inputs[1], inputs[2], inputs[3], dh, dc);
  (['dxz', 'dhPrev', 'dcPrev', 'dU'] as const).forEach((name, i) => assertClose(`exercise 07: ${name}`, mine[name], vars[i].grad!));
  // one op whose output is [h | c], so that the gradient check sees both outputs
  const cell = defineOp('exercise07LstmCell', {
    forward: (ctx, ts) => {
      ctx.save(...ts);
      return noGrad(() => { const r = F.lstmCellComposite(...(ts.map((t) => new Variable(t)) as [Variable, Variable, Variable, Variable])); return concat([r.h.data, r.c.data], 1); });
    },
    backward: (ctx, g) => {
      const [xz, hPrev, cPrev, U] = ctx.saved;
      const r = impl.lstmCellBackward(xz, hPrev, cPrev, U, g.slice([null, [0, u]]), g.slice([null, [u, 2 * u]]));
      return [r.dxz, r.dhPrev, r.dcPrev, r.dU];
    },
  });
  assertGradcheck('exercise 07: an LSTM step with your backward', (...v) => cell(v, undefined), inputs);
}

export function check08(impl: typeof S08): void {
  const cases: { x: number[]; k: number[]; options: Conv2DOptions }[] = [
    { x: [2, 5, 6, 3], k: [3, 3, 3, 4], options: {} },
    { x: [1, 7, 7, 2], k: [3, 2, 2, 3], options: { strides: 2, padding: 'same' } },
    { x: [2, 4, 5, 1], k: [2, 2, 1, 2], options: { padding: 'same' } },
  ];
  cases.forEach(({ x: xShape, k: kShape, options }, n) => {
    const x = rand(xShape, 10 * n), kernel = rand(kShape, 10 * n + 1);
    const info = conv2dInfo('conv2d', xShape, kShape, options);
    const what = `exercise 08 (x ${formatShape(xShape)}, kernel ${formatShape(kShape)}, ${JSON.stringify(options)})`;
    const W = kernel.reshape([-1, kShape[3]]);
    const outShape = [info.batch, info.outHeight, info.outWidth, info.outChannels];
    const convolve = (cols: Tensor): Tensor => cols.matmul(W).reshape(outShape);
    assertClose(`${what}: im2col(x)·W against gradlab's conv2d`, convolve(impl.im2col(x, info)), conv2d(x, kernel, options));
    // col2im is im2col's adjoint: ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩ for every x and c
    const c = rand([info.batch * info.outHeight * info.outWidth, W.shape[0]], 10 * n + 2);
    const lhs = impl.im2col(x, info).mul(c).sum().item(), rhs = x.mul(impl.col2im(c, info)).sum().item();
    if (Math.abs(lhs - rhs) > 1e-9 * Math.max(1, Math.abs(lhs))) throw new Error(`${what}: ⟨im2col(x), c⟩ = ${lhs} but ⟨x, col2im(c)⟩ = ${rhs}: col2im is not im2col's adjoint`);
    const dy = rand(outShape, 10 * n + 3);
    const [dx] = referenceGrads((v) => F.conv2d(v, kernel, options), [x], dy);
    assertClose(`${what}: col2im(dy·Wᵀ) against autograd's ∂L/∂x`, impl.col2im(dy.reshape([-1, kShape[3]]).matmul(W.T), info), dx);
    const conv = defineOp('exercise08Conv', {
      forward: (ctx, [v, k]) => { ctx.save(v, k); return impl.im2col(v, info).matmul(k.reshape([-1, kShape[3]])).reshape(outShape); },
      backward: (ctx, g) => {
        const [v, k] = ctx.saved;
        const g2 = g.reshape([-1, kShape[3]]);
        return [impl.col2im(g2.matmul(k.reshape([-1, kShape[3]]).T), info), impl.im2col(v, info).T.matmul(g2).reshape(kShape)];
      },
    });
    assertGradcheck(`${what}: convolution through your im2col and col2im`, (v, k) => conv([v, k], undefined), [x, kernel]);
  });
}

export function check09(impl: typeof S09): void {
  const hyper = { lr: 0.05, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
  const w0 = rand([3, 4], 1);
  const param = new Variable(w0.clone(), { requiresGrad: true });
  const adam = new optimizers.Adam([param], hyper);
  let w = w0, m = w0.mul(0), v = w0.mul(0);
  for (let t = 1; t <= 5; t++) {
    const g = rand([3, 4], 10 + t);
    adam.zeroGrad();
    param.mul(g).sum().backward(); // ∂/∂w Σ w⊙g = g: gradlab's Adam gets the same gradient
    adam.step();
    const before = w.clone();
    const next = impl.adamStep(w, g, m, v, t, hyper);
    assertClose(`exercise 09: the arguments after step ${t} (adamStep must not change them)`, w, before, 0, 0);
    assertClose(`exercise 09: w after step ${t} against optimizers.Adam`, next.w, param.data, 1e-12, 1e-9);
    ({ w, m, v } = next);
  }
}
