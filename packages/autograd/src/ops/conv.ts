/**
 * Convolution and pooling on channels-last images (NHWC). The sums are the tensor package's kernels,
 * and so are their gradients: each backward here calls the matching gradient kernel, whose formula
 * is written out in the tensor package's ops/conv.ts and ops/pool.ts.
 */
import {
  avgPool2d as avgPool2dTensor, avgPool2dBackward, conv2d as conv2dTensor, conv2dBackpropFilter,
  conv2dBackpropInput, maxPool2d as maxPool2dTensor, maxPool2dBackward, conv2dBiasActivation as conv2dBiasActivationTensor, reluGrad,
} from '@gradlab/tensor';
import type { Conv2DOptions, Pool2DOptions } from '@gradlab/tensor';
import { defineOp } from '../engine.js';
import type { Variable } from '../variable.js';
import { lift, liftPair } from './operand.js';
import type { Operand } from './operand.js';

/**
 * conv2d:  y[n,oy,ox,f] = Σ_{ky,kx,c} x[n, oy·s + ky − pad, ox·s + kx − pad, c] · w[ky,kx,c,f]
 * y is linear in x and in w separately, like matmul (a convolution IS a matmul of image patches with
 * the filter), so each gradient is the other operand "transposed" against dy:
 *   ∂L/∂x = conv2dBackpropInput(dy, w)     every input pixel collects w·dy from the windows that read it
 *   ∂L/∂w = conv2dBackpropFilter(x, dy)    every filter tap collects x·dy over all windows and the batch
 */
const conv2dOp = defineOp<Conv2DOptions>('conv2d', {
  forward: (ctx, [x, w], options) => { ctx.save(x, w); return conv2dTensor(x, w, options); },
  backward: (ctx, dy, options) => {
    const [x, w] = ctx.saved;
    return [
      ctx.needs(0) ? conv2dBackpropInput(dy, w, x.shape, options) : null,
      ctx.needs(1) ? conv2dBackpropFilter(x, dy, w.shape, options) : null,
    ];
  },
});
/** x [N, H, W, C], kernel [kh, kw, C, F] → [N, OH, OW, F]; options { strides, padding: 'valid' | 'same' }. */
export const conv2d = (x: Operand, kernel: Operand, options: Conv2DOptions = {}): Variable => conv2dOp(liftPair(x, kernel), options);

/**
 * conv2dBiasRelu:  z = conv2d(x, w) + b,  y = relu(z)  (or y = z without the ReLU)
 * Conv2D's forward in one kernel pass (the tensor package's conv2dBiasActivation). Backward:
 *   dz = dy·[z > 0] = reluGrad(dy, y)      y > 0 exactly where z > 0, so y is saved, not z
 *   ∂L/∂b = Σ_{n,oy,ox} dz                  the bias is added at every output pixel
 *   ∂L/∂x, ∂L/∂w as conv2d's, with dz for dy
 * The composite it must equal: conv2d(x, w).add(b).relu() (conv2dBiasActivationComposite below).
 */
interface FusedConvAttrs { options: Conv2DOptions; activation: 'relu' | 'linear'; hasBias: boolean }
const conv2dBiasActivationOp = defineOp<FusedConvAttrs>('conv2dBiasActivation', {
  forward: (ctx, [x, w, b], { options, activation, hasBias }) => {
    const y = conv2dBiasActivationTensor(x, w, hasBias ? b : null, activation, options);
    ctx.save(x, w, y);
    return y;
  },
  backward: (ctx, dy, { options, activation, hasBias }) => {
    const [x, w, y] = ctx.saved;
    const dz = activation === 'relu' ? reluGrad(dy, y) : dy;
    return [
      ctx.needs(0) ? conv2dBackpropInput(dz, w, x.shape, options) : null,
      ctx.needs(1) ? conv2dBackpropFilter(x, dz, w.shape, options) : null,
      ...(hasBias ? [ctx.needs(2) ? dz.sum([0, 1, 2]) : null] : []),
    ];
  },
});
/** act(conv2d(x, kernel) + bias), act 'relu' or 'linear', bias [F] or null: one op, one kernel pass. */
export const conv2dBiasActivation = (x: Operand, kernel: Operand, bias: Operand | null, activation: 'relu' | 'linear', options: Conv2DOptions = {}): Variable =>
  conv2dBiasActivationOp(bias === null ? liftPair(x, kernel) : [...liftPair(x, kernel), lift(bias)], { options, activation, hasBias: bias !== null });
/** The same, one op per step: the reference the fused op is tested against. */
export const conv2dBiasActivationComposite = (x: Operand, kernel: Operand, bias: Operand | null, activation: 'relu' | 'linear', options: Conv2DOptions = {}): Variable => {
  const z = bias === null ? conv2d(x, kernel, options) : conv2d(x, kernel, options).add(lift(bias));
  return activation === 'relu' ? z.relu() : z;
};

/**
 * maxPool2d:  y = max over each window    ∂y/∂x = 1 at the window's maximum, 0 elsewhere
 * (on a tie the first maximum in the window takes it all — the kernel's rule); windows that overlap
 * add their contributions. The backward finds each window's maximum again in the saved x.
 */
const maxPool2dOp = defineOp<Pool2DOptions>('maxPool2d', {
  forward: (ctx, [x], options) => { ctx.save(x); return maxPool2dTensor(x, options); },
  backward: (ctx, dy, options) => [maxPool2dBackward(dy, ctx.saved[0], options)],
});
/** x [N, H, W, C] → [N, OH, OW, C]; options { poolSize, strides = poolSize, padding = 'valid' }. */
export const maxPool2d = (x: Operand, options: Pool2DOptions): Variable => maxPool2dOp([lift(x)], options);

/**
 * avgPool2d:  y = (1/|Ω|) Σ_Ω x over each window Ω    ∂y/∂x = 1/|Ω| for every x in the window
 * (only x's shape is needed, not its values: nothing is saved).
 */
const avgPool2dOp = defineOp<Pool2DOptions>('avgPool2d', {
  forward: (ctx, [x], options) => avgPool2dTensor(x, options),
  backward: (ctx, dy, options) => [avgPool2dBackward(dy, ctx.inputShapes[0], options)],
});
export const avgPool2d = (x: Operand, options: Pool2DOptions): Variable => avgPool2dOp([lift(x)], options);
