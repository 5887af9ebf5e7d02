import { randn, setNumThreads } from '@gradlab/tensor';
import { band, parallelGemm, threadPoolActive, parallelMinWork, setParallelMinWork, splitJobCount } from '../src/cpu/threads';
import { gemm } from '../src/cpu/gemm';
import { rowMajor, transposed } from '../src/cpu/pack';

afterAll(() => { setNumThreads(1); setParallelMinWork(null); });

describe('band', () => {
  it('splits 0…total into consecutive aligned pieces that cover it exactly', () => {
    for (const total of [1, 7, 8, 33, 100, 1000]) {
      for (const threads of [1, 2, 3, 4]) {
        let next = 0;
        for (let t = 0; t < threads; t++) {
          const [start, end] = band(total, threads, t, 4);
          expect(start).toBe(next);
          if (end < total) expect(end % 4).toBe(0);
          next = end;
        }
        expect(next).toBe(total);
      }
    }
  });
});

describe('parallelGemm on two threads equals the single-threaded gemm', () => {
  // the test shapes are far below the default threshold: lower it so that they are split
  beforeAll(() => { setNumThreads(2); setParallelMinWork(1 << 18); });

  const cases: Array<[string, number, number, number]> = [
    ['row bands (tall A)', 200, 96, 64],
    ['column bands (A of 4 rows)', 4, 256, 1024],
    ['odd sizes', 67, 131, 45],
  ];
  for (const [name, m, k, n] of cases) {
    it(`${name}: [${m},${k}] @ [${k},${n}], plain, accumulating and through a transposed view`, () => {
      expect(m * n * k).toBeGreaterThanOrEqual(parallelMinWork(true));
      const a = randn([m, k], { seed: m, dtype: 'float64' }).dataSync();
      const bT = randn([n, k], { seed: n, dtype: 'float64' }).dataSync(); // B stored transposed
      const start = randn([m, n], { seed: 3, dtype: 'float64' }).dataSync();
      for (const accumulate of [false, true]) {
        const expected = Float64Array.from(start), got = Float64Array.from(start);
        gemm(m, n, k, rowMajor(a, k), transposed(rowMajor(bT, k)), expected, 0, accumulate);
        parallelGemm(m, n, k, rowMajor(a, k), transposed(rowMajor(bT, k)), got, 0, accumulate);
        let worst = 0;
        for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - expected[i]));
        expect(worst).toBeLessThan(1e-9);
      }
      expect(threadPoolActive()).toBe(true); // the workers really ran
    });
  }

  it('reads A and B from an offset inside larger arrays, rows further apart than their length (float32 and float64)', () => {
    // the shared copy takes only the workers' rows of A: it must find them by the row stride, not the row length
    const m = 128, k = 64, n = 64, pad = 5;
    expect(m * n * k).toBeGreaterThanOrEqual(parallelMinWork(true)); // so that it is split
    for (const dtype of ['float32', 'float64'] as const) {
      const a = randn([m + 1, k + pad], { seed: 4, dtype }).dataSync(), b = randn([k + 1, n + pad], { seed: 5, dtype }).dataSync();
      const aRef = { data: a, offset: k + pad + 2, rowStride: k + pad, colStride: 1 };
      const bRef = { data: b, offset: n + pad + 1, rowStride: n + pad, colStride: 1 };
      const make = () => (dtype === 'float32' ? new Float32Array(m * n) : new Float64Array(m * n));
      const expected = make(), got = make();
      gemm(m, n, k, aRef, bRef, expected);
      parallelGemm(m, n, k, aRef, bRef, got);
      expect(threadPoolActive()).toBe(true);
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - expected[i]));
      expect(worst).toBeLessThan(dtype === 'float32' ? 1e-4 : 1e-9);
    }
  });

  it('writes at an offset inside a larger C and leaves the rest alone', () => {
    const m = 64, k = 128, n = 64;
    const a = randn([m, k], { seed: 1, dtype: 'float64' }).dataSync(), b = randn([k, n], { seed: 2, dtype: 'float64' }).dataSync();
    const c = new Float64Array(3 * m * n).fill(7), ref = new Float64Array(m * n);
    parallelGemm(m, n, k, rowMajor(a, k), rowMajor(b, n), c, m * n);
    gemm(m, n, k, rowMajor(a, k), rowMajor(b, n), ref);
    for (let i = 0; i < m * n; i++) expect(c[i]).toBe(7);
    for (let i = 0; i < m * n; i++) expect(Math.abs(c[m * n + i] - ref[i])).toBeLessThan(1e-9);
    for (let i = 2 * m * n; i < 3 * m * n; i++) expect(c[i]).toBe(7);
  });
});

describe('the split threshold', () => {
  afterAll(() => setParallelMinWork(null));

  it('keeps float32 products up to 256³ on one thread by default, and lower for the JavaScript kernel', () => {
    setParallelMinWork(null);
    expect(parallelMinWork(true)).toBeGreaterThan(256 ** 3);
    expect(parallelMinWork(false)).toBeLessThan(parallelMinWork(true));
    setParallelMinWork(1000);
    expect(parallelMinWork(true)).toBe(1000);
  });

  it('keeps a float32 product on one thread when gathering its transposed operand, or copying B for a short A, costs more than the second thread saves', () => {
    setNumThreads(2);
    setParallelMinWork(null);
    const values = (count: number, seed: number) => Float32Array.from(randn([count], { seed }).dataSync());
    /** [m,k]·[k,n] with B row-major or stored transposed: whether it was split, and whether it equals one thread's gemm. */
    const product = (m: number, k: number, n: number, bTransposed: boolean) => {
      const a = rowMajor(values(m * k, 1), k), bData = values(k * n, 2);
      const b = bTransposed ? transposed(rowMajor(bData, k)) : rowMajor(bData, n);
      const expected = new Float32Array(m * n), got = new Float32Array(m * n);
      gemm(m, n, k, a, b, expected);
      const before = splitJobCount();
      parallelGemm(m, n, k, a, b, got);
      return { split: splitJobCount() > before, same: got.every((v, i) => Object.is(v, expected[i])) };
    };
    // a Dense layer's input gradient dy·Wᵀ on the image model: 51 M multiply-adds, above the size threshold
    expect(32 * 128 * 12544).toBeGreaterThanOrEqual(parallelMinWork(true));
    expect(product(32, 128, 12544, true)).toEqual({ split: false, same: true });
    // the same with W row-major: a short A reads B in place on one thread, which the copy of B for a worker does not repay
    expect(product(32, 128, 12544, false)).toEqual({ split: false, same: true });
    expect(product(128, 128, 4096, false)).toEqual({ split: true, same: true });  // a taller A splits (67 M multiply-adds)
    expect(product(256, 256, 512, true)).toEqual({ split: true, same: true });   // more work per gathered number
    setParallelMinWork(1 << 18); // a forced threshold splits by size alone (tests of the threaded path rely on it)
    expect(product(32, 128, 12544, true)).toEqual({ split: true, same: true });
    setParallelMinWork(null);
  });

  it('refuses a bad threshold, naming the function', () => {
    expect(() => setParallelMinWork(-1)).toThrow(/setParallelMinWork.*-1/);
    expect(() => setParallelMinWork(1.5)).toThrow(/setParallelMinWork/);
  });
});
