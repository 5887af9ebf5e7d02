/**
 * Column sums of float32 rows into float64 accumulators, on WebAssembly SIMD: acc[j] += x[r, j] for
 * every row r in order, two columns at a time (each pair of float32 promoted to f64x2). Each column
 * gets exactly the additions of reduce.ts's loop, in the same order, so the sums keep their bits. This
 * is the bias gradient of a convolution: dy [N, H, W, C] summed over all axes but C.
 *
 * Why: the JavaScript loop, already four rows a step, needs ~0.6 ns a number; here two lanes per
 * add and the copy in (a memcpy) make it ~0.3 ns. Rows go through the kernel's memory in bands of
 * 2^15 numbers (128 KiB), the accumulators (at most 4,096 columns) after them.
 */
import { Code, I32, Op, Simd, V128, moduleBytes } from './assembler.js';
import { instantiate } from './instance.js';
import type { Instance } from './instance.js';

const BAND = 1 << 15;
const X = 0, ACC = BAND * 4;  // byte addresses: the band of rows, then the float64 accumulators
const MAX_COLUMNS = 4096;
const PAGES = Math.ceil((ACC + MAX_COLUMNS * 8) / 65536);

/** SIMD opcodes (after the 0xfd prefix) that the assembler does not list. */
const LOAD64_ZERO = 0x5d, PROMOTE_LOW_F32 = 0x5f, F64X2_ADD = 0xf0;

/**
 * sumRows(x, acc, groups, pairs, rowBytes), for `step` rows a group (4, or 1 for the last rows): for
 * each group, for each pair of columns, s = acc; s += row 0; … s += row step−1; acc = s. The group's
 * rows are rowBytes apart.
 */
function sumFunction(step: number): Code {
  const x = 0, acc = 1, groups = 2, pairs = 3, rowBytes = 4;
  const rowPtr = 5, p = 6, a = 7, pair = 8; // i32 locals
  const s = 9; // v128 local
  const f = new Code();
  f.get(x).set(rowPtr);
  f.countdown(groups, () => {
    f.get(rowPtr).set(p).get(acc).set(a).get(pairs).set(pair);
    f.countdown(pair, () => {
      f.get(a).mem(Simd.v128Load, 3, 0).set(s);
      for (let r = 0; r < step; r++) {
        f.get(s).get(p);
        for (let k = 0; k < r; k++) f.get(rowBytes).op(Op.i32Add);
        f.mem(LOAD64_ZERO, 2, 0).simd(PROMOTE_LOW_F32).simd(F64X2_ADD).set(s);
      }
      f.get(a).get(s).mem(Simd.v128Store, 3, 0);
      f.addTo(p, 8).addTo(a, 16);
    });
    for (let r = 0; r < step; r++) f.get(rowPtr).get(rowBytes).op(Op.i32Add).set(rowPtr);
  });
  return f;
}

export function sumRowsModuleBytes(): Uint8Array {
  const locals = [{ count: 4, type: I32 }, { count: 1, type: V128 }];
  return moduleBytes([
    { name: 'sum4', params: 5, locals, code: sumFunction(4) },
    { name: 'sum1', params: 5, locals, code: sumFunction(1) },
  ], PAGES);
}

interface SumExports {
  sum4(x: number, acc: number, groups: number, pairs: number, rowBytes: number): void;
  sum1(x: number, acc: number, groups: number, pairs: number, rowBytes: number): void;
  memory: { buffer: ArrayBuffer };
}

/** The kernel, compiled on first use (null: no WebAssembly SIMD here, or GRADLAB_SUM=js). */
let kernel: Instance<SumExports> | null | undefined;

/** Below this many numbers the JavaScript loop is as fast (the copies and calls cost a few µs). */
const SMALLEST = 4096;

/**
 * acc[j] += data[base + r·inner + j] for r < R, in row order, on the kernel; false (nothing done) where
 * there is no kernel or the shape does not fit: an odd number of columns, more than 4,096, or few numbers.
 */
export function addRowsWasm(data: Float32Array, base: number, R: number, inner: number, acc: Float64Array): boolean {
  if (inner % 2 !== 0 || inner > MAX_COLUMNS || R * inner < SMALLEST) return false;
  if (kernel === undefined) kernel = instantiate<SumExports>(sumRowsModuleBytes, 'GRADLAB_SUM');
  if (!kernel) return false;
  const { exports: k, floats: mem } = kernel;
  const sums = new Float64Array(k.memory.buffer, ACC, inner);
  sums.set(acc);
  const bandRows = Math.floor(BAND / inner / 4) * 4; // whole groups of four rows (≥ 8 rows: inner ≤ 4,096)
  for (let r = 0; r < R; r += bandRows) {
    const rows = Math.min(bandRows, R - r);
    const from = base + r * inner;
    mem.set(data.subarray(from, from + rows * inner), X / 4);
    const groups = rows >> 2;
    if (groups > 0) k.sum4(X, ACC, groups, inner / 2, inner * 4);
    if (rows % 4 > 0) k.sum1(X + groups * 4 * inner * 4, ACC, rows % 4, inner / 2, inner * 4);
  }
  acc.set(sums);
  return true;
}
