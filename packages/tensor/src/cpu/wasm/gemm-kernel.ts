/**
 * The float32 micro-kernel in WebAssembly SIMD, emitted byte by byte (assembler.ts) and compiled
 * synchronously when first needed.
 *
 * A v128 register holds four float32 lanes, and f32x4.mul / f32x4.add work on all four at once. The
 * kernel keeps an MR×8 tile of C in 2·MR registers (each row of the tile is two 4-lane vectors) and, for
 * each of the kc steps of one packed A sliver and one packed B panel, forms an outer product:
 *
 *   b0, b1 = B[t, 0:4], B[t, 4:8]                 (two 16-byte loads from the B panel)
 *   for r in 0…MR-1:
 *     a = splat(A[r, t])                         (one float copied into all four lanes)
 *     C[r, 0:4] += a·b0;  C[r, 4:8] += a·b1
 *
 * That is 8·MR multiply-adds for MR + 8 floats loaded. With MR = 6 the tile uses 12 registers for C, 2
 * for B and 1 for A: 15 of the 16 vector registers V8 uses on x64, so nothing spills to the stack.
 *
 * Two variants. Plain SIMD has no fused multiply-add, so each += is f32x4.mul then f32x4.add: two
 * instructions on the same two arithmetic ports, which caps a 2.8 GHz core at ~22 GFLOPS. Relaxed SIMD's
 * f32x4.relaxed_madd(a, b, c) = a·b + c is one FMA instruction where the CPU has FMA, twice the
 * arithmetic per cycle. It is standard in current engines; Node 20's V8 has it behind a flag, which
 * enableRelaxedSimd() sets before the module is compiled. "Relaxed" because an engine may round once
 * (fused) or twice (mul then add): results can differ across machines in the last bit.
 *
 * One exported call does a whole (mc × nc) block (the loops over panels and slivers run inside
 * WebAssembly, so JavaScript calls it once per block, not once per tile):
 *
 *   block(a, b, c, slivers, panels, kc, ldc)
 *     for each of `panels` B panels (kc×8 floats, k-major, at b, b + kc·32, …)
 *       for each of `slivers` A slivers (kc×MR floats, k-major, at a, a + kc·MR·4, …)
 *         write the MR×8 tile into C at c + (sliver·MR)·ldc + panel·32   (ldc in bytes; overwrite)
 *
 * All pointers are byte addresses in the instance's own memory, which the caller fills (packing).
 */
import { Code, I32, Op, Simd, V128, moduleBytes } from './assembler.js';

/** Columns of the register tile: two f32x4 vectors. */
export const WASM_NR = 8;
/** Rows of the register tile. */
export const WASM_MR = 6;

/** The parts of WebAssembly's memory object used here (the ES2022 typings do not declare WebAssembly). */
export interface WasmMemory { readonly buffer: ArrayBuffer; grow(pages: number): number }

/** The parts of the global WebAssembly object used here. */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}

/** What a compiled kernel offers: its memory (grow it as needed) and the block function. */
export interface GemmKernel {
  memory: WasmMemory;
  block(a: number, b: number, c: number, slivers: number, panels: number, kc: number, ldc: number): void;
}

/** The block function, for a tile of `mr` rows (parameter and local numbers are below); `fused`: FMA. */
function blockFunction(mr: number, fused: boolean): Code {
  // parameters
  const a = 0, b = 1, c = 2, slivers = 3, panels = 4, kc = 5, ldc = 6;
  // i32 locals
  const panel = 7, sliver = 8, ap = 9, bp = 10, t = 11, aSliver = 12, cTile = 13, row = 14;
  const sliverBytes = 15, panelBytes = 16;
  // v128 locals: the accumulators acc(r, half), then b0, b1 and the splat of A
  const acc = (r: number, half: number) => 17 + 2 * r + half;
  const b0 = 17 + 2 * mr, b1 = b0 + 1, aSplat = b0 + 2;

  const f = new Code();
  f.get(kc).i32(mr * 4).op(Op.i32Mul).set(sliverBytes);
  f.get(kc).i32(WASM_NR * 4).op(Op.i32Mul).set(panelBytes);
  f.get(panels).set(panel);
  f.countdown(panel, () => {
    f.get(a).set(aSliver).get(c).set(cTile).get(slivers).set(sliver);
    f.countdown(sliver, () => {
      for (let r = 0; r < mr; r++) for (let h = 0; h < 2; h++) f.zero().set(acc(r, h));
      f.get(aSliver).set(ap).get(b).set(bp).get(kc).set(t);
      f.countdown(t, () => {
        f.get(bp).mem(Simd.v128Load, 4, 0).set(b0);
        f.get(bp).mem(Simd.v128Load, 4, 16).set(b1);
        for (let r = 0; r < mr; r++) {
          // acc(r,0) += splat(A[r]) * b0; acc(r,1) += splat(A[r]) * b1
          if (fused) { // relaxed_madd(a, b, c) = a·b + c
            f.get(ap).mem(Simd.v128Load32Splat, 2, 4 * r).tee(aSplat).get(b0).get(acc(r, 0)).simd(Simd.f32x4RelaxedMadd).set(acc(r, 0));
            f.get(aSplat).get(b1).get(acc(r, 1)).simd(Simd.f32x4RelaxedMadd).set(acc(r, 1));
          } else {
            f.get(acc(r, 0)).get(ap).mem(Simd.v128Load32Splat, 2, 4 * r).tee(aSplat).get(b0)
              .simd(Simd.f32x4Mul).simd(Simd.f32x4Add).set(acc(r, 0));
            f.get(acc(r, 1)).get(aSplat).get(b1).simd(Simd.f32x4Mul).simd(Simd.f32x4Add).set(acc(r, 1));
          }
        }
        f.addTo(ap, mr * 4).addTo(bp, WASM_NR * 4);
      });
      // store the tile, row by row
      f.get(cTile).set(row);
      for (let r = 0; r < mr; r++) {
        f.get(row).get(acc(r, 0)).mem(Simd.v128Store, 4, 0);
        f.get(row).get(acc(r, 1)).mem(Simd.v128Store, 4, 16);
        if (r < mr - 1) f.get(row).get(ldc).op(Op.i32Add).set(row);
      }
      f.get(aSliver).get(sliverBytes).op(Op.i32Add).set(aSliver);
      f.get(cTile).get(ldc).i32(mr).op(Op.i32Mul).op(Op.i32Add).set(cTile);
    });
    f.get(b).get(panelBytes).op(Op.i32Add).set(b);
    f.addTo(c, WASM_NR * 4);
  });
  return f;
}

