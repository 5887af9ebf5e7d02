/**
 * Convolution on webgpu as matrix products, so that it runs on the tiled WGSL matmul (matmul-wgsl.ts)
 * rather than one GPU.js thread per output summing its window (conv.ts, the reference). With
 * P = the patch matrix, one row per output position (n, oy, ox) and one column per filter tap
 * (ky, kx, c) — im2col, as the CPU backend builds it —
 *
 *   y  = P · W                     W = w as [kh·kw·C, F]
 *   dw = Pᵀ · dY                   dY = dy as [N·OH·OW, F]  (Pᵀ is a view: the WGSL kernel reads strides)
 *   dP = dY · Wᵀ, then dx[n, iy, ix, c] = the sum of dP over the (output, tap) pairs that read x there (col2im)
 *
 * P and dP are written and read by GPU.js kernels (one thread per element: pure data movement); the
 * products, where the arithmetic is, run on the WGSL kernel. P costs memory: kh·kw times x's size.
 */
import type { Conv2DInfo, Tensor } from '@gradlab/tensor';
import type { GpuContext } from '../context.js';
import { idiv, sumOver, unravel } from '../codegen.js';
import { copy, launchOnContiguous } from './elementwise.js';
import { matmul } from './matmul.js';

type Read = (name: string, position: string) => string;

const key = (i: Conv2DInfo) => [i.batch, i.inHeight, i.inWidth, i.inChannels, i.outHeight, i.outWidth, i.outChannels,
  i.filterHeight, i.filterWidth, i.strideHeight, i.strideWidth, i.padTop, i.padLeft].join(',');

/** P [N·OH·OW, kh·kw·C]: P[(n, oy, ox), (ky, kx, c)] = x[n, oy·sh + ky − pt, ox·sw + kx − pl, c], 0 outside x. */
function patches(ctx: GpuContext, x: Tensor, info: Conv2DInfo): Tensor {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const KH = info.filterHeight, KW = info.filterWidth;
  const body = (read: Read) => [
    unravel('o', [info.batch, OH, OW, KH, KW, C], 'q'), // n, oy, ox, ky, kx, c
    `  const iy = q1 * ${info.strideHeight} + q3 - ${info.padTop};`,
    `  const ix = q2 * ${info.strideWidth} + q4 - ${info.padLeft};`,
    `  if (iy < 0 || iy >= ${H} || ix < 0 || ix >= ${W}) { return 0.0; }`,
    `  return ${read('x', `((q0 * ${H} + iy) * ${W} + ix) * ${C} + q5 + xOffset`)};`,
  ].join('\n');
  return launchOnContiguous(ctx, x.dtype, [info.batch * OH * OW, KH * KW * C], { x }, { op: 'im2col', key: key(info), body });
}

const rowsOf = (info: Conv2DInfo) => info.batch * info.outHeight * info.outWidth;
const tapsOf = (info: Conv2DInfo) => info.filterHeight * info.filterWidth * info.inChannels;

/**
 * Whether conv.ts hands this convolution to the functions below: on webgpu with the WGSL matmul, in
 * float32, while P stays under 2²⁴ elements (GPU.js computes positions in float32, exact up to 2²⁴).
 */
export function im2colApplies(ctx: GpuContext, x: Tensor, info: Conv2DInfo): boolean {
  return ctx.device.mode === 'webgpu' && ctx.device.wgslMatmul && x.dtype === 'float32' && rowsOf(info) * tapsOf(info) < 2 ** 24;
}

/** `t` as a contiguous matrix of `shape`: a view when it is contiguous already, else a copy, added to `temps`. */
function matrix(ctx: GpuContext, t: Tensor, shape: number[], temps: Tensor[]): Tensor {
  if (t.isContiguous()) return t.reshape(shape);
  const plain = copy(ctx, t, t.dtype);
  temps.push(plain);
  return plain.reshape(shape);
}

/** Free the temporaries once the product that reads them is launched (it holds them until it has read them). */
const free = (temps: Tensor[]) => { for (const t of temps) t.storage.dispose(); };

export function conv2dIm2col(ctx: GpuContext, x: Tensor, w: Tensor, info: Conv2DInfo): Tensor {
  const p = patches(ctx, x, info);
  const temps = [p];
  const y = matmul(ctx, p, matrix(ctx, w, [tapsOf(info), info.outChannels], temps), [rowsOf(info), info.outChannels]);
  free(temps);
  return y.reshape([info.batch, info.outHeight, info.outWidth, info.outChannels]);
}

export function conv2dBackpropFilterIm2col(ctx: GpuContext, x: Tensor, dy: Tensor, info: Conv2DInfo): Tensor {
  const p = patches(ctx, x, info);
  const temps = [p];
  const dw = matmul(ctx, p.T, matrix(ctx, dy, [rowsOf(info), info.outChannels], temps), [tapsOf(info), info.outChannels]);
  free(temps);
  return dw.reshape([info.filterHeight, info.filterWidth, info.inChannels, info.outChannels]);
}

export function conv2dBackpropInputIm2col(ctx: GpuContext, dy: Tensor, w: Tensor, info: Conv2DInfo): Tensor {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const sh = info.strideHeight, sw = info.strideWidth, KW = info.filterWidth, taps = tapsOf(info);
  const temps: Tensor[] = [];
  const dp = matmul(ctx, matrix(ctx, dy, [rowsOf(info), info.outChannels], temps), matrix(ctx, w, [taps, info.outChannels], temps).T, [rowsOf(info), taps]);
  free(temps);
  // col2im: the taps (ky, kx) whose window put x[n, iy, ix, c] into row (n, oy, ox) of P, as in conv.ts's backprop
  const body = (read: Read) => [
    unravel('o', [info.batch, H, W, C], 'q'), // n, iy, ix, c
    sumOver([
      { index: 'ky', count: info.filterHeight, set: [`const ty = q1 + ${info.padTop} - ky;`, `const oy = ${idiv('ty', sh)};`],
        where: `ty >= 0 && oy * ${sh} == ty && oy < ${OH}` },
      { index: 'kx', count: KW, set: [`const tx = q2 + ${info.padLeft} - kx;`, `const ox = ${idiv('tx', sw)};`],
        where: `tx >= 0 && ox * ${sw} == tx && ox < ${OW}` },
    ], read('dp', `((q0 * ${OH} + oy) * ${OW} + ox) * ${taps} + (ky * ${KW} + kx) * ${C} + q3 + dpOffset`)),
  ].join('\n');
  const dx = launchOnContiguous(ctx, dy.dtype, [info.batch, H, W, C], { dp }, { op: 'col2im', key: key(info), body });
  dp.storage.dispose();
  return dx;
}
