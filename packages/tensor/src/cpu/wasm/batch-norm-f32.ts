/**
 * BatchNorm's float32 passes (normalization.ts) on WebAssembly SIMD, in float64 two columns at a time
 * (f64x2), with exactly the JavaScript loops' arithmetic and order, so that every number keeps its bits:
 *   forward  sums      acc_c += (x0 + x1) + (x2 + x3)                          (four rows r0..r3 a step)
 *            squares   acc_c += (d0·d0 + d1·d1) + (d2·d2 + d3·d3),  d = x − mean_c
 *            normalise x̂ = f32((x − mean_c)·invstd_c),  y = f32(γ_c·x̂ + β_c)   (x̂ as stored, rounded)
 *   backward sums      sumG_c += (g0 + g1) + (g2 + g3),  sumGx_c += (g0·x̂0 + g1·x̂1) + (g2·x̂2 + g3·x̂3)
 *            dx        dx = f32(k_c·((g − a_c) − x̂·b_c))
 * The last M mod 4 rows go one at a time (acc += x, …), as in the JavaScript loops. A float32 pair is
 * promoted to f64x2 (exact), add, sub and mul are correctly rounded in both languages and WebAssembly
 * never fuses a multiply-add, and demote rounds to nearest even as a Float32Array store does.
 *
 * Why: the JavaScript loops need ~1 ns a number per pass; here two lanes per instruction, and the
 * copies into and out of the kernel's memory are memcpys (~0.15 ns a number). On [32, 62, 62, 32] the
 * forward went from 13.4 to 7.3 ms and the backward from 10.4 to 6.1 (bench/kernels-memory.mjs); about
 * half of what is left is the copies, the rest the float64 arithmetic that keeps the bits.
 * Rows go through the kernel's memory in bands of 2^15 numbers (128 KiB each: the inputs x, or dy and
 * x̂; the outputs x̂ and y, or dx), whole groups of four rows each so that the groups are the JavaScript
 * loops', and the per-column values (float64, at most 4,096 columns) after them. Columns come in pairs,
 * so C must be even: odd C keeps the JavaScript loops.
 */
import { Code, I32, Op, Simd, V128, moduleBytes } from './assembler.js';
import { instantiate } from './instance.js';
import type { Instance } from './instance.js';

const BAND = 1 << 15;
const BAND_BYTES = BAND * 4;
/** Byte offsets of the second and third band from the first (x or dy): x̂, then y or dx. */
const SECOND = BAND_BYTES, THIRD = 2 * BAND_BYTES;
const MAX_COLUMNS = 4096;
/** The four per-column float64 arrays, byte addresses: COLUMNS[k] = 3 bands + k·MAX_COLUMNS·8. */
const COLUMNS = [0, 1, 2, 3].map((k) => 3 * BAND_BYTES + k * MAX_COLUMNS * 8);
const PAGES = Math.ceil((COLUMNS[3] + MAX_COLUMNS * 8) / 65536);

/** f64x2 opcodes (after the 0xfd prefix) that the assembler does not list. */
const F64 = { load64Zero: 0x5d, store64Lane: 0x5b, demote: 0x5e, promote: 0x5f, add: 0xf0, sub: 0xf1, mul: 0xf2 } as const;

/** The local indices every function shares: four i32 parameters, then i32 and v128 locals. */
const L = { start: 0, groups: 1, pairs: 2, rowBytes: 3, rowPtr: 4, p: 5, a: 6, pair: 7, rows2: 8, rows3: 9, v: 10 } as const;
const LOCALS = [{ count: 6, type: I32 }, { count: 12, type: V128 }];

/**
 * f(start, groups, pairs, rowBytes): for each group of `step` rows from byte address `start`, for each
 * pair of columns, `body` with `a` the pair's byte offset into the column arrays (16 per pair) and
 * `row(r)` pushing the address of row r's pair in the first band (a load or store adds the offset of
 * its band, 0, SECOND or THIRD, as its constant offset).
 */
function byPairs(step: number, body: (f: Code, row: (r: number) => Code) => void): Code {
  const f = new Code();
  f.get(L.rowBytes).get(L.rowBytes).op(Op.i32Add).set(L.rows2);
  f.get(L.rows2).get(L.rowBytes).op(Op.i32Add).set(L.rows3);
  const row = (r: number) => { f.get(L.p); if (r > 0) f.get([0, L.rowBytes, L.rows2, L.rows3][r]).op(Op.i32Add); return f; };
  f.get(L.start).set(L.rowPtr);
  f.countdown(L.groups, () => {
    f.get(L.rowPtr).set(L.p).i32(0).set(L.a).get(L.pairs).set(L.pair);
    f.countdown(L.pair, () => {
      body(f, row);
      f.addTo(L.p, 8).addTo(L.a, 16);
    });
    f.get(L.rowPtr).get(step === 4 ? L.rows3 : L.rowBytes).op(Op.i32Add); // `step` rows down
    if (step === 4) f.get(L.rowBytes).op(Op.i32Add);
    f.set(L.rowPtr);
  });
  return f;
}

