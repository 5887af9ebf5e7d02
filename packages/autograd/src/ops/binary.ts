/**
 * Binary ops with NumPy broadcasting:  y = f(a, b).
 *
 * Broadcasting reuses an element: adding a bias b of shape [F] to h of shape [N, F] reads every b[j]
 * N times. By the multivariable chain rule, a value used in several places gets the SUM of the
 * gradients from every place it went, so each backward computes the gradient at the broadcast shape
 * [N, F] and then `sumToShape` folds it back to the input's own shape [F].
 */
import { Tensor, formatShape, mulAdd as mulAddTensor, shapesEqual, where } from '@gradlab/tensor';
import { defineOp } from '../engine.js';
import type { Variable } from '../variable.js';
import { binaryOp, lift, liftPair } from './operand.js';
import type { Operand } from './operand.js';

/**
 * Undo a broadcast: sum `grad` (shaped like the broadcast result) down to `shape`.
 *   axes that broadcasting put in front of `shape`  → summed away
 *   axes where `shape` has size 1 but grad does not → summed, kept with size 1
 * e.g. grad [N, F] to shape [F]: sum over axis 0;  grad [N, F] to [N, 1]: sum over axis 1.
 */
export function sumToShape(grad: Tensor, shape: readonly number[]): Tensor {
  if (shapesEqual(grad.shape, shape)) return grad;
  const lead = grad.rank - shape.length;
  const fail = () => new Error(`sumToShape: a gradient of shape ${formatShape(grad.shape)} is not a broadcast of ${formatShape(shape)}`);
  if (lead < 0) throw fail();
  const axes: number[] = [];
  for (let k = 0; k < grad.rank; k++) {
    const target = k < lead ? undefined : shape[k - lead];
    if (target === undefined || (target === 1 && grad.shape[k] !== 1)) axes.push(k);
    else if (target !== grad.shape[k]) throw fail();
  }
  return (axes.length > 0 ? grad.sum(axes, true) : grad).reshape(shape);
}

/** add:  y = a + b    ∂y/∂a = 1,  ∂y/∂b = 1 */
export const add = binaryOp('add', {
  forward: (ctx, [a, b]) => a.add(b),
  backward: (ctx, dy) => [
    ctx.needs(0) ? sumToShape(dy, ctx.inputShapes[0]) : null,
    ctx.needs(1) ? sumToShape(dy, ctx.inputShapes[1]) : null,
  ],
});

/** sub:  y = a − b    ∂y/∂a = 1,  ∂y/∂b = −1 */
export const sub = binaryOp('sub', {
  forward: (ctx, [a, b]) => a.sub(b),
  backward: (ctx, dy) => [
    ctx.needs(0) ? sumToShape(dy, ctx.inputShapes[0]) : null,
    ctx.needs(1) ? sumToShape(dy.neg(), ctx.inputShapes[1]) : null,
  ],
});

/** mul:  y = a · b    ∂y/∂a = b,  ∂y/∂b = a   (each input's gradient is dy times the OTHER input) */
export const mul = binaryOp('mul', {
  forward: (ctx, [a, b]) => { ctx.save(a, b); return a.mul(b); },
  backward: (ctx, dy) => {
    const [a, b] = ctx.saved;
    return [
      ctx.needs(0) ? sumToShape(dy.mul(b), ctx.inputShapes[0]) : null,
      ctx.needs(1) ? sumToShape(dy.mul(a), ctx.inputShapes[1]) : null,
    ];
  },
});

/** div:  y = a / b    ∂y/∂a = 1/b,  ∂y/∂b = −a/b² = −y/b   (reusing y saves a multiplication) */
export const div = binaryOp('div', {
  forward: (ctx, [a, b]) => { const y = a.div(b); ctx.save(b, y); return y; },
  backward: (ctx, dy) => {
    const [b, y] = ctx.saved;
    return [
      ctx.needs(0) ? sumToShape(dy.div(b), ctx.inputShapes[0]) : null,
      ctx.needs(1) ? sumToShape(dy.mul(y).div(b).neg(), ctx.inputShapes[1]) : null,
    ];
  },
});

