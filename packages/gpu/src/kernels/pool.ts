/**
 * 2-D max and average pooling on the device (NHWC), with the CPU backend's conventions
 * (ops/pool.ts of @gradlab/tensor): a window covers only the part of the image it overlaps
 * (padding is never read), max keeps the first maximum of a window on ties, and the average
 * divides by the number of real inputs in the window.
 *
 * Backward passes are written as gathers, one thread per input element: each input looks at the
 * few windows that contain it (at most ⌈kh/sh⌉·⌈kw/sw⌉) and collects their share of dy. A scatter
 * (each window adding into its inputs) would need atomic adds, which fragment shaders don't have.
 */
import type { Conv2DInfo, Tensor } from '@gradlab/tensor';
import { launch, storageOf } from '../context.js';
import type { GpuContext } from '../context.js';
import { idiv, unravel } from '../codegen.js';
import { copy } from './elementwise.js';

type Read = (name: string, position: string) => string;

function key(i: Conv2DInfo): string {
  return [i.batch, i.inHeight, i.inWidth, i.inChannels, i.outHeight, i.outWidth, i.filterHeight, i.filterWidth,
    i.strideHeight, i.strideWidth, i.padTop, i.padLeft].join(',');
}

function contiguous(ctx: GpuContext, t: Tensor): Tensor {
  return t.isContiguous() ? t : copy(ctx, t, t.dtype);
}

/**
 * Statements that set y0, y1, x0, x1: the rows [y0, y1) and columns [x0, x1) of the window of
 * output (oy, ox) that lie inside the image.
 */
function windowSpan(info: Conv2DInfo, oy: string, ox: string, suffix = ''): string {
  return [
    `  const ys${suffix} = ${oy} * ${info.strideHeight} - ${info.padTop};`,
    `  const xs${suffix} = ${ox} * ${info.strideWidth} - ${info.padLeft};`,
    `  const y0${suffix} = Math.max(ys${suffix}, 0);`,
    `  const y1${suffix} = Math.min(ys${suffix} + ${info.filterHeight}, ${info.inHeight});`,
    `  const x0${suffix} = Math.max(xs${suffix}, 0);`,
    `  const x1${suffix} = Math.min(xs${suffix} + ${info.filterWidth}, ${info.inWidth});`,
  ].join('\n');
}

/**
 * Statements that find the first maximum of channel c in the window of output (oy, ox) of sample n:
 * its value in `best${suffix}` and its (row, column) in `by${suffix}`, `bx${suffix}`.
 */
function argmaxInWindow(info: Conv2DInfo, read: Read, n: string, oy: string, ox: string, c: string, suffix: string): string {
  const { inHeight: H, inWidth: W, inChannels: C } = info;
  return [
    windowSpan(info, oy, ox, suffix),
    `  let best${suffix} = 0.0;`,
    `  let by${suffix} = -1;`,
    `  let bx${suffix} = -1;`,
    `  for (let ky = 0; ky < ${info.filterHeight}; ky++) {`,
    `    for (let kx = 0; kx < ${info.filterWidth}; kx++) {`,
    `      const iy = ys${suffix} + ky;`,
    `      const ix = xs${suffix} + kx;`,
    `      if (iy >= y0${suffix} && iy < y1${suffix} && ix >= x0${suffix} && ix < x1${suffix}) {`,
    `        const v = ${read('x', `((${n} * ${H} + iy) * ${W} + ix) * ${C} + ${c} + xOffset`)};`,
    `        if (by${suffix} < 0 || v > best${suffix}) { best${suffix} = v; by${suffix} = iy; bx${suffix} = ix; }`,
    '      }',
    '    }',
    '  }',
  ].join('\n');
}

export function maxPool2d(ctx: GpuContext, x0: Tensor, info: Conv2DInfo): Tensor {
  const x = contiguous(ctx, x0);
  const shape = [info.batch, info.outHeight, info.outWidth, info.inChannels];
  const y = launch(ctx, x.dtype, shape, {
    op: 'maxPool2d', key: key(info), inputs: { x: storageOf(x) }, uniforms: { xOffset: x.offset },
    body: (read) => [unravel('o', shape, 'q'), argmaxInWindow(info, read, 'q0', 'q1', 'q2', 'q3', ''), '  return best;'].join('\n'),
  });
  if (x !== x0) x.storage.dispose();
  return y;
}

/**
 * The (at most ⌈k/s⌉) outputs along one axis whose window contains input position `i`:
 * o from floor((i + pad)/s) down, while o·s − pad + k > i. Sets `${name}Last`; the loop variable
 * `d${name}` then visits o = last − d.
 */
function candidates(i: string, pad: number, stride: number, name: string): string {
  return `  const ${name}Last = ${idiv(`${i} + ${pad}`, stride)};`;
}

