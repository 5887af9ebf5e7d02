/**
 * Pooling on the CPU: direct loops over NHWC data. Each output (n, oy, ox, c) looks at the part of its
 * window that lies inside the image (padding is never read, so 'same' pooling needs no padded copy).
 * The maths, and how ties and padding are treated, is in ops/pool.ts.
 */
import type { Backend, Conv2DInfo } from '../backend.js';
import type { TypedArray } from '../dtype.js';
import { allocate } from '../dtype.js';
import { contiguousData, cpuTensor } from './elementwise.js';

/** The rows (or columns) of output position `o`'s window that lie in the image: [start, end). */
function windowSpan(o: number, stride: number, pad: number, k: number, size: number): [number, number] {
  const start = o * stride - pad;
  return [Math.max(start, 0), Math.min(start + k, size)];
}

/**
 * Visit every window: calls visit(outAt, inAt, y0, y1, x0, x1) with outAt the flat index of
 * y[n, oy, ox, 0], inAt that of x[n, 0, 0, 0] and the window's span of rows [y0, y1) and columns [x0, x1).
 */
function forEachWindow(info: Conv2DInfo, visit: (outAt: number, inAt: number, y0: number, y1: number, x0: number, x1: number) => void): void {
  const { batch, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  for (let n = 0; n < batch; n++) {
    for (let oy = 0; oy < OH; oy++) {
      const [y0, y1] = windowSpan(oy, info.strideHeight, info.padTop, info.filterHeight, H);
      for (let ox = 0; ox < OW; ox++) {
        const [x0, x1] = windowSpan(ox, info.strideWidth, info.padLeft, info.filterWidth, W);
        visit(((n * OH + oy) * OW + ox) * C, n * H * W * C, y0, y1, x0, x1);
      }
    }
  }
}

/**
 * Max pooling, forward (dy null: y[n, oy, ox, c] = the window's maximum) or backward (dy given: each
 * dy[n, oy, ox, c] is added to dx at its window's first maximum). The scan keeps every channel's best
 * so far and walks the window pixel by pixel, channels innermost: the C numbers of a pixel are
 * consecutive in NHWC, so the loads run in order, where a scan per channel (a function call and a
 * strided walk for each of the N·OH·OW·C outputs) cost ~4× as much. Ties go to the first maximum in
 * row-major order (a later equal value does not replace it), as a per-channel scan would.
 *
 * For float32 the update has no branch: `if (v > best) { best = v; at = p }` mispredicts about half
 * the time on real activations (which element of a window is larger is a coin toss), so the new best
 * is chosen with a mask m = -(v > best) (all ones or all zeros) over the float's bits and the index:
 * best = (best & ~m) | (v & m). Same result, NaN included (v > best is false for a NaN).
 */
function maxPoolPass(xs: TypedArray, info: Conv2DInfo, out: TypedArray, dys: TypedArray | null): void {
  const { batch, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const best = new Float64Array(C), bestAt = new Int32Array(C);
  // the float32 path's views: x's bits, and the best so far as float32 and as its bits
  const f32 = xs instanceof Float32Array;
  const xBits = f32 ? new Int32Array(xs.buffer, xs.byteOffset, xs.length) : new Int32Array(0);
  const best32 = new Float32Array(C), bestBits = new Int32Array(best32.buffer);
  for (let n = 0; n < batch; n++) {
    for (let oy = 0; oy < OH; oy++) {
      const [y0, y1] = windowSpan(oy, info.strideHeight, info.padTop, info.filterHeight, H);
      for (let ox = 0; ox < OW; ox++) {
        const [x0, x1] = windowSpan(ox, info.strideWidth, info.padLeft, info.filterWidth, W);
        const first = ((n * H + y0) * W + x0) * C;
        for (let c = 0; c < C; c++) { best[c] = best32[c] = xs[first + c]; bestAt[c] = first + c; }
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = iy === y0 ? x0 + 1 : x0; ix < x1; ix++) {
            const p = ((n * H + iy) * W + ix) * C;
            if (f32) {
              for (let c = 0; c < C; c++) {
                const m = -(xs[p + c] > best32[c]);
                bestBits[c] = (bestBits[c] & ~m) | (xBits[p + c] & m);
                bestAt[c] = (bestAt[c] & ~m) | ((p + c) & m);
              }
            } else for (let c = 0; c < C; c++) if (xs[p + c] > best[c]) { best[c] = xs[p + c]; bestAt[c] = p + c; }
          }
        }
        const outAt = ((n * OH + oy) * OW + ox) * C;
        if (dys) for (let c = 0; c < C; c++) out[bestAt[c]] += dys[outAt + c];
        else for (let c = 0; c < C; c++) out[outAt + c] = xs[bestAt[c]];
      }
    }
  }
}

export const maxPool2d: Backend['maxPool2d'] = (x, info) => {
  const y = allocate(x.dtype, info.batch * info.outHeight * info.outWidth * info.inChannels);
  maxPoolPass(contiguousData(x), info, y, null);
  return cpuTensor(y, [info.batch, info.outHeight, info.outWidth, info.inChannels]);
};

export const maxPool2dBackward: Backend['maxPool2dBackward'] = (dy, x, info) => {
  const dx = allocate(dy.dtype, x.size);
  maxPoolPass(contiguousData(x), info, dx, contiguousData(dy));
  return cpuTensor(dx, x.shape);
};

export const avgPool2d: Backend['avgPool2d'] = (x, info) => {
  const xs = contiguousData(x);
  const { inWidth: W, inChannels: C } = info;
  const y = allocate(x.dtype, info.batch * info.outHeight * info.outWidth * C);
  forEachWindow(info, (outAt, inAt, y0, y1, x0, x1) => {
    const count = (y1 - y0) * (x1 - x0); // real inputs only (TF's 'same' average)
    for (let c = 0; c < C; c++) {
      let sum = 0;
      for (let iy = y0; iy < y1; iy++) {
        for (let ix = x0, p = inAt + (iy * W + x0) * C + c; ix < x1; ix++, p += C) sum += xs[p];
      }
      y[outAt + c] = sum / count;
    }
  });
  return cpuTensor(y, [info.batch, info.outHeight, info.outWidth, C]);
};

export const avgPool2dBackward: Backend['avgPool2dBackward'] = (dy, info) => {
  const dys = contiguousData(dy);
  const { inHeight: H, inWidth: W, inChannels: C } = info;
  const dx = allocate(dy.dtype, info.batch * H * W * C);
  forEachWindow(info, (outAt, inAt, y0, y1, x0, x1) => {
    const count = (y1 - y0) * (x1 - x0);
    for (let c = 0; c < C; c++) {
      const share = dys[outAt + c] / count;
      for (let iy = y0; iy < y1; iy++) {
        for (let ix = x0, p = inAt + (iy * W + x0) * C + c; ix < x1; ix++, p += C) dx[p] += share;
      }
    }
  });
  return cpuTensor(dx, [info.batch, H, W, C]);
};
