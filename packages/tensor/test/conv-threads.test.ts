/**
 * The float32 convolutions split between two threads (conv-threads.ts) against the same kernels on one
 * thread (bit for bit: each thread computes its own part of the output with the same code) and against
 * float64 (within float32's rounding). The workers run the compiled code in dist/: build first.
 */
import { conv2d, conv2dBackpropFilter, conv2dBackpropInput, conv2dBiasActivation, randn, setNumThreads, Tensor } from '@gradlab/tensor';
import type { Conv2DOptions } from '@gradlab/tensor';
import { setParallelMinWork, splitJobCount } from '../src/cpu/threads';
import { setConvPartsPolicy } from '../src/cpu/conv-threads';

type Shape4 = [number, number, number, number];

// The workers compute their parts (the default lets the calling thread take a part the worker has not
// started yet, which on these small cases would often leave the workers' code untested).
beforeAll(() => setConvPartsPolicy('workers'));
afterAll(() => { setNumThreads(1); setParallelMinWork(null); setConvPartsPolicy('first'); });

/** Run `op` on one thread, then on `threads` (2) with every size split; returns both results and whether the split happened. */
function oneThreadAndSplit(op: () => Tensor, threads = 2): { one: Float32Array; parallel: Float32Array; split: boolean } {
  setNumThreads(1);
  const one = op().dataSync() as Float32Array;
  setNumThreads(threads);
  setParallelMinWork(0);
  const before = splitJobCount();
  const parallel = op().dataSync() as Float32Array;
  const split = splitJobCount() > before;
  setParallelMinWork(null);
  return { one, parallel, split };
}

/** Every number the same, bit for bit (NaN-free inputs: Object.is tells 0 from −0 too). */
function expectBitIdentical(got: Float32Array, expected: Float32Array): void {
  expect(got.length).toBe(expected.length);
  for (let i = 0; i < got.length; i++) {
    if (!Object.is(got[i], expected[i])) throw new Error(`element ${i}: split ${got[i]}, one thread ${expected[i]}`);
  }
}

/**
 * Within float32 rounding of the float64 result: |got − ref| ≤ 1e-5·Σ|terms| + 1e-6, where Σ|terms| is
 * the same op on |inputs| in float64 (every product counted once, as a bound on the sums' rounding).
 */
function expectNearFloat64(got: ArrayLike<number>, ref: ArrayLike<number>, scale: ArrayLike<number>): void {
  expect(got.length).toBe(ref.length);
  for (let i = 0; i < ref.length; i++) {
    if (!(Math.abs(got[i] - ref[i]) <= 1e-5 * scale[i] + 1e-6)) throw new Error(`element ${i}: got ${got[i]}, float64 ${ref[i]} (Σ|terms| ${scale[i]})`);
  }
}

const f64 = (t: Tensor): Tensor => t.astype('float64');

// [what, x shape, filter shape, options]
const cases: Array<[string, Shape4, Shape4, Conv2DOptions]> = [
  ['C = 3, odd batch, valid', [3, 9, 11, 3], [3, 3, 3, 8], { padding: 'valid' }],
  ['C = 3, batch 1, same, stride 2', [1, 12, 10, 3], [3, 3, 3, 5], { padding: 'same', strides: 2 }],
  ['C = 32, batch 5, same', [5, 8, 8, 32], [3, 3, 32, 16], { padding: 'same' }],
  ['C = 32, batch 2, valid, stride 2', [2, 13, 13, 32], [3, 3, 32, 12], { padding: 'valid', strides: 2 }],
  ['C = 1, 5×3 window, strides [2, 1], same', [4, 11, 9, 1], [5, 3, 1, 4], { padding: 'same', strides: [2, 1] }],
  ['C = 3, 10 800 rows: more than one band of the kernel\'s memory', [3, 60, 60, 3], [3, 3, 3, 32], { padding: 'same' }],
  ['C = 32, 64 filters, 578 rows: three k blocks of the filter gradient', [2, 17, 17, 32], [3, 3, 32, 64], { padding: 'same' }],
];

describe.each(cases)('%s: x %j, filter %j, %j', (_what, xs, ws, options) => {
  const x = randn(xs, { seed: 1 }), w = randn(ws, { seed: 2 });
  const dy = randn(conv2d(x, w, options).shape, { seed: 3 });

  it('conv2d: two threads give the one-thread result bit for bit, and float64\'s within rounding', () => {
    const { one, parallel, split } = oneThreadAndSplit(() => conv2d(x, w, options));
    expect(split).toBe(true);
    expectBitIdentical(parallel, one);
    expectNearFloat64(parallel, conv2d(f64(x), f64(w), options).dataSync(), conv2d(f64(x).abs(), f64(w).abs(), options).dataSync());
  });

  it('conv2dBackpropInput: the same', () => {
    const { one, parallel, split } = oneThreadAndSplit(() => conv2dBackpropInput(dy, w, xs, options));
    expect(split).toBe(xs[0] >= 2); // split by images: one image stays on one thread
    expectBitIdentical(parallel, one);
    expectNearFloat64(parallel, conv2dBackpropInput(f64(dy), f64(w), xs, options).dataSync(), conv2dBackpropInput(f64(dy).abs(), f64(w).abs(), xs, options).dataSync());
  });

  it('conv2dBackpropFilter: the same', () => {
    const { one, parallel, split } = oneThreadAndSplit(() => conv2dBackpropFilter(x, dy, ws, options));
    expect(split).toBe(true);
    expectBitIdentical(parallel, one);
    expectNearFloat64(parallel, conv2dBackpropFilter(f64(x), f64(dy), ws, options).dataSync(), conv2dBackpropFilter(f64(x).abs(), f64(dy).abs(), ws, options).dataSync());
  });
});

