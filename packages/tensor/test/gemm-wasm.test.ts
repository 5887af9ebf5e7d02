import { matmul, randn, setNumThreads } from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import { gemm, gemmKernel, setGemmKernel } from '../src/cpu/gemm';
import { rowMajor, transposed } from '../src/cpu/pack';
import type { MatrixRef } from '../src/cpu/pack';
import { parallelGemm, threadPoolActive, parallelMinWork, setParallelMinWork } from '../src/cpu/threads';
import { sleb, uleb } from '../src/cpu/wasm/assembler';
import { gemmKernelVariant, gemmModuleBytes, WASM_MR } from '../src/cpu/wasm/gemm-kernel';
import { whileBIsConstant } from '../src/cpu/wasm/gemm-f32';

const sqrt = Math.sqrt, abs = Math.abs; // hoisted: global Math lookups are slow inside jest's sandbox

afterAll(() => { setGemmKernel('wasm'); setNumThreads(1); setParallelMinWork(null); });

/** Random float32 numbers (standard normal). */
function values(length: number, seed: number): Float32Array {
  return randn([length], { seed }).dataSync() as Float32Array;
}

/**
 * Checks c (+ start, when accumulating) against C = A·B computed in float64 by the triple loop.
 * Tolerance: every product and partial sum of the float32 kernel is rounded to float32 (unit roundoff
 * u = 2⁻²⁴ ≈ 6e-8); rounding errors of K sums add up like a random walk, ~u·√K·Σ_k|A[i,k]·B[k,j]|, so
 * 1e-6·√K·Σ|A·B| leaves a margin of ~16× over that typical error while still catching any wrong term.
 */
function expectProduct(m: number, n: number, k: number, a: MatrixRef, b: MatrixRef, c: Float32Array, start?: Float32Array): void {
  const tol = 1e-6 * sqrt(k);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = start ? start[i * n + j] : 0, scale = start ? abs(start[i * n + j]) : 0;
      for (let t = 0; t < k; t++) {
        const p = a.data[a.offset + i * a.rowStride + t * a.colStride] * b.data[b.offset + t * b.rowStride + j * b.colStride];
        sum += p; scale += abs(p);
      }
      if (!(abs(c[i * n + j] - sum) <= tol * scale + 1e-30)) {
        throw new Error(`C[${i},${j}] of ${m}×${k}×${n}: got ${c[i * n + j]}, expected ${sum} (±${tol * scale})`);
      }
    }
  }
}

