/**
 * Which kernel a gemm runs on. Float32 products go to the WebAssembly SIMD kernel (wasm/gemm-f32.ts,
 * ~5× faster) where the runtime has WebAssembly SIMD; everything else (float64, int32, and float32 when
 * GRADLAB_GEMM=js or setGemmKernel('js') switches the WebAssembly kernel off) to the JavaScript kernel
 * (gemm-js.ts). The choice is per thread: threads.ts tells each worker which kernel a job wants.
 */
import type { TypedArray } from '../dtype.js';
import { gemmJs } from './gemm-js.js';
import type { MatrixRef } from './pack.js';
import { gemmFloat32, wasmGemmAvailable } from './wasm/gemm-f32.js';
import { envChoice as envChoiceOf } from '../env.js';

export type GemmKernelName = 'wasm' | 'js';

let chosen: GemmKernelName = envChoice();

function envChoice(): GemmKernelName {
  return envChoiceOf('GRADLAB_GEMM', ['wasm', 'js'] as const) ?? 'wasm';
}

/** Which kernel float32 gemms use on this thread: 'wasm' unless switched off or not supported. */
export function gemmKernel(): GemmKernelName {
  return chosen === 'wasm' && wasmGemmAvailable() ? 'wasm' : 'js';
}

/** Choose the float32 kernel (for tests and benchmarks; GRADLAB_GEMM=js sets 'js' at start-up). */
export function setGemmKernel(name: GemmKernelName): void {
  if (name !== 'wasm' && name !== 'js') throw new Error(`setGemmKernel: expected 'wasm' or 'js', got ${String(name)}`);
  chosen = name;
}

/** Whether a float32 gemm should take the WebAssembly path. */
export function useWasmGemm(): boolean { return gemmKernel() === 'wasm'; }

/**
 * C[m×n] (+)= A[m×k] · B[k×n] on this thread. A and B may be any strided matrices, of any dtype; C is
 * row-major starting at cOffset. C is overwritten unless `accumulate` (then the product is added to it).
 */
export function gemm(
  m: number, n: number, k: number, a: MatrixRef, b: MatrixRef,
  c: TypedArray, cOffset = 0, accumulate = false,
): void {
  if (c instanceof Float32Array && useWasmGemm()) gemmFloat32(m, n, k, a, b, c, cOffset, accumulate);
  else gemmJs(m, n, k, a, b, c, cOffset, accumulate);
}