/** The three kernels on one case (bias 8 filters wide, ReLU), as [name, op] rows for it.each. */
function threeKernels(xs: Shape4, ws: Shape4, options: Conv2DOptions, seed: number): Array<[string, () => Tensor]> {
  const x = randn(xs, { seed }), w = randn(ws, { seed: seed + 1 }), bias = randn([ws[3]], { seed: seed + 2 });
  const dy = randn(conv2d(x, w, options).shape, { seed: seed + 3 });
  return [
    ['conv2dBiasActivation', () => conv2dBiasActivation(x, w, bias, 'relu', options)],
    ['conv2dBackpropInput', () => conv2dBackpropInput(dy, w, xs, options)],
    ['conv2dBackpropFilter', () => conv2dBackpropFilter(x, dy, ws, options)],
  ];
}

describe('three threads (two workers, each with its own part of the shared buffers)', () => {
  it.each(threeKernels([5, 11, 9, 32], [3, 3, 32, 8], { padding: 'same' }, 9))('%s equals the one-thread result bit for bit', (_name, op) => {
    const { one, parallel, split } = oneThreadAndSplit(op, 3);
    expect(split).toBe(true);
    expectBitIdentical(parallel, one);
  });
});

describe('a worker\'s part done by the calling thread (as when the worker has not started it in time)', () => {
  afterAll(() => setConvPartsPolicy('workers'));
  it.each(threeKernels([3, 10, 9, 32], [3, 3, 32, 8], { padding: 'valid', strides: 2 }, 13))('%s: every part written where it belongs, bit for bit the one-thread result', (_name, op) => {
    for (const policy of ['caller', 'first'] as const) {
      setConvPartsPolicy(policy);
      const { one, parallel, split } = oneThreadAndSplit(op, 3);
      expect(split).toBe(true); // the job was posted ('caller': the workers found their parts taken)
      expectBitIdentical(parallel, one);
    }
  });

  it('refuses an unknown policy, naming the function', () => {
    expect(() => setConvPartsPolicy('both' as 'first')).toThrow(`setConvPartsPolicy: expected 'first', 'workers' or 'caller', got "both"`);
  });
});

describe('the fused epilogue on two threads', () => {
  it.each([
    ['bias and ReLU', true, 'relu'], ['bias only', true, 'linear'], ['ReLU only', false, 'relu'],
  ] as const)('%s: each thread applies it to its rows; bit for bit one thread\'s, and relu(conv + bias) in float64', (_what, withBias, activation) => {
    const xs: Shape4 = [3, 10, 9, 3], ws: Shape4 = [3, 3, 3, 8];
    const x = randn(xs, { seed: 4 }), w = randn(ws, { seed: 5 }), bias = withBias ? randn([8], { seed: 6 }) : null;
    const { one, parallel, split } = oneThreadAndSplit(() => conv2dBiasActivation(x, w, bias, activation, { padding: 'same' }));
    expect(split).toBe(true);
    expectBitIdentical(parallel, one);
    let ref = conv2d(f64(x), f64(w), { padding: 'same' });
    if (bias) ref = ref.add(f64(bias));
    if (activation === 'relu') ref = ref.relu();
    const scale = conv2d(f64(x).abs(), f64(w).abs(), { padding: 'same' }).add(bias ? f64(bias).abs() : 0);
    expectNearFloat64(parallel, ref.dataSync(), scale.dataSync());
    if (activation === 'relu') expect(Math.min(...parallel)).toBe(0); // negative sums were cut off
  });
});

describe('when a convolution stays on one thread', () => {
  const x = randn([2, 8, 8, 3], { seed: 7 }), w = randn([3, 3, 3, 4], { seed: 8 });

  it('below the split threshold (the default), and with threads off', () => {
    setNumThreads(2);
    setParallelMinWork(null);
    const before = splitJobCount();
    conv2d(x, w).dataSync(); // 2·6·6·27·4 multiply-adds, far below 2²⁵
    expect(splitJobCount()).toBe(before);
    setParallelMinWork(0);
    setNumThreads(1); // stops the pool: nothing is handed to a worker
    conv2d(x, w).dataSync();
    expect(splitJobCount()).toBe(0);
    setParallelMinWork(null);
  });

  it('float64 keeps its own path (the JavaScript kernel), still equal to float32 within rounding', () => {
    setNumThreads(2);
    setParallelMinWork(0);
    const y64 = conv2d(f64(x), f64(w)), y32 = conv2d(x, w);
    expect(y64.dtype).toBe('float64');
    expectNearFloat64(y32.dataSync(), y64.dataSync(), conv2d(f64(x).abs(), f64(w).abs()).dataSync());
    setParallelMinWork(null);
  });
});