describe('the byte emitter', () => {
  it('writes LEB128 like the WebAssembly spec examples', () => {
    expect(uleb(0)).toEqual([0]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(sleb(-1)).toEqual([0x7f]);
    expect(sleb(64)).toEqual([0xc0, 0x00]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
  });
});

describe('the two kernel variants, called directly on packed blocks', () => {
  // Relaxed SIMD (FMA) is standard in newer engines and a flag in Node 20's V8, which gemm-kernel.ts sets
  // when it first compiles; the first matmul below makes sure that has happened.
  beforeAll(() => { setGemmKernel('wasm'); matmul(randn([8, 8], { seed: 1 }), randn([8, 8], { seed: 2 })); });

  it('uses the fused (FMA) variant here unless GRADLAB_GEMM_FMA=0', () => {
    expect(gemmKernelVariant()).toBe(process.env.GRADLAB_GEMM_FMA === '0' ? 'plain' : 'fused');
  });

  // the tile in use (WASM_MR rows) and the 6-row one it replaced (the generator takes any height)
  for (const [fused, load, mr] of [[false, 0, WASM_MR], [true, 0, WASM_MR], [false, 1, WASM_MR], [true, 1, WASM_MR], [true, 1, 6]] as const) {
    it(`${fused ? 'fused' : 'plain'}: block() ${load ? 'adds' : 'writes'} every ${mr}×8 tile of A·B for 2 slivers × 3 panels, kc 37`, () => {
      const kc = 37, slivers = 2, panels = 3, nr = 8, m0 = slivers * mr, n0 = panels * nr;
      const module = new WebAssembly.Module(new Uint8Array(gemmModuleBytes(mr, fused)));
      const { memory, block } = new WebAssembly.Instance(module).exports as unknown as {
        memory: WebAssembly.Memory; block: (...args: number[]) => void;
      };
      const aFloats = slivers * kc * mr, bFloats = panels * kc * nr, ldc = panels * nr;
      memory.grow(1);
      const heap = new Float32Array(memory.buffer);
      const packedA = values(aFloats, 3), packedB = values(bFloats, 4);
      heap.set(packedA, 0);
      heap.set(packedB, aFloats);
      const cAt = aFloats + bFloats;
      const start = values(m0 * n0, 5);
      heap.set(start, aFloats + bFloats);
      block(0, 4 * aFloats, 4 * cAt, slivers, panels, kc, 4 * ldc, load);
      // Packed layouts (pack.ts): A sliver s holds A[s·mr + r, t] at s·kc·mr + t·mr + r; B panel p holds
      // B[t, p·nr + j] at p·kc·nr + t·nr + j; C is row-major with row length ldc.
      const m = slivers * mr, n = panels * nr;
      const a = new Float32Array(m * kc), b = new Float32Array(kc * n);
      for (let s = 0; s < slivers; s++) for (let t = 0; t < kc; t++) for (let r = 0; r < mr; r++) a[(s * mr + r) * kc + t] = packedA[s * kc * mr + t * mr + r];
      for (let p = 0; p < panels; p++) for (let t = 0; t < kc; t++) for (let j = 0; j < nr; j++) b[t * n + p * nr + j] = packedB[p * kc * nr + t * nr + j];
      expectProduct(m, n, kc, rowMajor(a, kc), rowMajor(b, n), heap.slice(cAt, cAt + m * n), load ? start : undefined);
    });
  }
});

describe('float32 gemm on the WebAssembly SIMD kernel', () => {
  beforeAll(() => setGemmKernel('wasm'));

  it('is the kernel in use here (Node 20 has WebAssembly SIMD)', () => {
    expect(gemmKernel()).toBe('wasm');
  });

  // 4×8 tiles, k blocks of 256, row blocks of 72, bands of 288 rows and column blocks of 1024: shapes on
  // and off every edge.
  const shapes: Array<[number, number, number]> = [
    [1, 1, 1], [37, 53, 61], [6, 8, 8], [5, 7, 9], [13, 300, 17], [73, 257, 9], [3, 5, 1030], [145, 40, 70],
    // more rows than one band of C (288) and several k blocks: the band is summed in the kernel's memory
    [295, 520, 13], [577, 3, 20],
  ];
  it.each(shapes)('M=%i K=%i N=%i matches the float64 triple loop', (m, k, n) => {
    const a = rowMajor(values(m * k, m + 7 * k), k), b = rowMajor(values(k * n, n + 3 * k), n);
    const c = new Float32Array(m * n).fill(NaN); // overwritten, not added to
    gemm(m, n, k, a, b, c);
    expectProduct(m, n, k, a, b, c);
  });

  it('reads transposed and strided inputs, accumulates, and writes at an offset', () => {
    const m = 29, k = 41, n = 23;
    // A as the transpose of a k×m matrix; B with every other column of a k×2n matrix, from offset 1
    const a = transposed(rowMajor(values(k * m, 1), m));
    const b: MatrixRef = { data: values(k * 2 * n + 1, 2), offset: 1, rowStride: 2 * n, colStride: 2 };
    const start = values(m * n, 3);
    const c = new Float32Array(3 * m * n).fill(5);
    c.set(start, m * n);
    gemm(m, n, k, a, b, c, m * n, true);
    expectProduct(m, n, k, a, b, c.subarray(m * n, 2 * m * n), start);
    expect(c.subarray(0, m * n).every((x) => x === 5) && c.subarray(2 * m * n).every((x) => x === 5)).toBe(true);
  });

  it('accumulates over several bands and k blocks, reading A and B transposed (the packers\' other loop order)', () => {
    const m = 293, k = 530, n = 21;
    const a = transposed(rowMajor(values(k * m, 11), m)), b = transposed(rowMajor(values(n * k, 12), k));
    const start = values(m * n, 13);
    const c = Float32Array.from(start);
    gemm(m, n, k, a, b, c, 0, true);
    expectProduct(m, n, k, a, b, c, start);
  });

  it('reads a row-major B in place for a short A: bit for bit the packed product\'s rows', () => {
    // k = 600 (three k blocks), n = 998 (the last panel partial; rows of 1000 in place), 40 rows
    const k = 600, n = 998, tall = 70, short = 40;
    const aData = values(tall * k, 50), b = rowMajor(values(k * n, 51), n);
    const packed = new Float32Array(tall * n), inPlace = new Float32Array(short * n);
    gemm(tall, n, k, rowMajor(aData, k), b, packed);             // 70 rows: B packed as panels
    gemm(short, n, k, rowMajor(aData, k), b, inPlace);           // 40 rows: B read where it lies
    for (let i = 0; i < short * n; i++) if (!Object.is(inPlace[i], packed[i])) throw new Error(`C[${i}]: ${inPlace[i]} against ${packed[i]}`);
    expectProduct(short, n, k, rowMajor(aData, k), b, inPlace);
  });

  it('computes a short A times a transposed B (dy·Wᵀ) as (W·dyᵀ)ᵀ: bit for bit the product with B copied row-major', () => {
    // m = 7 rows, k = 300 (two k blocks), n = 1500 (more than one block of columns): transposeInstead's case
    const m = 7, k = 300, n = 1500;
    const a = rowMajor(values(m * k, 40), k), w = values(n * k, 41);
    const bT = transposed(rowMajor(w, k)), bCopied = new Float32Array(k * n);
    for (let t = 0; t < k; t++) for (let j = 0; j < n; j++) bCopied[t * n + j] = w[j * k + t];
    const viaTranspose = new Float32Array(m * n).fill(NaN), plain = new Float32Array(m * n);
    gemm(m, n, k, a, bT, viaTranspose);
    gemm(m, n, k, a, rowMajor(bCopied, n), plain);
    for (let i = 0; i < m * n; i++) if (!Object.is(viaTranspose[i], plain[i])) throw new Error(`C[${i}]: ${viaTranspose[i]} against ${plain[i]}`);
    expectProduct(m, n, k, a, bT, viaTranspose);
    // written at an offset, leaving the rest of C alone
    const offset = new Float32Array(m * n + 5).fill(-1);
    gemm(m, n, k, a, bT, offset, 5);
    expect(Array.from(offset.subarray(0, 5))).toEqual([-1, -1, -1, -1, -1]);
    expect(offset.subarray(5)).toEqual(plain);
  });

  it('inside whileBIsConstant, packs a constant B once and still multiplies by any other B correctly', () => {
    const m = 9, k = 37, n = 45;
    const u = rowMajor(values(k * n, 20), n), other = rowMajor(values(k * n, 21), n);
    const a = [1, 2, 3].map((seed) => rowMajor(values(m * k, 30 + seed), k));
    const c = new Float32Array(m * n);
    whileBIsConstant(u.data, () => {
      // u, another B (which overwrites the packed copy), u again, u through a fresh MatrixRef
      for (const [ai, b] of [[a[0], u], [a[1], other], [a[2], u], [a[0], { ...u }]] as const) {
        gemm(m, n, k, ai, b, c);
        expectProduct(m, n, k, ai, b, c);
      }
    });
    // the packed copy really is reused: a change the caller promised not to make goes unseen inside the scope
    const before = Float32Array.from(u.data as Float32Array);
    whileBIsConstant(u.data, () => {
      gemm(m, n, k, a[0], u, c);
      (u.data as Float32Array)[0] += 1;
      gemm(m, n, k, a[0], u, c);
    });
    expectProduct(m, n, k, a[0], rowMajor(before, n), c);
    // outside the scope a changed u is packed again
    (u.data as Float32Array)[0] += 1;
    gemm(m, n, k, a[0], u, c);
    expectProduct(m, n, k, a[0], u, c);
  });

  it('gives batched matmul the same results as the JS kernel (GRADLAB_GEMM=js), to float32 precision', () => {
    const x = randn([3, 2, 19, 33], { seed: 4 }), w = randn([2, 33, 27], { seed: 5 });
    const run = (name: 'wasm' | 'js'): Tensor => { setGemmKernel(name); return matmul(x, w); };
    const viaJs = run('js').dataSync(), viaWasm = run('wasm').dataSync();
    for (let i = 0; i < viaJs.length; i++) expect(abs(viaWasm[i] - viaJs[i])).toBeLessThan(1e-5 * sqrt(33) * 6);
  });

  it('leaves float64 on the JS kernel: bit for bit what setGemmKernel("js") gives', () => {
    const a = randn([20, 30], { seed: 6, dtype: 'float64' }), b = randn([30, 10], { seed: 7, dtype: 'float64' });
    const viaWasm = matmul(a, b).dataSync();
    setGemmKernel('js');
    const viaJs = matmul(a, b).dataSync();
    setGemmKernel('wasm');
    expect(Array.from(viaWasm)).toEqual(Array.from(viaJs));
  });
});

describe('float32 gemm on two threads, each with its own WebAssembly kernel', () => {
  // the shapes are below the default threshold: lower it so that they are split
  beforeAll(() => { setGemmKernel('wasm'); setNumThreads(2); setParallelMinWork(1 << 18); });

  const cases: Array<[string, number, number, number]> = [['row bands', 150, 70, 61], ['column bands', 4, 300, 260]];
  it.each(cases)('%s: [%i,%i] @ [%i,·], plain and accumulating', (_, m, k, n) => {
    expect(m * n * k).toBeGreaterThanOrEqual(parallelMinWork(true));
    const a = rowMajor(values(m * k, 8), k), b = transposed(rowMajor(values(n * k, 9), k));
    const start = values(m * n, 10);
    const c = new Float32Array(m * n);
    parallelGemm(m, n, k, a, b, c);
    expectProduct(m, n, k, a, b, c);
    c.set(start);
    parallelGemm(m, n, k, a, b, c, 0, true);
    expectProduct(m, n, k, a, b, c, start);
    expect(threadPoolActive()).toBe(true); // the workers really ran (needs the build: pnpm run build)
  });
});
