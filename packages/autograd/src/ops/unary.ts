/**
 * Elementwise functions of one input:  y = f(x),  dx = dy · f′(x).
 * Where f′ can be written with the output y (exp, sqrt, tanh, sigmoid), backward reuses the saved y
 * instead of computing f again.
 */
import { defineOp } from '../engine.js';
import type { Variable } from '../variable.js';
import { lift, unaryOp } from './operand.js';
import type { Operand } from './operand.js';
import { reluGrad } from '@gradlab/tensor';

/** neg:  y = −x    dy/dx = −1 */
export const neg = unaryOp('neg', {
  forward: (ctx, [x]) => x.neg(),
  backward: (ctx, dy) => [dy.neg()],
});

/** exp:  y = eˣ    dy/dx = eˣ = y */
export const exp = unaryOp('exp', {
  forward: (ctx, [x]) => ctx.save(x.exp()),
  backward: (ctx, dy) => [dy.mul(ctx.saved[0])],
});

/** log:  y = ln x    dy/dx = 1/x */
export const log = unaryOp('log', {
  forward: (ctx, [x]) => { ctx.save(x); return x.log(); },
  backward: (ctx, dy) => [dy.div(ctx.saved[0])],
});

/** sqrt:  y = √x    dy/dx = 1/(2√x) = 1/(2y)   (infinite at x = 0, as the maths says) */
export const sqrt = unaryOp('sqrt', {
  forward: (ctx, [x]) => ctx.save(x.sqrt()),
  backward: (ctx, dy) => [dy.div(ctx.saved[0].mul(2))],
});

/** abs:  y = |x|    dy/dx = sign(x)   (0 at x = 0: the subgradient PyTorch and TensorFlow pick) */
export const abs = unaryOp('abs', {
  forward: (ctx, [x]) => { ctx.save(x); return x.abs(); },
  backward: (ctx, dy) => [dy.mul(ctx.saved[0].sign())],
});

/** tanh:  y = tanh x    dy/dx = 1 − y² */
export const tanh = unaryOp('tanh', {
  forward: (ctx, [x]) => ctx.save(x.tanh()),
  backward: (ctx, dy) => [dy.mul(ctx.saved[0].square().neg().add(1))],
});

/** sigmoid:  y = σ(x) = 1/(1 + e⁻ˣ)    dy/dx = σ(x)(1 − σ(x)) = y(1 − y) */
export const sigmoid = unaryOp('sigmoid', {
  forward: (ctx, [x]) => ctx.save(x.sigmoid()),
  backward: (ctx, dy) => { const y = ctx.saved[0]; return [dy.mul(y.mul(y.neg().add(1)))]; },
});

/** relu:  y = max(x, 0)    dy/dx = [x > 0]   (0 at x = 0) */
export const relu = unaryOp('relu', {
  forward: (ctx, [x]) => { ctx.save(x); return x.relu(); },
  backward: (ctx, dy) => [reluGrad(dy, ctx.saved[0])], // = dy·[x > 0], in one pass
});

/** square:  y = x²    dy/dx = 2x */
export const square = unaryOp('square', {
  forward: (ctx, [x]) => { ctx.save(x); return x.square(); },
  backward: (ctx, dy) => [dy.mul(ctx.saved[0].mul(2))],
});

/** softplus:  y = ln(1 + eˣ)    dy/dx = eˣ/(1 + eˣ) = σ(x) */
export const softplus = unaryOp('softplus', {
  forward: (ctx, [x]) => { ctx.save(x); return x.softplus(); },
  backward: (ctx, dy) => [dy.mul(ctx.saved[0].sigmoid())],
});

/**
 * clip:  y = min(max(x, lo), hi)    dy/dx = [lo ≤ x ≤ hi]
 * Inside the range the value passes through unchanged (slope 1); outside it is a constant (slope 0).
 * At exactly lo or hi the gradient passes (as PyTorch's clamp).
 */
const clipOp = defineOp<{ min: number; max: number }>('clip', {
  forward: (ctx, [x], { min, max }) => { ctx.save(x); return x.clip(min, max); },
  backward: (ctx, dy, { min, max }) => {
    const x = ctx.saved[0];
    return [dy.mul(x.ge(min).mul(x.le(max)))];
  },
});
export const clip = (x: Operand, min: number, max: number): Variable => clipOp([lift(x)], { min, max });
