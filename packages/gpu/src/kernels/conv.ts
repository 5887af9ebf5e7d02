/**
 * 2-D convolution on the device (NHWC input, filter [kh, kw, C, F]), computed directly: one thread
 * per output element, summing over its window. (The CPU builds im2col patch matrices to feed its
 * gemm; a shader reads the window straight out of the texture instead, so no patch matrix is ever
 * written.) The formulas are in ops/conv.ts of @gradlab/tensor:
 *
 *   y[n, oy, ox, f]   = Σ_{ky, kx, c} x[n, oy·sh + ky − pt, ox·sw + kx − pl, c] · w[ky, kx, c, f]
 *   dx[n, iy, ix, c]  = Σ_{ky, kx, f} w[ky, kx, c, f] · dy[n, oy, ox, f]
 *                        over the (ky, kx) for which oy = (iy + pt − ky)/sh is a whole number in
 *                        [0, OH) (and likewise ox): the outputs whose window read x[n, iy, ix, c]
 *   dw[ky, kx, c, f]  = Σ_{n, oy, ox} x[n, oy·sh + ky − pt, ox·sw + kx − pl, c] · dy[n, oy, ox, f]
 *
 * On webgpu with the WGSL matmul the three become matrix products over im2col patches instead
 * (conv-im2col.ts); these kernels stay the reference and the path of every other mode.
 *
 * dw sums over every output position, a long loop for few threads; it is computed per sample
 * first ([N, kh, kw, C, F], N times the threads) and the N partial filters are then summed.
 */
import type { Conv2DInfo, Tensor } from '@gradlab/tensor';
import type { GpuContext } from '../context.js';
import { idiv, sumOver, unravel, within } from '../codegen.js';
import { reduce } from './reduce.js';
import { launchOnContiguous } from './elementwise.js';
import { conv2dBackpropFilterIm2col, conv2dBackpropInputIm2col, conv2dIm2col, im2colApplies } from './conv-im2col.js';

type Read = (name: string, position: string) => string;

function geometryKey(i: Conv2DInfo): string {
  return [i.batch, i.inHeight, i.inWidth, i.inChannels, i.outHeight, i.outWidth, i.outChannels, i.filterHeight,
    i.filterWidth, i.strideHeight, i.strideWidth, i.padTop, i.padLeft].join(',');
}

export function conv2d(ctx: GpuContext, x: Tensor, w: Tensor, info: Conv2DInfo): Tensor {
  if (im2colApplies(ctx, x, info)) return conv2dIm2col(ctx, x, w, info);
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: F } = info;
  const KH = info.filterHeight, KW = info.filterWidth;
  const body = (read: Read) => [
    unravel('o', [info.batch, OH, OW, F], 'q'), // q0 = n, q1 = oy, q2 = ox, q3 = f
    sumOver([
      within('ky', KH, 'iy', `q1 * ${info.strideHeight} + ky - ${info.padTop}`, H),
      within('kx', KW, 'ix', `q2 * ${info.strideWidth} + kx - ${info.padLeft}`, W),
      { set: [`const px = ((q0 * ${H} + iy) * ${W} + ix) * ${C} + xOffset;`, `const pw = (ky * ${KW} + kx) * ${C * F} + q3 + wOffset;`] },
      { index: 'c', count: C },
    ], `${read('x', 'px + c')} * ${read('w', `pw + c * ${F}`)}`),
  ].join('\n');
  return launchOnContiguous(ctx, x.dtype, [info.batch, OH, OW, F], { x, w }, { op: 'conv2d', key: geometryKey(info), body });
}

export function conv2dBackpropInput(ctx: GpuContext, dy: Tensor, w: Tensor, info: Conv2DInfo): Tensor {
  if (im2colApplies(ctx, dy, info)) return conv2dBackpropInputIm2col(ctx, dy, w, info);
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: F } = info;
  const sh = info.strideHeight, sw = info.strideWidth, KW = info.filterWidth;
  const body = (read: Read) => [
    unravel('o', [info.batch, H, W, C], 'q'), // q0 = n, q1 = iy, q2 = ix, q3 = c
    sumOver([
      // ty = oy·sh for the output whose window read x here with filter row ky, if there is one
      { index: 'ky', count: info.filterHeight, set: [`const ty = q1 + ${info.padTop} - ky;`, `const oy = ${idiv('ty', sh)};`],
        where: `ty >= 0 && oy * ${sh} == ty && oy < ${OH}` },
      { index: 'kx', count: KW, set: [`const tx = q2 + ${info.padLeft} - kx;`, `const ox = ${idiv('tx', sw)};`],
        where: `tx >= 0 && ox * ${sw} == tx && ox < ${OW}` },
      { set: [`const pd = ((q0 * ${OH} + oy) * ${OW} + ox) * ${F} + dyOffset;`, `const pw = ((ky * ${KW} + kx) * ${C} + q3) * ${F} + wOffset;`] },
      { index: 'f', count: F },
    ], `${read('w', 'pw + f')} * ${read('dy', 'pd + f')}`),
  ].join('\n');
  return launchOnContiguous(ctx, dy.dtype, [info.batch, H, W, C], { dy, w }, { op: 'conv2dBackpropInput', key: geometryKey(info), body });
}

export function conv2dBackpropFilter(ctx: GpuContext, x: Tensor, dy: Tensor, info: Conv2DInfo): Tensor {
  if (im2colApplies(ctx, x, info)) return conv2dBackpropFilterIm2col(ctx, x, dy, info);
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: F } = info;
  const KH = info.filterHeight, KW = info.filterWidth;
  // One partial filter per sample: dwₙ[ky, kx, c, f] = Σ_{oy, ox} x[n, …] · dy[n, oy, ox, f]
  const body = (read: Read) => [
    unravel('o', [info.batch, KH, KW, C, F], 'q'), // q0 = n, q1 = ky, q2 = kx, q3 = c, q4 = f
    sumOver([
      within('oy', OH, 'iy', `oy * ${info.strideHeight} + q1 - ${info.padTop}`, H),
      within('ox', OW, 'ix', `ox * ${info.strideWidth} + q2 - ${info.padLeft}`, W),
    ], `${read('x', `((q0 * ${H} + iy) * ${W} + ix) * ${C} + q3 + xOffset`)} * ${read('dy', `((q0 * ${OH} + oy) * ${OW} + ox) * ${F} + q4 + dyOffset`)}`),
  ].join('\n');
  const perSample = launchOnContiguous(ctx, x.dtype, [info.batch, KH, KW, C, F], { x, dy }, { op: 'conv2dBackpropFilter', key: geometryKey(info), body });
  const dw = reduce(ctx, 'sum', perSample, [0]);
  perSample.storage.dispose();
  return dw.reshape([KH, KW, C, F]);
}