/**
 * pow:  y = aᵇ    ∂y/∂a = b·aᵇ⁻¹,   ∂y/∂b = aᵇ·ln a = y·ln a
 * ln a only exists for a > 0; where a ≤ 0 the exponent's gradient is taken as 0 (aᵇ is then only
 * defined for integer b, where it does not vary smoothly with b). The usual case, x.pow(2) with a
 * constant exponent, never computes it: ctx.needs(1) is false.
 */
export const pow = binaryOp('pow', {
  forward: (ctx, [a, b]) => { const y = a.pow(b); ctx.save(a, b, y); return y; },
  backward: (ctx, dy) => {
    const [a, b, y] = ctx.saved;
    return [
      ctx.needs(0) ? sumToShape(dy.mul(b).mul(a.pow(b.sub(1))), ctx.inputShapes[0]) : null,
      ctx.needs(1) ? sumToShape(dy.mul(where(a.gt(0), y.mul(a.log()), 0)), ctx.inputShapes[1]) : null,
    ];
  },
});

/**
 * The share of dy that goes to `a` in maximum/minimum: 1 where a won, 0 where b won, and ½ on a tie
 * (the subgradient in the middle, as PyTorch does; both inputs then get half).
 */
function shareOfA(aWins: Tensor, tie: Tensor): Tensor {
  return aWins.add(tie.mul(0.5));
}

/** maximum:  y = max(a, b)    ∂y/∂a = [a > b] (+ ½ on a tie),  ∂y/∂b = 1 − ∂y/∂a */
export const maximum = binaryOp('maximum', {
  forward: (ctx, [a, b]) => { ctx.save(a, b); return a.maximum(b); },
  backward: (ctx, dy) => {
    const [a, b] = ctx.saved;
    const share = shareOfA(a.gt(b), a.eq(b));
    return [
      ctx.needs(0) ? sumToShape(dy.mul(share), ctx.inputShapes[0]) : null,
      ctx.needs(1) ? sumToShape(dy.mul(share.neg().add(1)), ctx.inputShapes[1]) : null,
    ];
  },
});

/** minimum:  y = min(a, b)    ∂y/∂a = [a < b] (+ ½ on a tie),  ∂y/∂b = 1 − ∂y/∂a */
export const minimum = binaryOp('minimum', {
  forward: (ctx, [a, b]) => { ctx.save(a, b); return a.minimum(b); },
  backward: (ctx, dy) => {
    const [a, b] = ctx.saved;
    const share = shareOfA(a.lt(b), a.eq(b));
    return [
      ctx.needs(0) ? sumToShape(dy.mul(share), ctx.inputShapes[0]) : null,
      ctx.needs(1) ? sumToShape(dy.mul(share.neg().add(1)), ctx.inputShapes[1]) : null,
    ];
  },
});

/**
 * mulAdd:  y = x·s + t  (all three broadcast)    ∂y/∂x = s,  ∂y/∂s = x,  ∂y/∂t = 1
 * each gradient folded back to its input's shape. One kernel pass for an affine map per feature (what
 * BatchNormalization is at inference) where x.mul(s).add(t) takes two passes and an array between;
 * the values are that composite's exactly (the kernel rounds the product before the sum).
 */
const mulAddOp = defineOp<undefined>('mulAdd', {
  forward: (ctx, [x, s, t]) => { ctx.save(x, s); return mulAddTensor(x, s, t); },
  backward: (ctx, dy) => {
    const [x, s] = ctx.saved;
    return [
      ctx.needs(0) ? sumToShape(dy.mul(s), ctx.inputShapes[0]) : null,
      ctx.needs(1) ? sumToShape(dy.mul(x), ctx.inputShapes[1]) : null,
      ctx.needs(2) ? sumToShape(dy, ctx.inputShapes[2]) : null,
    ];
  },
});
export function mulAdd(x: Operand, scale: Operand, shift: Operand): Variable {
  const [xv, sv] = liftPair(x, scale);
  return mulAddOp([xv, sv, lift(shift, xv)], undefined);
}
