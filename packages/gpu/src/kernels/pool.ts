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
import type { GpuContext } from '../context.js';
import { idiv, nest, sumOver, unravel, within } from '../codegen.js';
import type { Level } from '../codegen.js';
import { launchOnContiguous } from './elementwise.js';

type Read = (name: string, position: string) => string;

function key(i: Conv2DInfo): string {
  return [i.batch, i.inHeight, i.inWidth, i.inChannels, i.outHeight, i.outWidth, i.filterHeight, i.filterWidth,
    i.strideHeight, i.strideWidth, i.padTop, i.padLeft].join(',');
}

/**
 * Statements that set ys, xs (the window's top-left corner, padding included) and y0, y1, x0, x1: the
 * rows [y0, y1) and columns [x0, x1) of the window of output (oy, ox) that lie inside the image.
 */
function windowSpan(info: Conv2DInfo, oy: string, ox: string, suffix = ''): string[] {
  return [
    `const ys${suffix} = ${oy} * ${info.strideHeight} - ${info.padTop};`,
    `const xs${suffix} = ${ox} * ${info.strideWidth} - ${info.padLeft};`,
    `const y0${suffix} = Math.max(ys${suffix}, 0);`,
    `const y1${suffix} = Math.min(ys${suffix} + ${info.filterHeight}, ${info.inHeight});`,
    `const x0${suffix} = Math.max(xs${suffix}, 0);`,
    `const x1${suffix} = Math.min(xs${suffix} + ${info.filterWidth}, ${info.inWidth});`,
  ];
}

/** The loops over the pixels (iy, ix) of a window (after windowSpan) that lie inside the image. */
function windowPixels(info: Conv2DInfo, suffix = ''): Level[] {
  return [
    within('ky', info.filterHeight, 'iy', `ys${suffix} + ky`, info.inHeight),
    within('kx', info.filterWidth, 'ix', `xs${suffix} + kx`, info.inWidth),
  ];
}

/** x[n, iy, ix, c] as kernel source. */
function readX(info: Conv2DInfo, read: Read, n: string, c: string): string {
  return read('x', `((${n} * ${info.inHeight} + iy) * ${info.inWidth} + ix) * ${info.inChannels} + ${c} + xOffset`);
}

/**
 * Statements that find the first maximum of channel c in the window of output (oy, ox) of sample n:
 * its value in `best${suffix}` and its (row, column) in `by${suffix}`, `bx${suffix}`.
 */
function argmaxInWindow(info: Conv2DInfo, read: Read, n: string, oy: string, ox: string, c: string, suffix: string): string {
  return [
    ...windowSpan(info, oy, ox, suffix).map((line) => `  ${line}`),
    `  let best${suffix} = 0.0;`,
    `  let by${suffix} = -1;`,
    `  let bx${suffix} = -1;`,
    nest(windowPixels(info, suffix), [
      `const v = ${readX(info, read, n, c)};`,
      `if (by${suffix} < 0 || v > best${suffix}) { best${suffix} = v; by${suffix} = iy; bx${suffix} = ix; }`,
    ]),
  ].join('\n');
}

export function maxPool2d(ctx: GpuContext, x: Tensor, info: Conv2DInfo): Tensor {
  const shape = [info.batch, info.outHeight, info.outWidth, info.inChannels];
  const body = (read: Read) => [unravel('o', shape, 'q'), argmaxInWindow(info, read, 'q0', 'q1', 'q2', 'q3', ''), '  return best;'].join('\n');
  return launchOnContiguous(ctx, x.dtype, shape, { x }, { op: 'maxPool2d', key: key(info), body });
}

export function avgPool2d(ctx: GpuContext, x: Tensor, info: Conv2DInfo): Tensor {
  const shape = [info.batch, info.outHeight, info.outWidth, info.inChannels];
  const body = (read: Read) => [
    unravel('o', shape, 'q'), // q0 = n, q1 = oy, q2 = ox, q3 = c
    ...windowSpan(info, 'q1', 'q2').map((line) => `  ${line}`),
    sumOver(windowPixels(info), readX(info, read, 'q0', 'q3'), 'sum / ((y1 - y0) * (x1 - x0))'),
  ].join('\n');
  return launchOnContiguous(ctx, x.dtype, shape, { x }, { op: 'avgPool2d', key: key(info), body });
}

/**
 * The backward passes as a gather over the windows that reached input (q0, q1, q2, q3):
 *   dx[n, iy, ix, c] = Σ over outputs (wy, wx) whose window holds (iy, ix) of its share of dy[n, wy, wx, c]
 * Along one axis those outputs are at most ⌈k/s⌉: o from floor((i + pad)/s) down, while o·s − pad + k > i
 * (the loop runs over all ⌈k/s⌉ and `share.where` drops a window that does not hold the pixel).
 * `share.set` are statements about window (wy, wx); its share is `share.value` where `share.where` holds.
 */
function gatherFromWindows(info: Conv2DInfo, read: Read, share: { set: string[]; where: string; value: (dy: string) => string }): string {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const reachY = Math.ceil(info.filterHeight / info.strideHeight), reachX = Math.ceil(info.filterWidth / info.strideWidth);
  return [
    unravel('o', [info.batch, H, W, C], 'q'), // q0 = n, q1 = iy, q2 = ix, q3 = c
    `  const oyLast = ${idiv(`q1 + ${info.padTop}`, info.strideHeight)};`,
    `  const oxLast = ${idiv(`q2 + ${info.padLeft}`, info.strideWidth)};`,
    sumOver([
      within('dyi', reachY, 'wy', 'oyLast - dyi', OH),
      within('dxi', reachX, 'wx', 'oxLast - dxi', OW),
      { set: share.set, where: share.where },
    ], share.value(read('dy', `((q0 * ${OH} + wy) * ${OW} + wx) * ${C} + q3 + dyOffset`))),
  ].join('\n');
}

export function maxPool2dBackward(ctx: GpuContext, dy: Tensor, x: Tensor, info: Conv2DInfo): Tensor {
  // a window sends its dy to its first maximum only
  const body = (read: Read) => gatherFromWindows(info, read, {
    set: [argmaxInWindow(info, read, 'q0', 'wy', 'wx', 'q3', 'W')], where: 'byW == q1 && bxW == q2', value: (g) => g,
  });
  return launchOnContiguous(ctx, dy.dtype, [info.batch, info.inHeight, info.inWidth, info.inChannels], { x, dy },
    { op: 'maxPool2dBackward', key: key(info), body });
}

export function avgPool2dBackward(ctx: GpuContext, dy: Tensor, info: Conv2DInfo): Tensor {
  // a window shares its dy equally among the real inputs it averaged
  const body = (read: Read) => gatherFromWindows(info, read, {
    set: windowSpan(info, 'wy', 'wx'), where: 'q1 >= y0 && q1 < y1 && q2 >= x0 && q2 < x1', value: (g) => `${g} / ((y1 - y0) * (x1 - x0))`,
  });
  return launchOnContiguous(ctx, dy.dtype, [info.batch, info.inHeight, info.inWidth, info.inChannels], { dy },
    { op: 'avgPool2dBackward', key: key(info), body });
}
