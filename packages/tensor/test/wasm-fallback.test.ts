/**
 * Max pooling (2×2, stride 2), reluGrad, Adam's update, column sums, BatchNorm and the per-column
 * mulAdd run on small WebAssembly SIMD kernels in float32, and on JavaScript loops where the engine
 * has no WebAssembly SIMD (or GRADLAB_POOL=js, GRADLAB_RELU_GRAD=js, GRADLAB_ADAM=js, GRADLAB_SUM=js,
 * GRADLAB_BATCHNORM=js, GRADLAB_MUL_ADD=js).
 * Both paths must give the same bits. A second copy of the library, loaded with the opt-outs set, takes
 * the JavaScript loops; the values come from a small set full of ties, signed zeros and NaNs.
 */
import * as lib from '@gradlab/tensor';

type Lib = typeof lib;
const OPT_OUTS = ['GRADLAB_POOL', 'GRADLAB_RELU_GRAD', 'GRADLAB_ADAM', 'GRADLAB_SUM', 'GRADLAB_BATCHNORM', 'GRADLAB_MUL_ADD'];

/** The library as loaded with the WebAssembly kernels refused (each reads its opt-out on first use). */
function withoutWasm<T>(run: (js: Lib) => T): T {
  for (const name of OPT_OUTS) process.env[name] = 'js';
  try {
    let result: T | undefined;
    jest.isolateModules(() => { result = run(require('@gradlab/tensor') as Lib); }); // eslint-disable-line @typescript-eslint/no-require-imports
    return result as T;
  } finally {
    for (const name of OPT_OUTS) delete process.env[name];
  }
}

const SET = [-1, -0, 0, 0.5, 2, NaN, Infinity];
function values(n: number, seed: number): Float32Array {
  const rng = new lib.Random(seed);
  return Float32Array.from({ length: n }, () => SET[rng.int(SET.length)]);
}

/** Bit patterns, so that −0, +0 and NaNs compare exactly. */
const bits = (x: Float32Array) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));

describe('the WebAssembly kernels and the JavaScript loops give the same bits', () => {
  // [2, 7, 9, 8]: odd height and width (a last row and column no window reads), 8 channels (two vectors)
  const shape = [2, 7, 9, 8];
  const size = shape.reduce((p, d) => p * d, 1);
  const x = values(size, 1), dy = values(2 * 3 * 4 * 8, 2), g = values(size, 3);

  const run = (l: Lib) => {
    const xt = l.tensor(x, { shape }), dyt = l.tensor(dy, { shape: [2, 3, 4, 8] });
    return {
      pooled: l.maxPool2d(xt, { poolSize: 2 }).dataSync() as Float32Array,
      dx: l.maxPool2dBackward(dyt, xt, { poolSize: 2 }).dataSync() as Float32Array,
      relu: l.binary('reluGrad', l.tensor(g, { shape }), xt).dataSync() as Float32Array,
      adam: adamStep(l),
      sums: l.sum(l.tensor(sumInput, { shape: [1031, 8] }), 0).dataSync() as Float32Array,
      batchNorm: batchNormSteps(l),
      mulAdd: l.mulAdd(l.tensor(mulAddInput, { shape: [1031, 8] }), l.tensor(scale), l.tensor(shift)).dataSync() as Float32Array,
    };
  };
  // BatchNorm on [1031, 8]: 1,031 rows, not a multiple of four, so the last three go one at a time
  const [scale, shift] = [9, 10].map((seed) => lib.randn([8], { seed }).dataSync() as Float32Array);
  const mulAddInput = values(1031 * 8, 12); // ties, signed zeros, NaN and infinities
  const bnGradient = lib.randn([1031 * 8], { seed: 11 }).dataSync() as Float32Array;
  const batchNormSteps = (l: Lib) => {
    const x = l.tensor(sumInput.map((v, i) => 3 * v + (i % 8)), { shape: [1031, 8] }), gamma = l.tensor(scale), beta = l.tensor(shift);
    return [null, rowMask(l)].flatMap((mask) => {
      const out = l.batchNormForward(x, gamma, beta, 1e-3, mask);
      const grads = l.batchNormBackward(l.tensor(bnGradient, { shape: [1031, 8] }), out.xHat, out.invstd, gamma, mask);
      return [out.y, out.xHat, out.mean, out.variance, out.invstd, grads.dx, grads.dGamma, grads.dBeta].map((t) => t.dataSync() as Float32Array);
    });
  };
  // a masked batch: its statistics and dx take the loops, x̂, y and the backward's sums the kernel
  const rowMask = (l: Lib) => l.tensor(Float32Array.from({ length: 1031 }, (_, r) => (r % 5 === 3 ? 0 : 1)));
  const sumInput = lib.randn([1031 * 8], { seed: 8 }).dataSync() as Float32Array;
  // Adam on ordinary numbers (an odd count, so the kernel's last pair is half used)
  const [w, grad, m, v] = [4, 5, 6, 7].map((seed) => lib.randn([1001], { seed }).dataSync() as Float32Array);
  const hyper = { lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step: 3 };
  const adamStep = (l: Lib) => {
    const out = l.adamUpdate(l.tensor(w), l.tensor(grad), l.tensor(m), l.tensor(v.map(Math.abs)), hyper);
    return [out.w, out.m, out.v].map((t) => t.dataSync() as Float32Array);
  };

  it('max pooling forward and backward, reluGrad, Adam, column sums, BatchNorm, mulAdd', () => {
    const wasm = run(lib);
    const js = withoutWasm(run);
    expect(bits(js.pooled)).toEqual(bits(wasm.pooled));
    expect(bits(js.dx)).toEqual(bits(wasm.dx));
    expect(bits(js.relu)).toEqual(bits(wasm.relu));
    js.adam.forEach((a, k) => expect(bits(a)).toEqual(bits(wasm.adam[k])));
    expect(bits(js.sums)).toEqual(bits(wasm.sums));
    js.batchNorm.forEach((a, k) => expect(bits(a)).toEqual(bits(wasm.batchNorm[k])));
    expect(bits(js.mulAdd)).toEqual(bits(wasm.mulAdd));
  });
});
