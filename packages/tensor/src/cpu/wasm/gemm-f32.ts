/**
 * Float32 gemm on the WebAssembly SIMD kernel (gemm-kernel.ts): C[m×n] (+)= A[m×k]·B[k×n].
 *
 * The blocking is matmul.ts's (Goto & van de Geijn), with the packed blocks in the kernel's memory:
 *
 *   for each block of NC columns of B
 *     for each block of KC steps of k
 *       pack B[k0:k0+KC, j0:j0+NC] as float32 panels of 8 columns   → memory at B_AT
 *       for each block of MC rows of A
 *         pack A[i0:i0+MC, k0:k0+KC] as float32 slivers of MR rows  → memory at A_AT
 *         block(…): every MR×8 tile of this MC×NC block of C       → memory at C_AT
 *         C[i0:i0+MC, j0:j0+NC] (+)= that block                     (in JavaScript)
 *
 * Sums are float32 here, where the JavaScript kernel sums in float64: see docs/tensor.md for what that
 * does to precision. GRADLAB_GEMM=js (or setGemmKernel('js')) sends float32 back to the JS kernel.
 */
import type { MatrixRef } from '../matmul.js';
import { packA, packB } from '../pack.js';
import { createGemmKernel, WASM_MR as MR, WASM_NR as NR } from './gemm-kernel.js';
import type { GemmKernel } from './gemm-kernel.js';
import { envChoice as envChoiceOf } from '../../env.js';

const KC = 256;   // k steps per block: a B panel (KC·8 floats = 8 KiB) stays in L1
const MC = 72;    // rows of A per block, a multiple of MR: packedA is 72 KiB, in L2
const NC = 1024;  // columns of B per block: packedB ≤ 1 MiB, the C block ≤ 288 KiB

// Byte addresses of the three buffers in the kernel's memory (fixed: sized for the largest blocks).
const A_AT = 0;
const B_AT = A_AT + MC * KC * 4;
const C_AT = B_AT + NC * KC * 4;
const BYTES = C_AT + MC * NC * 4;

export type GemmKernelName = 'wasm' | 'js';

/** This thread's kernel instance (undefined: not made yet; null: no WebAssembly SIMD here). */
let kernel: GemmKernel | null | undefined;
let views: { a: Float32Array; b: Float32Array; c: Float32Array } | undefined;
let chosen: GemmKernelName = envChoice();

function envChoice(): GemmKernelName {
  return envChoiceOf('GRADLAB_GEMM', ['wasm', 'js'] as const) ?? 'wasm';
}

function ready(): GemmKernel | null {
  if (kernel === undefined) {
    kernel = createGemmKernel();
    if (kernel) {
      const missing = BYTES - kernel.memory.buffer.byteLength;
      if (missing > 0) kernel.memory.grow(Math.ceil(missing / 65536));
      const buffer = kernel.memory.buffer;
      views = {
        a: new Float32Array(buffer, A_AT, MC * KC),
        b: new Float32Array(buffer, B_AT, NC * KC),
        c: new Float32Array(buffer, C_AT, MC * NC),
      };
    }
  }
  return kernel;
}

/** Which kernel float32 gemms use on this thread: 'wasm' unless switched off or not supported. */
export function gemmKernel(): GemmKernelName {
  return chosen === 'wasm' && ready() ? 'wasm' : 'js';
}

/** Choose the float32 kernel (for tests and benchmarks; GRADLAB_GEMM=js sets 'js' at start-up). */
export function setGemmKernel(name: GemmKernelName): void {
  if (name !== 'wasm' && name !== 'js') throw new Error(`setGemmKernel: expected 'wasm' or 'js', got ${String(name)}`);
  chosen = name;
}

/** Whether a float32 gemm should take the WebAssembly path. */
export function useWasmGemm(): boolean { return gemmKernel() === 'wasm'; }

/** C (+)= A·B in float32 on the WebAssembly kernel; C is row-major m×n at cOffset. */
export function gemmFloat32(
  m: number, n: number, k: number, a: MatrixRef, b: MatrixRef,
  c: Float32Array, cOffset = 0, accumulate = false,
): void {
  const kern = ready();
  if (!kern || !views) throw new Error('gemmFloat32: WebAssembly SIMD is not available');
  if (m === 0 || n === 0) return;
  if (k === 0) { if (!accumulate) c.fill(0, cOffset, cOffset + m * n); return; }
  const { a: packedA, b: packedB, c: block } = views;
  for (let j0 = 0; j0 < n; j0 += NC) {
    const nc = n - j0 < NC ? n - j0 : NC;
    const panels = Math.ceil(nc / NR);
    const ldc = panels * NR; // the C block's row length in floats
    for (let k0 = 0; k0 < k; k0 += KC) {
      const kc = k - k0 < KC ? k - k0 : KC;
      packB(b, k0, kc, j0, nc, packedB, NR);
      // the first k block overwrites C (unless accumulating), later ones add to it
      const add = accumulate || k0 > 0;
      for (let i0 = 0; i0 < m; i0 += MC) {
        const mc = m - i0 < MC ? m - i0 : MC;
        packA(a, i0, mc, k0, kc, packedA, MR);
        kern.block(A_AT, B_AT, C_AT, Math.ceil(mc / MR), panels, kc, ldc * 4);
        addBlock(block, ldc, mc, nc, c, cOffset + i0 * n + j0, n, add);
      }
    }
  }
}

/** C[0:rows, 0:cols] (+)= the block (row length ldc), C at `at` with row length n. */
function addBlock(block: Float32Array, ldc: number, rows: number, cols: number, c: Float32Array, at: number, n: number, add: boolean): void {
  for (let i = 0; i < rows; i++) {
    const from = i * ldc, to = at + i * n;
    if (add) for (let j = 0; j < cols; j++) c[to + j] += block[from + j];
    else for (let j = 0; j < cols; j++) c[to + j] = block[from + j];
  }
}