/** Push row r's two floats in `band` as f64x2. */
const load = (row: (r: number) => Code, r: number, band = 0) => row(r).mem(F64.load64Zero, 2, band).simd(F64.promote);
/** Push the pair's float64 values from column array k. */
const column = (f: Code, k: number) => f.get(L.a).mem(Simd.v128Load, 3, COLUMNS[k]);
/** Combine `step` terms as the JavaScript does: (t0 + t1) + (t2 + t3), or t0 alone. */
function sumOf(f: Code, step: number, term: (r: number) => void): void {
  term(0);
  if (step === 1) return;
  term(1); f.simd(F64.add); term(2); term(3); f.simd(F64.add); f.simd(F64.add);
}
/** column k += what `terms` pushes. */
function accumulate(f: Code, k: number, terms: () => void): void {
  f.get(L.a);
  column(f, k);
  terms();
  f.simd(F64.add).mem(Simd.v128Store, 3, COLUMNS[k]);
}
/** Store the f64x2 that `value` pushes as two float32 at row r of `band`, and keep them in local `keep`. */
function storeF32(f: Code, row: (r: number) => Code, r: number, band: number, value: () => void, keep?: number): void {
  row(r);
  value();
  f.simd(F64.demote);
  if (keep !== undefined) f.tee(keep);
  f.mem(F64.store64Lane, 2, band);
  f.bytes.push(0); // lane 0: the low 64 bits, the two demoted floats
}

/** Columns 0 (and 1): Σ x, or Σ dy and Σ dy·x̂ (x̂ in the second band). */
function sums(step: number, withProducts: boolean): Code {
  const g = L.v; // v128 locals g0..g3
  return byPairs(step, (f, row) => {
    for (let r = 0; r < step; r++) load(row, r).set(g + r);
    accumulate(f, 0, () => sumOf(f, step, (r) => f.get(g + r)));
    if (withProducts) accumulate(f, 1, () => sumOf(f, step, (r) => { f.get(g + r); load(row, r, SECOND).simd(F64.mul); }));
  });
}

/** Column 0 += Σ (x − mean)², the mean in column 1. */
function squares(step: number): Code {
  const mean = L.v, d = L.v + 1;
  return byPairs(step, (f, row) => {
    column(f, 1).set(mean);
    accumulate(f, 0, () => sumOf(f, step, (r) => { load(row, r).get(mean).simd(F64.sub).tee(d).get(d).simd(F64.mul); }));
  });
}

/** x̂ = (x − mean)·invstd into the second band, y = γ·x̂ + β into the third; columns: mean, invstd, γ, β. */
function normalize(step: number): Code {
  const [mean, invstd, gamma, beta, xHat] = [0, 1, 2, 3, 4].map((k) => L.v + k);
  return byPairs(step, (f, row) => {
    [mean, invstd, gamma, beta].forEach((local, k) => column(f, k).set(local));
    for (let r = 0; r < step; r++) {
      storeF32(f, row, r, SECOND, () => load(row, r).get(mean).simd(F64.sub).get(invstd).simd(F64.mul), xHat);
      storeF32(f, row, r, THIRD, () => f.get(gamma).get(xHat).simd(F64.promote).simd(F64.mul).get(beta).simd(F64.add));
    }
  });
}

/** dx = k·((dy − a) − x̂·b) into the third band, dy in the first and x̂ in the second; columns: k, a, b. */
function inputGradient(step: number): Code {
  const [k, a, b] = [0, 1, 2].map((j) => L.v + j);
  return byPairs(step, (f, row) => {
    [k, a, b].forEach((local, j) => column(f, j).set(local));
    for (let r = 0; r < step; r++) {
      storeF32(f, row, r, THIRD, () => {
        f.get(k);
        load(row, r).get(a).simd(F64.sub);
        load(row, r, SECOND).get(b).simd(F64.mul).simd(F64.sub).simd(F64.mul);
      });
    }
  });
}

const PASSES = { sums: (s: number) => sums(s, false), squares, normalize, gradientSums: (s: number) => sums(s, true), inputGradient };
type Pass = keyof typeof PASSES;

export function batchNormModuleBytes(): Uint8Array {
  return moduleBytes(Object.entries(PASSES).flatMap(([name, make]) => [
    { name: `${name}4`, params: 4, locals: LOCALS, code: make(4) },
    { name: `${name}1`, params: 4, locals: LOCALS, code: make(1) },
  ]), PAGES);
}

type PassFunction = (start: number, groups: number, pairs: number, rowBytes: number) => void;
type BatchNormExports = Record<`${Pass}${1 | 4}`, PassFunction> & { memory: { buffer: ArrayBuffer } };