export function maxPool2dBackward(ctx: GpuContext, dy0: Tensor, x0: Tensor, info: Conv2DInfo): Tensor {
  const dy = contiguous(ctx, dy0), x = contiguous(ctx, x0);
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const shape = [info.batch, H, W, C];
  const reachY = Math.ceil(info.filterHeight / info.strideHeight), reachX = Math.ceil(info.filterWidth / info.strideWidth);
  const body = (read: Read) => [
    unravel('o', shape, 'q'), // q0 = n, q1 = iy, q2 = ix, q3 = c
    candidates('q1', info.padTop, info.strideHeight, 'oy'),
    candidates('q2', info.padLeft, info.strideWidth, 'ox'),
    '  let sum = 0.0;',
    `  for (let dyi = 0; dyi < ${reachY}; dyi++) {`,
    `    for (let dxi = 0; dxi < ${reachX}; dxi++) {`,
    '      const wy = oyLast - dyi;',
    '      const wx = oxLast - dxi;',
    `      if (wy >= 0 && wy < ${OH} && wx >= 0 && wx < ${OW}) {`,
    // this window sends its dy here only if (q1, q2) is its first maximum
    argmaxInWindow(info, read, 'q0', 'wy', 'wx', 'q3', 'W').replace(/^/gm, '    '),
    '        if (byW == q1 && bxW == q2) {',
    `          sum += ${read('dy', `((q0 * ${OH} + wy) * ${OW} + wx) * ${C} + q3 + dyOffset`)};`,
    '        }',
    '      }',
    '    }',
    '  }',
    '  return sum;',
  ].join('\n');
  const dx = launch(ctx, dy.dtype, shape, {
    op: 'maxPool2dBackward', key: key(info), inputs: { x: storageOf(x), dy: storageOf(dy) },
    uniforms: { xOffset: x.offset, dyOffset: dy.offset }, body,
  });
  if (x !== x0) x.storage.dispose();
  if (dy !== dy0) dy.storage.dispose();
  return dx;
}

export function avgPool2d(ctx: GpuContext, x0: Tensor, info: Conv2DInfo): Tensor {
  const x = contiguous(ctx, x0);
  const { inHeight: H, inWidth: W, inChannels: C } = info;
  const shape = [info.batch, info.outHeight, info.outWidth, C];
  const body = (read: Read) => [
    unravel('o', shape, 'q'),
    windowSpan(info, 'q1', 'q2'),
    '  let sum = 0.0;',
    `  for (let ky = 0; ky < ${info.filterHeight}; ky++) {`,
    `    for (let kx = 0; kx < ${info.filterWidth}; kx++) {`,
    '      const iy = ys + ky;',
    '      const ix = xs + kx;',
    '      if (iy >= y0 && iy < y1 && ix >= x0 && ix < x1) {',
    `        sum += ${read('x', `((q0 * ${H} + iy) * ${W} + ix) * ${C} + q3 + xOffset`)};`,
    '      }',
    '    }',
    '  }',
    '  return sum / ((y1 - y0) * (x1 - x0));',
  ].join('\n');
  const y = launch(ctx, x.dtype, shape, { op: 'avgPool2d', key: key(info), inputs: { x: storageOf(x) }, uniforms: { xOffset: x.offset }, body });
  if (x !== x0) x.storage.dispose();
  return y;
}

export function avgPool2dBackward(ctx: GpuContext, dy0: Tensor, info: Conv2DInfo): Tensor {
  const dy = contiguous(ctx, dy0);
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const shape = [info.batch, H, W, C];
  const reachY = Math.ceil(info.filterHeight / info.strideHeight), reachX = Math.ceil(info.filterWidth / info.strideWidth);
  const body = (read: Read) => [
    unravel('o', shape, 'q'),
    candidates('q1', info.padTop, info.strideHeight, 'oy'),
    candidates('q2', info.padLeft, info.strideWidth, 'ox'),
    '  let sum = 0.0;',
    `  for (let dyi = 0; dyi < ${reachY}; dyi++) {`,
    `    for (let dxi = 0; dxi < ${reachX}; dxi++) {`,
    '      const wy = oyLast - dyi;',
    '      const wx = oxLast - dxi;',
    `      if (wy >= 0 && wy < ${OH} && wx >= 0 && wx < ${OW}) {`,
    windowSpan(info, 'wy', 'wx').replace(/^/gm, '    '),
    '        if (q1 >= y0 && q1 < y1 && q2 >= x0 && q2 < x1) {',
    `          sum += ${read('dy', `((q0 * ${OH} + wy) * ${OW} + wx) * ${C} + q3 + dyOffset`)} / ((y1 - y0) * (x1 - x0));`,
    '        }',
    '      }',
    '    }',
    '  }',
    '  return sum;',
  ].join('\n');
  const dx = launch(ctx, dy.dtype, shape, { op: 'avgPool2dBackward', key: key(info), inputs: { dy: storageOf(dy) }, uniforms: { dyOffset: dy.offset }, body });
  if (dy !== dy0) dy.storage.dispose();
  return dx;
}