/** The module's bytes: one memory and the `block` function for WASM_MR-row tiles (`fused`: with FMA). */
export function gemmModuleBytes(mr = WASM_MR, fused = false): Uint8Array {
  return moduleBytes([{
    name: 'block', params: 7,
    locals: [{ count: 10, type: I32 }, { count: 2 * mr + 3, type: V128 }],
    code: blockFunction(mr, fused),
  }], 1);
}

const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

/**
 * Turn on relaxed SIMD in Node 20's V8 (a flag there, standard from V8 11.4 on). Flags set at run time
 * apply to modules compiled afterwards. Elsewhere (a browser, a newer Node) there is nothing to do.
 */
function enableRelaxedSimd(): void {
  const proc = (globalThis as { process?: NodeJS.Process }).process;
  try {
    proc?.getBuiltinModule?.('node:v8').setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch { /* not Node, or the flag is gone: validate() below decides */ }
}

/** Which variant to compile: 'fused' (FMA) unless GRADLAB_GEMM_FMA=0 or the engine refuses it. */
export type KernelVariant = 'fused' | 'plain';
let compiled: { module: object; variant: KernelVariant } | null | undefined;

/**
 * The compiled module, or null. A page whose Content-Security-Policy lacks 'wasm-unsafe-eval' (or
 * 'unsafe-eval') refuses to compile any WebAssembly even though validate() accepts it: gemm then runs
 * on the JavaScript kernel (about 5× slower on float32), and wasmRefusal() says why.
 */
let refusal: string | null = null;

function compileModule(bytes: Uint8Array): object | null {
  try {
    return new wasm!.Module(bytes);
  } catch (error) {
    refusal = (error as Error).message;
    return null;
  }
}

function compile(): { module: object; variant: KernelVariant } | null {
  if (!wasm) return null;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  if (env?.GRADLAB_GEMM_FMA !== '0') {
    let fused = gemmModuleBytes(WASM_MR, true);
    if (!wasm.validate(fused)) { enableRelaxedSimd(); fused = gemmModuleBytes(WASM_MR, true); }
    if (wasm.validate(fused)) {
      const module = compileModule(fused);
      return module ? { module, variant: 'fused' } : null;
    }
  }
  const plain = gemmModuleBytes(WASM_MR, false);
  const module = wasm.validate(plain) ? compileModule(plain) : null;
  return module ? { module, variant: 'plain' } : null;
}

/** Why this engine refused to compile the kernel (a CSP without 'wasm-unsafe-eval'), or null. */
export function wasmRefusal(): string | null { return refusal; }

/**
 * A new instance of the kernel (each thread has its own, with its own memory), or null when this
 * JavaScript engine has no WebAssembly SIMD: `WebAssembly.validate` rejects the module there.
 */
export function createGemmKernel(): GemmKernel | null {
  if (compiled === undefined) compiled = compile();
  if (!compiled || !wasm) return null;
  const instance = new wasm.Instance(compiled.module).exports as unknown as GemmKernel;
  return { memory: instance.memory, block: instance.block };
}

/** The variant this thread compiled ('fused' or 'plain'), or null before the first kernel / without SIMD. */
export function gemmKernelVariant(): KernelVariant | null {
  return compiled ? compiled.variant : null;
}