/** The kernel, compiled on first use (null: no WebAssembly SIMD here, or GRADLAB_BATCHNORM=js). */
let kernel: Instance<BatchNormExports> | null | undefined;

/** Below this many numbers the JavaScript loop is as fast (the copies and calls cost a few µs). */
const SMALLEST = 4096;

/** The kernel where x [n/C, C] fits it (C even, at most 4,096, n not small), else null. */
function kernelFor(n: number, C: number): Instance<BatchNormExports> | null {
  if (C % 2 !== 0 || C > MAX_COLUMNS || n < SMALLEST) return null;
  if (kernel === undefined) kernel = instantiate<BatchNormExports>(batchNormModuleBytes, 'GRADLAB_BATCHNORM');
  return kernel;
}

/**
 * Run one pass over all rows of [n/C, C], band by band: copy the bands' inputs in (`inputs`, one per
 * band from the first), run the groups of four rows and then the last rows one at a time, copy the
 * outputs out (`outputs`, from the second and third bands; null: nothing from that band).
 */
function run(k: Instance<BatchNormExports>, pass: Pass, C: number, inputs: Float32Array[], outputs: Array<Float32Array | null> = []): void {
  const n = inputs[0].length, mem = k.floats;
  const bandRows = Math.floor(BAND / C / 4) * 4; // whole groups of four rows (≥ 8 rows: C ≤ 4,096)
  for (let at = 0; at < n; at += bandRows * C) {
    const count = Math.min(bandRows * C, n - at), rows = count / C, groups = rows >> 2;
    inputs.forEach((input, band) => mem.set(input.subarray(at, at + count), band * BAND));
    if (groups > 0) k.exports[`${pass}4`](0, groups, C / 2, C * 4);
    if (rows % 4 > 0) k.exports[`${pass}1`](groups * 4 * C * 4, rows % 4, C / 2, C * 4);
    outputs.forEach((output, j) => output?.set(mem.subarray((j + 1) * BAND, (j + 1) * BAND + count), at));
  }
}

/** Column array k of the kernel's memory, as float64. */
const columnArray = (k: Instance<BatchNormExports>, j: number, C: number) => new Float64Array(k.exports.memory.buffer, COLUMNS[j], C);

/** acc[c] += Σ_r x[r·C + c] on the kernel; false (nothing done) where it does not fit. */
export function columnSumsWasm(xs: Float32Array, C: number, acc: Float64Array): boolean {
  const k = kernelFor(xs.length, C);
  if (!k) return false;
  columnArray(k, 0, C).set(acc);
  run(k, 'sums', C, [xs]);
  acc.set(columnArray(k, 0, C));
  return true;
}

/** acc[c] += Σ_r (x[r·C + c] − mean[c])² on the kernel; false (nothing done) where it does not fit. */
export function columnSquaredDeviationsWasm(xs: Float32Array, C: number, mean: Float64Array, acc: Float64Array): boolean {
  const k = kernelFor(xs.length, C);
  if (!k) return false;
  columnArray(k, 0, C).set(acc);
  columnArray(k, 1, C).set(mean);
  run(k, 'squares', C, [xs]);
  acc.set(columnArray(k, 0, C));
  return true;
}

/** x̂ and y of every row on the kernel; false (nothing done) where it does not fit. */
export function normalizeRowsWasm(xs: Float32Array, C: number, mean: Float64Array, invstd: Float32Array,
  gamma: Float32Array, beta: Float32Array, xHat: Float32Array, y: Float32Array): boolean {
  const k = kernelFor(xs.length, C);
  if (!k) return false;
  [mean, invstd, gamma, beta].forEach((values, j) => columnArray(k, j, C).set(values));
  run(k, 'normalize', C, [xs], [xHat, y]);
  return true;
}

/** sumG[c] += Σ_r dy and sumGx[c] += Σ_r dy·x̂ on the kernel; false (nothing done) where it does not fit. */
export function gradientSumsWasm(g: Float32Array, h: Float32Array, C: number, sumG: Float64Array, sumGx: Float64Array): boolean {
  const k = kernelFor(g.length, C);
  if (!k) return false;
  columnArray(k, 0, C).set(sumG);
  columnArray(k, 1, C).set(sumGx);
  run(k, 'gradientSums', C, [g, h]);
  sumG.set(columnArray(k, 0, C));
  sumGx.set(columnArray(k, 1, C));
  return true;
}

/** dx = k·((g − a) − x̂·b) per column on the kernel, for every row; false (nothing done) where it does not fit. */
export function inputGradientWasm(g: Float32Array, h: Float32Array, C: number, kc: Float64Array, a: Float64Array, b: Float64Array, dx: Float32Array): boolean {
  const k = kernelFor(g.length, C);
  if (!k) return false;
  [kc, a, b].forEach((values, j) => columnArray(k, j, C).set(values));
  run(k, 'inputGradient', C, [g, h], [null, dx]);
  return true;
}
