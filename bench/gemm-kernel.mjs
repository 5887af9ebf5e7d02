// The float32 gemm without the matmul op around it, on one thread, by CPU time: what the WebAssembly kernel
// and its blocking reach before a new output array (and, on a virtual machine, the page faults of its first
// write) is paid for. Prints one JSON object and saves it as bench/results/<date>-<machine>/gemm-kernel.json.
//   kernel_alone:  block() on already packed operands, 72 rows × 512 columns × kc 256, in a loop; and a loop
//                  of 12 independent FMAs with no loads (the machine's f32x4 FMA peak) for comparison
//   gemm:          gemmFloat32 (packing, the kernel, copying C out) into a preallocated C, square n and the
//                  convolution-shaped products of the article's image model
// Run after a build: node bench/gemm-kernel.mjs [--no-save]
import { Code, I32, Simd, V128, moduleBytes } from '../packages/tensor/dist/cpu/wasm/assembler.js';
import { createGemmKernel, WASM_MR } from '../packages/tensor/dist/cpu/wasm/gemm-kernel.js';
import { gemmFloat32 } from '../packages/tensor/dist/cpu/wasm/gemm-f32.js';
import { rowMajor } from '../packages/tensor/dist/cpu/pack.js';
import { describeMachine, finish, round } from './lib/timing.mjs';

/** Best GFLOPS by CPU time over `reps` rounds of at least 250 ms each. */
function gflopsByCpu(fn, flops, reps = 5) {
  let best = 0;
  for (let r = 0; r < reps; r++) {
    const start = process.cpuUsage(), t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < 250) { fn(); n++; }
    const used = process.cpuUsage(start);
    best = Math.max(best, (flops * n) / ((used.user + used.system) / 1e6) / 1e9);
  }
  return round(best, 1);
}

const result = { machine: describeMachine(), unit: 'GFLOPS, best of 5 rounds, by CPU time (one thread)' };

// the kernel alone
const kern = createGemmKernel();
const KC = 256, MC = 72, NC = 512;
const B_AT = MC * KC * 4, C_AT = B_AT + NC * KC * 4;
kern.memory.grow(Math.ceil((C_AT + MC * NC * 4) / 65536));
const heap = new Float32Array(kern.memory.buffer);
for (let i = 0; i < C_AT / 4; i++) heap[i] = Math.random();
result.kernel_alone = {
  tile: `${WASM_MR}×8`,
  block: gflopsByCpu(() => kern.block(0, B_AT, C_AT, MC / WASM_MR, NC / 8, KC, NC * 4, 0), 2 * MC * NC * KC),
};

// the peak: 12 independent FMA chains, no loads
const peak = new Code();
const acc = (i) => 2 + i, x = 14, y = 15;
for (let i = 0; i < 12; i++) peak.zero().set(acc(i));
peak.zero().set(x).zero().set(y).get(0).set(1);
peak.countdown(1, () => { for (let i = 0; i < 12; i++) peak.get(x).get(y).get(acc(i)).simd(Simd.f32x4RelaxedMadd).set(acc(i)); });
for (let i = 0; i < 12; i++) peak.i32(0).get(acc(i)).mem(Simd.v128Store, 4, 16 * i);
try {
  const fma = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes([{ name: 'block', params: 1, locals: [{ count: 1, type: I32 }, { count: 14, type: V128 }], code: peak }], 1))).exports;
  result.kernel_alone.fma_peak = gflopsByCpu(() => fma.block(1e6), 1e6 * 12 * 8);
} catch (error) {
  result.kernel_alone.fma_peak = `not measured: ${error.message}`;
}

// the whole float32 gemm into a preallocated C
result.gemm = {};
for (const [m, k, n] of [[256, 256, 256], [512, 512, 512], [1024, 1024, 1024], [123008, 27, 32], [26912, 288, 64]]) {
  const a = new Float32Array(m * k).map(() => Math.random()), b = new Float32Array(k * n).map(() => Math.random());
  const c = new Float32Array(m * n);
  result.gemm[`${m}x${k}x${n}`] = gflopsByCpu(() => gemmFloat32(m, n, k, rowMajor(a, k), rowMajor(b, n), c), 2 * m * n * k, 3);
}
finish('gemm-kernel', result);
