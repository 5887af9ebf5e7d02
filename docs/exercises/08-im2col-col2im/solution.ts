/**
 * Exercise 08, a reference solution: one walk over (window, ky, kx, c) serves both directions — im2col
 * copies x into the patch matrix, col2im adds the patch matrix back into x's shape.
 */
import { fromTypedArray } from 'gradlab';
import type { Conv2DInfo, Tensor } from 'gradlab';

/** visit(entry of cols, index into x) for every entry that is not padding. */
function walk(info: Conv2DInfo, visit: (entry: number, pixel: number) => void): void {
  const { batch: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, filterHeight: KH, filterWidth: KW } = info;
  let entry = 0;
  for (let n = 0; n < N; n++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
    for (let ky = 0; ky < KH; ky++) for (let kx = 0; kx < KW; kx++) {
      const iy = oy * info.strideHeight - info.padTop + ky, ix = ox * info.strideWidth - info.padLeft + kx;
      const inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
      for (let c = 0; c < C; c++, entry++) if (inside) visit(entry, ((n * H + iy) * W + ix) * C + c);
    }
  }
}

export function im2col(x: Tensor, info: Conv2DInfo): Tensor {
  const xs = x.dataSync();
  const patch = info.filterHeight * info.filterWidth * info.inChannels;
  const rows = info.batch * info.outHeight * info.outWidth;
  const cols = new Float64Array(rows * patch); // zeros: what padding entries keep
  walk(info, (entry, pixel) => { cols[entry] = xs[pixel]; });
  return fromTypedArray(cols, [rows, patch]);
}

export function col2im(cols: Tensor, info: Conv2DInfo): Tensor {
  const cs = cols.dataSync();
  const dx = new Float64Array(info.batch * info.inHeight * info.inWidth * info.inChannels);
  walk(info, (entry, pixel) => { dx[pixel] += cs[entry]; }); // += : a pixel sits in several windows
  return fromTypedArray(dx, [info.batch, info.inHeight, info.inWidth, info.inChannels]);
}
