/**
 * Float32 max pooling, 2×2 windows with stride 2, on WebAssembly SIMD: four channels at a time.
 *
 * Why WebAssembly here when elementwise loops stay in JavaScript: the JavaScript loop (pool.ts) needs
 * ~6 ns per output, a chain of three comparisons, masks and reloads per channel, while copying the
 * input into the kernel's memory costs ~0.15 ns per input number (TypedArray.set, a memcpy). Here one
 * f32x4.gt and one v128.bitselect per candidate serve four channels, and the copies are the larger
 * part of the cost. On x [32, 62, 62, 32]: forward 1.0 ms (the JavaScript 2×2 loop 6, the general scan
 * 16), backward 2.7 ms (9 and 18), bench/kernels-memory.mjs.
 *
 * The rule is the JavaScript loop's, lane by lane: best = a; then for b, c, d in row-major order
 * m = (v > best), best = bitselect(v, best, m). f32x4.gt is IEEE's >: false for NaN, and −0 is not
 * above +0, so ties go to the first maximum and a NaN wins only where it comes first, as before.
 * The backward turns the three masks into which of the four pixels won (d if md; c if mc and not md;
 * b if mb and neither later; a if none) and writes 0 + dy there and +0 at the other three: the same
 * bits as adding dy into a zeroed dx (0 + −0 is +0). The windows do not overlap, so every pixel is
 * written once.
 *
 * The data goes through the kernel's memory one band of output rows at a time (rows of one image,
 * at most 256 KiB of input), so the memory stays 576 KiB whatever the tensor's size:
 *   copy the band's input rows in (one memcpy)  →  run forward or backward  →  copy the result out.
 */
import { Code, I32, Op, Simd, V128, moduleBytes } from './assembler.js';
import { instantiate } from './instance.js';
import type { Instance } from './instance.js';

/** The SIMD opcodes used here and not by the gemm (numbers after the 0xfd prefix). */
const PoolSimd = { f32x4Gt: 0x44, v128Not: 0x4d, v128And: 0x4e, v128AndNot: 0x4f, v128Or: 0x50, v128Bitselect: 0x52 } as const;

const X_FLOATS = 1 << 16;               // the band of input rows: 256 KiB, in L2 with dx's
const X = 0;                            // byte addresses in the kernel's memory
const DX = X + X_FLOATS * 4;            // the backward's output band, laid out as the input band
const Y = DX + X_FLOATS * 4;            // the forward's output band, or the backward's dy band (≤ ¼ of X)
const BYTES = Y + (X_FLOATS / 4) * 4;
const PAGES = BYTES / 65536;

/** i32.shr_u: not in the assembler's list (the gemm does not shift right). */
const I32_SHR_U = 0x76;

/**
 * forward(x, y, rows, ow, c, rowBytes) and backward(x, dy, dx, rows, ow, c, rowBytes): `rows` output
 * rows of `ow` windows, `c` channels (a multiple of 4), input rows `rowBytes` apart; x and dx share one
 * layout. For each window, c/4 vectors per pixel; the four pixels of a window are at p, p + 4c,
 * p + rowBytes and p + rowBytes + 4c.
 */
function poolFunction(backward: boolean): Code {
  // parameters
  const x = 0, y = 1, dx = 2;
  const [rows, ow, c, rowBytes] = backward ? [3, 4, 5, 6] : [2, 3, 4, 5];
  // i32 locals
  const first = backward ? 7 : 6;
  const rowPtr = first, p = first + 1, out = first + 2, col = first + 3, vec = first + 4, cBytes = first + 5, dxFromX = first + 6, q = first + 7;
  // v128 locals
  const vb = first + 8, vc = vb + 1, vd = vb + 2, best = vb + 3, mb = vb + 4, mc = vb + 5, md = vb + 6, g = vb + 7;

  const f = new Code();
  /** Push the address of one of the window's four pixels, counted from `base`. */
  const pixel = (base: number, right: boolean, down: boolean) => {
    f.get(base);
    if (right) f.get(cBytes).op(Op.i32Add);
    if (down) f.get(rowBytes).op(Op.i32Add);
    return f;
  };
  /** best := v where v > best:  m = f32x4.gt(v, best);  best = bitselect(v, best, m). */
  const challenge = (v: number, mask: number) => {
    f.get(v).get(best).simd(PoolSimd.f32x4Gt).set(mask);
    f.get(v).get(best).get(mask).simd(PoolSimd.v128Bitselect).set(best);
  };
  /** dx at one pixel of the window = 0 + (dy & won), `won` pushing the lanes where that pixel won. */
  const storeGradient = (right: boolean, down: boolean, won: () => void) => {
    pixel(q, right, down);
    f.zero().get(g);
    won();
    f.simd(PoolSimd.v128And).simd(Simd.f32x4Add).mem(Simd.v128Store, 2, 0);
  };

  f.get(c).i32(4).op(Op.i32Mul).set(cBytes);
  if (backward) f.get(dx).get(x).op(Op.i32Sub).set(dxFromX);
  f.get(x).set(rowPtr).get(y).set(out);
  f.countdown(rows, () => {
    f.get(rowPtr).set(p).get(ow).set(col);
    f.countdown(col, () => {
      f.get(c).i32(2).op(I32_SHR_U).set(vec);
      f.countdown(vec, () => {
        pixel(p, false, false).mem(Simd.v128Load, 2, 0).set(best); // a: the best so far
        pixel(p, true, false).mem(Simd.v128Load, 2, 0).set(vb);
        pixel(p, false, true).mem(Simd.v128Load, 2, 0).set(vc);
        pixel(p, true, true).mem(Simd.v128Load, 2, 0).set(vd);
        challenge(vb, mb);
        challenge(vc, mc);
        challenge(vd, md);
        if (!backward) {
          f.get(out).get(best).mem(Simd.v128Store, 2, 0);
        } else {
          f.get(out).mem(Simd.v128Load, 2, 0).set(g);
          f.get(p).get(dxFromX).op(Op.i32Add).set(q);
          // which pixel won: d if md; c if mc and not md; b if mb and neither later one; a if none
          storeGradient(false, false, () => f.get(mb).get(mc).simd(PoolSimd.v128Or).get(md).simd(PoolSimd.v128Or).simd(PoolSimd.v128Not));
          storeGradient(true, false, () => f.get(mb).get(mc).simd(PoolSimd.v128AndNot).get(md).simd(PoolSimd.v128AndNot));
          storeGradient(false, true, () => f.get(mc).get(md).simd(PoolSimd.v128AndNot));
          storeGradient(true, true, () => f.get(md));
        }
        f.addTo(p, 16).addTo(out, 16);
      });
      f.get(p).get(cBytes).op(Op.i32Add).set(p); // past the window's right pixel, to the next window
    });
    f.get(rowPtr).get(rowBytes).op(Op.i32Add).get(rowBytes).op(Op.i32Add).set(rowPtr); // two input rows down
  });
  return f;
}

