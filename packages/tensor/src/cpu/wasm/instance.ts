/**
 * Compiling and instantiating the small single-purpose WebAssembly modules (pool-f32.ts,
 * relu-grad-f32.ts): each is compiled once, on first use, with one memory that never grows, so a
 * Float32Array view of it stays valid.
 */

import { envChoice } from '../../env.js';

/** The parts of the WebAssembly API used here (the ES2022 typings do not declare WebAssembly). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}

/** A module's exports, with a float32 view of its memory. */
export interface Instance<T> { exports: T; floats: Float32Array }

/**
 * The module's instance, or null where this engine has no WebAssembly SIMD (validate() refuses the
 * module), a page's Content-Security-Policy refuses to compile WebAssembly, or the environment
 * variable `optOut` is 'js' (to measure, or to rule out, the WebAssembly path; 'wasm' or unset is the
 * default, and any other value is refused, naming the variable).
 */
export function instantiate<T>(bytes: () => Uint8Array, optOut: string): Instance<T> | null {
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (envChoice(optOut, ['wasm', 'js'] as const) === 'js' || !wasm) return null;
  const code = bytes();
  if (!wasm.validate(code)) return null;
  try {
    const exports = new wasm.Instance(new wasm.Module(code)).exports;
    return { exports: exports as T, floats: new Float32Array((exports.memory as { buffer: ArrayBuffer }).buffer) };
  } catch {
    return null; // a CSP without 'wasm-unsafe-eval': the JavaScript loop does the work
  }
}
