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
 * That is 8·MR multiply-adds for MR + 8 floats loaded. MR = 4: the tile holds C in 8 registers, B in 2
 * and the splat of A in 1, 11 of the 15 vector registers V8 hands out on x64 (it keeps xmm15 as
 * scratch). A 6×8 tile (12 + 3 = 15 registers, 1.5× the work per load) looks better on paper and is
 * what this kernel used first, but V8's register allocator then spills accumulators to the stack
 * around the loop's back edge (its wasm loop unrolling makes two copies of the body; `node
 * --print-wasm-code` shows the vmovups to and from [rbp-…]), and every spill puts a store and a load
 * into the accumulator's dependency chain. Measured on the kernel alone (AMD EPYC Zen 5 at ~3.1 GHz,
 * whose 2 FMA pipes peak at 16 flops a cycle, ~51 GFLOPS, which a loop of 12 independent FMAs reaches):
 * 6×8 ran at ~36 GFLOPS, 5×8 at ~27, 3×8 at ~34, 4×8 at ~44; unrolling k by hand (2 or 4 steps a
 * trip) made every tile slower, again by spilling. Eight accumulators are just enough to hide the FMA
 * latency (4 cycles × 2 pipes).
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
 *   block(a, b, c, slivers, panels, kc, ldc, load)            (blockDirect: A unpacked, see below)
 *     for each of `panels` B panels (kc×8 floats, k-major, at b, b + kc·32, …)
 *       for each of `slivers` A slivers (kc×MR floats, k-major, at a, a + kc·MR·4, …)
 *         write the MR×8 tile into C at c + (sliver·MR)·ldc + panel·32   (ldc in bytes)
 *
 * With load = 0 the tile overwrites C; with load = 1 the accumulators start from the tile already in C
 * instead of from zero, so C keeps a running sum across k blocks without a pass in JavaScript (gemm-f32.ts
 * keeps C in the kernel's memory until its last k block is done).
 *
 * All pointers are byte addresses in the instance's own memory, which the caller fills (packing).
 */
import { Code, I32, Op, Simd, V128, moduleBytes } from './assembler.js';

/** Columns of the register tile: two f32x4 vectors. */
export const WASM_NR = 8;
/** Rows of the register tile (why 4, not 6: see above). */
export const WASM_MR = 4;

/** The parts of WebAssembly's memory object used here (the ES2022 typings do not declare WebAssembly). */
export interface WasmMemory { readonly buffer: ArrayBuffer; grow(pages: number): number }

/** The parts of the global WebAssembly object used here. */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}

/** What a compiled kernel offers: its memory (grow it as needed) and the two block functions. */
export interface GemmKernel {
  memory: WasmMemory;
  /** A from packed slivers (kc×MR floats, k-major). */
  block(a: number, b: number, c: number, slivers: number, panels: number, kc: number, ldc: number, load: number): void;
  /**
   * A read in place: A[r, t] at a + r·lda + t·kStep (bytes; slivers MR rows apart), and B's panels too:
   * B[t, 8p … 8p+7] at b + p·panelStep + t·bStep. A row-major A has kStep = 4, a packed B bStep = 32
   * and panelStep = 32·kc; conv-direct.ts reads a convolution's windows straight from the image, and
   * the filter gradient's dy where it lies, with other strides.
   */
  blockDirect(a: number, b: number, c: number, slivers: number, panels: number, kc: number, ldc: number, load: number, lda: number, kStep: number, bStep: number, panelStep: number): void;
  /** C ← act(C + bias) in place on `rows` rows of `vectors` f32x4 (the epilogues: bias and ReLU, bias, ReLU). */
  biasRelu(c: number, rows: number, vectors: number, bias: number): void;
  bias(c: number, rows: number, vectors: number, bias: number): void;
  relu(c: number, rows: number, vectors: number, bias: number): void;
  /** C ← C·scale + shift in place (a folded BatchNormalization, after the epilogue). */
  scaleShift(c: number, rows: number, vectors: number, scale: number, shift: number): void;
}

/**
 * A block function, for a tile of `mr` rows (parameter and local numbers are below); `fused`: FMA.
 * `direct`: A is not packed but read where it lies, row r of a sliver at its own pointer: the splat
 * loads then walk mr rows side by side, 4 bytes a step (the hardware prefetcher follows mr streams
 * easily), which spares the packing copy when A is already row-major in the kernel's memory.
 */
function blockFunction(mr: number, fused: boolean, direct = false): Code {
  // parameters
  const a = 0, b = 1, c = 2, slivers = 3, panels = 4, kc = 5, ldc = 6, load = 7, lda = 8, kStep = 9, bStep = 10, panelStep = 11;
  // i32 locals
  const first = direct ? 12 : 8;
  const panel = first, sliver = first + 1, ap = first + 2, bp = first + 3, t = first + 4, aSliver = first + 5;
  const cTile = first + 6, row = first + 7, sliverBytes = first + 8, panelBytes = first + 9;
  const rowPtr = (r: number) => first + 10 + r; // direct only: where row r of the sliver starts
  const firstVector = first + 10 + (direct ? mr : 0);
  // v128 locals: the accumulators acc(r, half), then b0, b1 and the splat of A
  const acc = (r: number, half: number) => firstVector + 2 * r + half;
  const b0 = firstVector + 2 * mr, b1 = b0 + 1, aSplat = b0 + 2;
  // A[r, t] of the current sliver: at ap + 4r (packed), or at rowPtr(r) + ap (direct, ap = t·kStep)
  const loadA = (r: number) => direct
    ? f.get(rowPtr(r)).get(ap).op(Op.i32Add).mem(Simd.v128Load32Splat, 2, 0)
    : f.get(ap).mem(Simd.v128Load32Splat, 2, 4 * r);

  const f = new Code();
  if (direct) f.get(lda).i32(mr).op(Op.i32Mul).set(sliverBytes);
  else f.get(kc).i32(mr * 4).op(Op.i32Mul).set(sliverBytes);
  f.get(kc).i32(WASM_NR * 4).op(Op.i32Mul).set(panelBytes);
  f.get(panels).set(panel);
  f.countdown(panel, () => {
    f.get(a).set(aSliver).get(c).set(cTile).get(slivers).set(sliver);
    f.countdown(sliver, () => {
      // the accumulators start at zero, or at the tile already in C (load = 1)
      f.ifElse(load, () => {
        f.get(cTile).set(row);
        for (let r = 0; r < mr; r++) {
          f.get(row).mem(Simd.v128Load, 4, 0).set(acc(r, 0));
          f.get(row).mem(Simd.v128Load, 4, 16).set(acc(r, 1));
          if (r < mr - 1) f.get(row).get(ldc).op(Op.i32Add).set(row);
        }
      }, () => {
        for (let r = 0; r < mr; r++) for (let h = 0; h < 2; h++) f.zero().set(acc(r, h));
      });
      if (direct) {
        f.get(aSliver).set(rowPtr(0));
        for (let r = 1; r < mr; r++) f.get(rowPtr(r - 1)).get(lda).op(Op.i32Add).set(rowPtr(r));
        f.i32(0).set(ap);
      } else {
        f.get(aSliver).set(ap);
      }
      f.get(b).set(bp).get(kc).set(t);
      f.countdown(t, () => {
        f.get(bp).mem(Simd.v128Load, 4, 0).set(b0);
        f.get(bp).mem(Simd.v128Load, 4, 16).set(b1);
        for (let r = 0; r < mr; r++) {
          // acc(r,0) += splat(A[r]) * b0; acc(r,1) += splat(A[r]) * b1
          if (fused) { // relaxed_madd(a, b, c) = a·b + c
            loadA(r).tee(aSplat).get(b0).get(acc(r, 0)).simd(Simd.f32x4RelaxedMadd).set(acc(r, 0));
            f.get(aSplat).get(b1).get(acc(r, 1)).simd(Simd.f32x4RelaxedMadd).set(acc(r, 1));
          } else {
            f.get(acc(r, 0));
            loadA(r).tee(aSplat).get(b0).simd(Simd.f32x4Mul).simd(Simd.f32x4Add).set(acc(r, 0));
            f.get(acc(r, 1)).get(aSplat).get(b1).simd(Simd.f32x4Mul).simd(Simd.f32x4Add).set(acc(r, 1));
          }
        }
        if (direct) f.get(ap).get(kStep).op(Op.i32Add).set(ap).get(bp).get(bStep).op(Op.i32Add).set(bp);
        else f.addTo(ap, mr * 4).addTo(bp, WASM_NR * 4);
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
    f.get(b).get(direct ? panelStep : panelBytes).op(Op.i32Add).set(b);
    f.addTo(c, WASM_NR * 4);
  });
  return f;
}

/**
 * A convolution's epilogue on a block of C in place, four numbers a step: C[row, j] ← act(C[row, j] +
 * bias[j]) for `rows` rows of `vectors` f32x4 each (rows back to back), bias at `bias` (one row's worth,
 * zero-padded). ReLU as (v + |v|)·0.5, as conv-parts.ts's applyEpilogue: a NaN stays a NaN.
 */
function epilogueFunction(withBias: boolean, relu: boolean): Code {
  const c = 0, rows = 1, vectors = 2, bias = 3, j = 4, bp = 5, v = 6, half = 7;
  const f = new Code();
  f.f32x4(0.5).set(half);
  f.countdown(rows, () => {
    f.get(bias).set(bp).get(vectors).set(j);
    f.countdown(j, () => {
      f.get(c).mem(Simd.v128Load, 4, 0);
      if (withBias) { f.get(bp).mem(Simd.v128Load, 4, 0).simd(Simd.f32x4Add); f.addTo(bp, 16); }
      if (relu) f.tee(v).get(v).simd(Simd.f32x4Abs).simd(Simd.f32x4Add).get(half).simd(Simd.f32x4Mul);
      f.set(v).get(c).get(v).mem(Simd.v128Store, 4, 0);
      f.addTo(c, 16);
    });
  });
  return f;
}

/**
 * BatchNormalization at inference folded into a convolution's epilogue, after it: C[row, j] ←
 * C[row, j]·scale[j] + shift[j], multiplied and rounded, then added (f32x4.mul, then f32x4.add: the
 * mulAdd kernel's operations, so the fused output is the unfused one bit for bit).
 */
function scaleShiftFunction(): Code {
  const c = 0, rows = 1, vectors = 2, scale = 3, shift = 4, j = 5, sp = 6, tp = 7;
  const f = new Code();
  f.countdown(rows, () => {
    f.get(scale).set(sp).get(shift).set(tp).get(vectors).set(j);
    f.countdown(j, () => {
      f.get(c);
      f.get(c).mem(Simd.v128Load, 4, 0).get(sp).mem(Simd.v128Load, 4, 0).simd(Simd.f32x4Mul);
      f.get(tp).mem(Simd.v128Load, 4, 0).simd(Simd.f32x4Add).mem(Simd.v128Store, 4, 0);
      f.addTo(c, 16).addTo(sp, 16).addTo(tp, 16);
    });
  });
  return f;
}

/** The module's bytes: one memory, `block` and `blockDirect` for `mr`-row tiles (`fused`: with FMA), the epilogues. */
export function gemmModuleBytes(mr = WASM_MR, fused = false): Uint8Array {
  const epilogueLocals = [{ count: 2, type: I32 }, { count: 2, type: V128 }];
  return moduleBytes([
    { name: 'block', params: 8, locals: [{ count: 10, type: I32 }, { count: 2 * mr + 3, type: V128 }], code: blockFunction(mr, fused) },
    { name: 'blockDirect', params: 12, locals: [{ count: 10 + mr, type: I32 }, { count: 2 * mr + 3, type: V128 }], code: blockFunction(mr, fused, true) },
    { name: 'biasRelu', params: 4, locals: epilogueLocals, code: epilogueFunction(true, true) },
    { name: 'bias', params: 4, locals: epilogueLocals, code: epilogueFunction(true, false) },
    { name: 'relu', params: 4, locals: epilogueLocals, code: epilogueFunction(false, true) },
    { name: 'scaleShift', params: 5, locals: [{ count: 3, type: I32 }], code: scaleShiftFunction() },
  ], 1);
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
  const { memory, block, blockDirect, biasRelu, bias, relu, scaleShift } = instance;
  return { memory, block, blockDirect, biasRelu, bias, relu, scaleShift };
}

/** The variant this thread compiled ('fused' or 'plain'), or null before the first kernel / without SIMD. */
export function gemmKernelVariant(): KernelVariant | null {
  return compiled ? compiled.variant : null;
}