/** The module's bytes: one memory of BYTES, `forward` and `backward`. */
export function poolModuleBytes(): Uint8Array {
  return moduleBytes([
    { name: 'forward', params: 6, locals: [{ count: 8, type: I32 }, { count: 8, type: V128 }], code: poolFunction(false) },
    { name: 'backward', params: 7, locals: [{ count: 8, type: I32 }, { count: 8, type: V128 }], code: poolFunction(true) },
  ], PAGES);
}

interface PoolExports {
  forward(x: number, y: number, rows: number, ow: number, c: number, rowBytes: number): void;
  backward(x: number, dy: number, dx: number, rows: number, ow: number, c: number, rowBytes: number): void;
}

/** The kernel, compiled on first use (null: no WebAssembly SIMD here, or GRADLAB_POOL=js). */
let kernel: Instance<PoolExports> | null | undefined;

/** The geometry pool.ts has checked: 2×2 windows, stride 2, every window inside the image. */
interface Geometry { batch: number; inHeight: number; inWidth: number; inChannels: number; outHeight: number; outWidth: number }

/**
 * Max pooling forward (dy null) or backward (dx must be zero-filled) on the kernel, band by band.
 * Returns false, having done nothing, where the kernel is missing or does not fit: channels not a
 * multiple of 4, or two input rows larger than the band.
 */
export function maxPool2x2Wasm(xs: Float32Array, info: Geometry, out: Float32Array, dys: Float32Array | null): boolean {
  const { batch, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const rowFloats = W * C;
  const bandRows = Math.min(OH, Math.floor(X_FLOATS / (2 * rowFloats)));
  if (C === 0 || C % 4 !== 0 || bandRows === 0) return false;
  if (kernel === undefined) kernel = instantiate<PoolExports>(poolModuleBytes, 'GRADLAB_POOL');
  if (!kernel) return false;
  const { exports: k, floats: mem } = kernel;
  const covered = 2 * OW * C; // the part of an input row that some window reads
  for (let n = 0; n < batch; n++) {
    for (let oy = 0; oy < OH; oy += bandRows) {
      const rows = Math.min(bandRows, OH - oy);
      const inAt = (n * H + 2 * oy) * rowFloats, inCount = 2 * rows * rowFloats;
      const outAt = ((n * OH + oy) * OW) * C, outCount = rows * OW * C;
      mem.set(xs.subarray(inAt, inAt + inCount), X / 4);
      if (dys === null) {
        k.forward(X, Y, rows, OW, C, rowFloats * 4);
        out.set(mem.subarray(Y / 4, Y / 4 + outCount), outAt);
        continue;
      }
      mem.set(dys.subarray(outAt, outAt + outCount), Y / 4);
      k.backward(X, Y, DX, rows, OW, C, rowFloats * 4);
      if (covered === rowFloats) out.set(mem.subarray(DX / 4, DX / 4 + inCount), inAt);
      else { // an odd width: the last column is no window's, and stays 0
        for (let r = 0; r < 2 * rows; r++) out.set(mem.subarray(DX / 4 + r * rowFloats, DX / 4 + r * rowFloats + covered), inAt + r * rowFloats);
      }
    }
  }
  return true;
}
