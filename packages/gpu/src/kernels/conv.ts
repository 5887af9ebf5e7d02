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
 * dw sums over every output position, a long loop for few threads; it is computed per sample
 * first ([N, kh, kw, C, F], N times the threads) and the N partial filters are then summed.
 */
import type { Conv2DInfo, Tensor } from '@gradlab/tensor';
import { launch, storageOf } from '../context.js';
import type { GpuContext } from '../context.js';
import { idiv, unravel } from '../codegen.js';
import { reduce } from './reduce.js';
import { copy } from './elementwise.js';

type Read = (name: string, position: string) => string;

function geometryKey(i: Conv2DInfo): string {
  return [i.batch, i.inHeight, i.inWidth, i.inChannels, i.outHeight, i.outWidth, i.outChannels, i.filterHeight,
    i.filterWidth, i.strideHeight, i.strideWidth, i.padTop, i.padLeft].join(',');
}

/** The kernels read x, dy and w as contiguous row-major buffers: copy a strided view first. */
function contiguous(ctx: GpuContext, t: Tensor): Tensor {
  return t.isContiguous() ? t : copy(ctx, t, t.dtype);
}

function disposeIfCopy(copyOf: Tensor, original: Tensor): void {
  if (copyOf !== original) copyOf.storage.dispose();
}

export function conv2d(ctx: GpuContext, x0: Tensor, w0: Tensor, info: Conv2DInfo): Tensor {
  const x = contiguous(ctx, x0), w = contiguous(ctx, w0);
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: F } = info;
  const body = (read: Read) => [
    unravel('o', [info.batch, OH, OW, F], 'q'), // q0 = n, q1 = oy, q2 = ox, q3 = f
    '  let sum = 0.0;',
    `  for (let ky = 0; ky < ${info.filterHeight}; ky++) {`,
    `    const iy = q1 * ${info.strideHeight} + ky - ${info.padTop};`,
    `    if (iy >= 0 && iy < ${H}) {`,
    `      for (let kx = 0; kx < ${info.filterWidth}; kx++) {`,
    `        const ix = q2 * ${info.strideWidth} + kx - ${info.padLeft};`,
    `        if (ix >= 0 && ix < ${W}) {`,
    `          const px = ((q0 * ${H} + iy) * ${W} + ix) * ${C} + xOffset;`,
    `          const pw = (ky * ${info.filterWidth} + kx) * ${C * F} + q3 + wOffset;`,
    `          for (let c = 0; c < ${C}; c++) {`,
    `            sum += ${read('x', 'px + c')} * ${read('w', `pw + c * ${F}`)};`,
    '          }',
    '        }',
    '      }',
    '    }',
    '  }',
    '  return sum;',
  ].join('\n');
  const y = launch(ctx, x.dtype, [info.batch, OH, OW, F], {
    op: 'conv2d', key: geometryKey(info), inputs: { x: storageOf(x), w: storageOf(w) },
    uniforms: { xOffset: x.offset, wOffset: w.offset }, body,
  });
  disposeIfCopy(x, x0); disposeIfCopy(w, w0);
  return y;
}

export function conv2dBackpropInput(ctx: GpuContext, dy0: Tensor, w0: Tensor, info: Conv2DInfo): Tensor {
  const dy = contiguous(ctx, dy0), w = contiguous(ctx, w0);
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: F } = info;
  const sh = info.strideHeight, sw = info.strideWidth;
  const body = (read: Read) => [
    unravel('o', [info.batch, H, W, C], 'q'), // q0 = n, q1 = iy, q2 = ix, q3 = c
    '  let sum = 0.0;',
    `  for (let ky = 0; ky < ${info.filterHeight}; ky++) {`,
    `    const ty = q1 + ${info.padTop} - ky;`,           // = oy·sh for the output that read x here
    `    const oy = ${idiv('ty', sh)};`,
    `    if (ty >= 0 && oy * ${sh} == ty && oy < ${OH}) {`,
    `      for (let kx = 0; kx < ${info.filterWidth}; kx++) {`,
    `        const tx = q2 + ${info.padLeft} - kx;`,
    `        const ox = ${idiv('tx', sw)};`,
    `        if (tx >= 0 && ox * ${sw} == tx && ox < ${OW}) {`,
    `          const pd = ((q0 * ${OH} + oy) * ${OW} + ox) * ${F} + dyOffset;`,
    `          const pw = ((ky * ${info.filterWidth} + kx) * ${C} + q3) * ${F} + wOffset;`,
    `          for (let f = 0; f < ${F}; f++) {`,
    `            sum += ${read('w', 'pw + f')} * ${read('dy', 'pd + f')};`,
    '          }',
    '        }',
    '      }',
    '    }',
    '  }',
    '  return sum;',
  ].join('\n');
  const dx = launch(ctx, dy.dtype, [info.batch, H, W, C], {
    op: 'conv2dBackpropInput', key: geometryKey(info), inputs: { dy: storageOf(dy), w: storageOf(w) },
    uniforms: { dyOffset: dy.offset, wOffset: w.offset }, body,
  });
  disposeIfCopy(dy, dy0); disposeIfCopy(w, w0);
  return dx;
}

export function conv2dBackpropFilter(ctx: GpuContext, x0: Tensor, dy0: Tensor, info: Conv2DInfo): Tensor {
  const x = contiguous(ctx, x0), dy = contiguous(ctx, dy0);
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: F } = info;
  const KH = info.filterHeight, KW = info.filterWidth;
  // One partial filter per sample: dwₙ[ky, kx, c, f] = Σ_{oy, ox} x[n, …] · dy[n, oy, ox, f]
  const body = (read: Read) => [
    unravel('o', [info.batch, KH, KW, C, F], 'q'), // q0 = n, q1 = ky, q2 = kx, q3 = c, q4 = f
    '  let sum = 0.0;',
    `  for (let oy = 0; oy < ${OH}; oy++) {`,
    `    const iy = oy * ${info.strideHeight} + q1 - ${info.padTop};`,
    `    if (iy >= 0 && iy < ${H}) {`,
    `      for (let ox = 0; ox < ${OW}; ox++) {`,
    `        const ix = ox * ${info.strideWidth} + q2 - ${info.padLeft};`,
    `        if (ix >= 0 && ix < ${W}) {`,
    `          sum += ${read('x', `((q0 * ${H} + iy) * ${W} + ix) * ${C} + q3 + xOffset`)} * ${read('dy', `((q0 * ${OH} + oy) * ${OW} + ox) * ${F} + q4 + dyOffset`)};`,
    '        }',
    '      }',
    '    }',
    '  }',
    '  return sum;',
  ].join('\n');
  const perSample = launch(ctx, x.dtype, [info.batch, KH, KW, C, F], {
    op: 'conv2dBackpropFilter', key: geometryKey(info), inputs: { x: storageOf(x), dy: storageOf(dy) },
    uniforms: { xOffset: x.offset, dyOffset: dy.offset }, body,
  });
  disposeIfCopy(x, x0); disposeIfCopy(dy, dy0);
  const dw = reduce(ctx, 'sum', perSample, [0]);
  perSample.storage.dispose();
  return dw.reshape([KH, KW, C, F]);
}
