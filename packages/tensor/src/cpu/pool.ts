/**
 * Pooling on the CPU: direct loops over NHWC data. Each output (n, oy, ox, c) looks at the part of its
 * window that lies inside the image (padding is never read, so 'same' pooling needs no padded copy).
 * The maths, and how ties and padding are treated, is in ops/pool.ts.
 */
import type { Backend, Conv2DInfo } from '../backend.js';
import type { TypedArray } from '../dtype.js';
import { allocate } from '../dtype.js';
import { contiguousData, cpuTensor } from './elementwise.js';
import { maxPool2x2Wasm } from './wasm/pool-f32.js';

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
  if (tilesTwoByTwo(info) && xs instanceof Float32Array && out instanceof Float32Array && (dys === null || dys instanceof Float32Array)) {
    if (!maxPool2x2Wasm(xs, info, out, dys)) maxPool2x2Float32(xs, info, out, dys);
    return;
  }
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

/** Whether every window is 2×2, stride 2, and inside the image: the pooling of most CNNs ('valid', or 'same' on even sizes). */
function tilesTwoByTwo(info: Conv2DInfo): boolean {
  return info.filterHeight === 2 && info.filterWidth === 2 && info.strideHeight === 2 && info.strideWidth === 2 &&
    info.padTop === 0 && info.padLeft === 0 && 2 * info.outHeight <= info.inHeight && 2 * info.outWidth <= info.inWidth;
}

/**
 * maxPoolPass for float32 and 2×2 windows with stride 2, all four pixels inside: the same results (the
 * first maximum in row-major order wins, a NaN only if it comes first), from a loop shaped for this case.
 * For each output (n, oy, ox, c) the window is the four numbers at
 *     a = x[n, 2oy, 2ox, c],  a + C,  a + W·C,  a + W·C + C
 * and the scan keeps only the index i of the best so far, in a register: the next candidate q wins
 * when x[q] > x[i], chosen without a branch by the mask m = -(x[q] > x[i]): i = (i & ~m) | (q & m)
 * (a branch mispredicts on about half of real activations). Both numbers compared are loaded as they
 * are, so the comparison is the float comparison itself (NaN, and −0 equal to +0, as before). The
 * forward then copies x[i]; the backward adds dy to dx[i].
 * Against the general scan (maxPoolPass: a best value and index per channel kept in arrays, each pixel a
 * pass over them): 15.5 → 6 ms forward and 17 → 8.6 ms backward on x [32, 62, 62, 32].
 * The WebAssembly kernel (wasm/pool-f32.ts) does the same four channels at a time, 4–6× faster again;
 * this loop is for channels that are not a multiple of 4 and for engines without WebAssembly SIMD.
 * Only float32 (what models train in) comes here; float64 and int32 take the general scan. V8 keeps
 * type feedback per function: after float64 and int32 poolings had gone through this loop as well, the
 * same float32 pooling ran 15.6 ms instead of 6.
 */
function maxPool2x2Float32(xs: Float32Array, info: Conv2DInfo, out: Float32Array, dys: Float32Array | null): void {
  const { batch, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const down = W * C; // from a pixel to the one below it
  for (let n = 0; n < batch; n++) {
    for (let oy = 0; oy < OH; oy++) {
      const rowStart = (n * H + 2 * oy) * W * C;
      let o = (n * OH + oy) * OW * C;
      for (let ox = 0; ox < OW; ox++) {
        const first = rowStart + 2 * ox * C;
        for (let c = 0; c < C; c++, o++) {
          let i = first + c, q = i + C;
          let m = -(xs[q] > xs[i]);
          i = (i & ~m) | (q & m);
          q = first + c + down;
          m = -(xs[q] > xs[i]);
          i = (i & ~m) | (q & m);
          q += C;
          m = -(xs[q] > xs[i]);
          i = (i & ~m) | (q & m);
          if (dys === null) out[o] = xs[i];
          else out[i] += dys[o];
        }
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
