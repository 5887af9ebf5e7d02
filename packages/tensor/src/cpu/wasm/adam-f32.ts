/**
 * Adam's update for float32 parameters on WebAssembly SIMD, computed in float64 two lanes at a time
 * (f64x2), so that every number is what the JavaScript loop (optimizers.ts) computes:
 *   m' = m + (1 − β1)(g − m),  v' = v + (1 − β2)(g² − v),  w' = w − α·m'/(√v' + ε)
 * JavaScript evaluates this in float64 (its numbers) and stores each result as float32. Here each pair
 * of float32 inputs is promoted to f64x2, the same operations run in the same order (add, sub, mul,
 * div and sqrt are correctly rounded in both, and WebAssembly never fuses a multiply-add), and the
 * results are demoted to float32 (round to nearest even, as a Float32Array store does). Only a NaN's
 * payload bits could differ, which neither language specifies.
 *
 * Why: the JavaScript loop walks seven arrays with a sqrt and a division per element, ~5 ns an
 * element; the kernel does two elements per instruction and the copies in and out of its memory are
 * memcpys: 11.8 → 6.2 ms for the [12544, 128] kernel of the image model's Dense layer, bound now by the
 * f64x2 sqrt and division (bench/kernels-memory.mjs). The arrays go through the kernel's memory in bands of 2^14 numbers (64 KiB each: 448 KiB
 * for the seven, in L2), and the constants (1 − β1, 1 − β2, α, ε) through 32 bytes after them.
 */
import { Code, I32, V128, moduleBytes } from './assembler.js';
import { instantiate } from './instance.js';
import type { Instance } from './instance.js';

const BAND = 1 << 14;
const BAND_BYTES = BAND * 4;
/** The bands, in this order: the inputs w, g, m, v and the outputs w', m', v'. */
const [W, G, M, V, W_OUT, M_OUT, V_OUT] = [0, 1, 2, 3, 4, 5, 6].map((k) => k * BAND_BYTES);
const CONSTANTS = 7 * BAND_BYTES; // four float64: 1 − β1, 1 − β2, α, ε
const PAGES = Math.ceil((CONSTANTS + 32) / 65536);

/** SIMD opcodes (after the 0xfd prefix) that the assembler does not list. */
const Op64 = {
  load64Splat: 0x0a, store64Lane: 0x5b, load64Zero: 0x5d, demoteToF32: 0x5e, promoteLowF32: 0x5f,
  sqrt: 0xef, add: 0xf0, sub: 0xf1, mul: 0xf2, div: 0xf3,
} as const;

/**
 * adam(pairs): for each pair of elements at byte offset p (p = 0, 8, 16, …), the inputs at W + p, G + p,
 * M + p, V + p and the outputs at W_OUT + p, M_OUT + p, V_OUT + p. One pointer, the bands told apart
 * by the loads' constant offsets.
 */
export function adamModuleBytes(): Uint8Array {
  const pairs = 0;
  const p = 1; // i32 local
  const c1 = 2, c2 = 3, alpha = 4, eps = 5, g = 6, m = 7, v = 8; // v128 locals
  const f = new Code();
  const splat = (at: number, local: number) => f.i32(0).mem(Op64.load64Splat, 3, at).set(local);
  const load = (band: number) => f.get(p).mem(Op64.load64Zero, 3, band).simd(Op64.promoteLowF32);
  /** Store the two float64 lanes on the stack as two float32 at band + p. */
  const store = (band: number, value: () => void) => {
    f.get(p);
    value();
    f.simd(Op64.demoteToF32).mem(Op64.store64Lane, 3, band);
    f.bytes.push(0); // lane 0: the low 64 bits, the two demoted floats
  };
  splat(CONSTANTS, c1); splat(CONSTANTS + 8, c2); splat(CONSTANTS + 16, alpha); splat(CONSTANTS + 24, eps);
  f.i32(0).set(p);
  f.countdown(pairs, () => {
    load(G).set(g);
    // m' = m + c1·(g − m)
    load(M).tee(m).get(c1).get(g).get(m).simd(Op64.sub).simd(Op64.mul).simd(Op64.add).set(m);
    // v' = v + c2·(g·g − v)
    load(V).tee(v).get(c2).get(g).get(g).simd(Op64.mul).get(v).simd(Op64.sub).simd(Op64.mul).simd(Op64.add).set(v);
    store(M_OUT, () => f.get(m));
    store(V_OUT, () => f.get(v));
    // w' = w − (α·m') / (√v' + ε)
    store(W_OUT, () => {
      load(W).get(alpha).get(m).simd(Op64.mul).get(v).simd(Op64.sqrt).get(eps).simd(Op64.add).simd(Op64.div).simd(Op64.sub);
    });
    f.addTo(p, 8);
  });
  return moduleBytes([{ name: 'adam', params: 1, locals: [{ count: 1, type: I32 }, { count: 7, type: V128 }], code: f }], PAGES);
}

interface AdamExports { adam(pairs: number): void; memory: { buffer: ArrayBuffer } }

/** The kernel, compiled on first use (null: no WebAssembly SIMD here, or GRADLAB_ADAM=js). */
let kernel: Instance<AdamExports> | null | undefined;

/** Below this many numbers the JavaScript loop is faster: 128 took 4.9 µs here against its 3.5. */
const SMALLEST = 512;

/**
 * Adam's update of float32 arrays on the kernel, band by band (c1 = 1 − β1, c2 = 1 − β2); false,
 * with nothing done, where there is no kernel or the arrays are small.
 */
export function adamWasm(ws: Float32Array, gs: Float32Array, ms: Float32Array, vs: Float32Array,
  wOut: Float32Array, mOut: Float32Array, vOut: Float32Array, c1: number, c2: number, alpha: number, eps: number): boolean {
  if (ws.length < SMALLEST) return false;
  if (kernel === undefined) kernel = instantiate<AdamExports>(adamModuleBytes, 'GRADLAB_ADAM');
  if (!kernel) return false;
  const { exports: k, floats: mem } = kernel;
  new Float64Array(k.memory.buffer, CONSTANTS, 4).set([c1, c2, alpha, eps]);
  for (let at = 0; at < ws.length; at += BAND) {
    const count = Math.min(BAND, ws.length - at);
    mem.set(ws.subarray(at, at + count), W / 4);
    mem.set(gs.subarray(at, at + count), G / 4);
    mem.set(ms.subarray(at, at + count), M / 4);
    mem.set(vs.subarray(at, at + count), V / 4);
    k.adam(Math.ceil(count / 2)); // an odd count's last pair reads an old number past the end: not copied out
    wOut.set(mem.subarray(W_OUT / 4, W_OUT / 4 + count), at);
    mOut.set(mem.subarray(M_OUT / 4, M_OUT / 4 + count), at);
    vOut.set(mem.subarray(V_OUT / 4, V_OUT / 4 + count), at);
  }
  return true;
}
