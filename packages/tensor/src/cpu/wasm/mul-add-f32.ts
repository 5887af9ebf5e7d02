/**
 * o = x·s + t in float32 with s and t one value per column of x [rows, C] (BatchNorm at inference),
 * on WebAssembly SIMD: f32x4.mul then f32x4.add, four numbers an instruction. Each is IEEE's correctly
 * rounded float32 operation, which is what the JavaScript loop's float64 product and sum give once
 * stored as float32 (a float32 product is exact in float64, and a float64 sum of two float32 rounded to
 * float32 is the correctly rounded float32 sum): the bits of x.mul(s).add(t). On [32, 62, 62, 32] it
 * takes 1.7 ms where the JavaScript loop, four rows a step, took 5.7 (bench/kernels-memory.mjs): the
 * copies in and out are most of it.
 *
 * Any C: four rows hold 4·C numbers, a whole number of vectors, so s and t are laid out four times
 * over (a "tile" of 4·C numbers) and group g of four rows reads vector v of the tile for its vector v.
 * Rows go through the kernel's memory in bands of 2^15 numbers (x in, o out: 256 KiB), whole groups of
 * four rows; the last partial vector reads and writes past the band's numbers, into slack that is
 * never copied out.
 */
import { Code, I32, Simd, moduleBytes } from './assembler.js';
import { instantiate } from './instance.js';
import type { Instance } from './instance.js';

const BAND = 1 << 15;
const SLACK = 16; // bytes after each band for the last vector's overrun
const X = 0, OUT = BAND * 4 + SLACK; // byte addresses of the two bands
const MAX_COLUMNS = 4096;
const SCALE = OUT + BAND * 4 + SLACK, SHIFT = SCALE + 4 * MAX_COLUMNS * 4; // the tiles of s and t
const PAGES = Math.ceil((SHIFT + 4 * MAX_COLUMNS * 4) / 65536);

/** mulAdd(start, groups, vectors): `groups` groups of `vectors` vectors from byte address `start`. */
export function mulAddModuleBytes(): Uint8Array {
  const start = 0, groups = 1, vectors = 2;
  const p = 3, q = 4, v = 5; // i32 locals: the band position, the tile position, the count
  const f = new Code();
  f.get(start).set(p);
  f.countdown(groups, () => {
    f.i32(0).set(q).get(vectors).set(v);
    f.countdown(v, () => {
      f.get(p);
      f.get(p).mem(Simd.v128Load, 2, X).get(q).mem(Simd.v128Load, 2, SCALE).simd(Simd.f32x4Mul);
      f.get(q).mem(Simd.v128Load, 2, SHIFT).simd(Simd.f32x4Add);
      f.mem(Simd.v128Store, 2, OUT);
      f.addTo(p, 16).addTo(q, 16);
    });
  });
  return moduleBytes([{ name: 'mulAdd', params: 3, locals: [{ count: 3, type: I32 }], code: f }], PAGES);
}

interface MulAddExports { mulAdd(start: number, groups: number, vectors: number): void }

/** The kernel, compiled on first use (null: no WebAssembly SIMD here, or GRADLAB_MUL_ADD=js). */
let kernel: Instance<MulAddExports> | null | undefined;

/** Below this many numbers the JavaScript loop is as fast (the copies and calls cost a few µs). */
const SMALLEST = 4096;

/** o = x·s + t per column on the kernel, band by band; false (nothing done) where it does not fit. */
export function perColumnMulAddWasm(xs: Float32Array, s: Float32Array, t: Float32Array, o: Float32Array, C: number): boolean {
  if (C > MAX_COLUMNS || o.length < SMALLEST) return false;
  if (kernel === undefined) kernel = instantiate<MulAddExports>(mulAddModuleBytes, 'GRADLAB_MUL_ADD');
  if (!kernel) return false;
  const { exports: k, floats: mem } = kernel;
  for (let copy = 0; copy < 4; copy++) {
    mem.set(s, SCALE / 4 + copy * C);
    mem.set(t, SHIFT / 4 + copy * C);
  }
  const bandCount = Math.floor(BAND / C / 4) * 4 * C; // whole groups of four rows
  for (let at = 0; at < o.length; at += bandCount) {
    const count = Math.min(bandCount, o.length - at), groups = Math.floor(count / (4 * C)), rest = count - groups * 4 * C;
    mem.set(xs.subarray(at, at + count), X / 4);
    if (groups > 0) k.mulAdd(0, groups, C);
    if (rest > 0) k.mulAdd(groups * 4 * C * 4, 1, Math.ceil(rest / 4));
    o.set(mem.subarray(OUT / 4, OUT / 4 + count), at);
  }
  return true;
}
