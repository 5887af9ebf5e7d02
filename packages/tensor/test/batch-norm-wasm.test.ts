/**
 * BatchNorm's float32 kernels (forward and backward, wasm/batch-norm-f32.ts) and the per-column mulAdd
 * (wasm/mul-add-f32.ts) on shapes large enough to take WebAssembly and to cross its bands of 2^15
 * numbers: two full bands and 7 more rows (never a multiple of four). C = 3 is odd and takes the
 * JavaScript loops; C = 4, 32, 64 take the kernels. The references are plain float64 loops written
 * here; wasm-fallback.test.ts checks that the kernels and the JavaScript loops give the same bits.
 */
import { batchNormBackward, batchNormForward, mulAdd, randn, tensor } from '@gradlab/tensor';
import { columnSumsWasm } from '../src/cpu/wasm/batch-norm-f32';

const { abs, fround, sqrt } = Math; // hoisted: global Math lookups are slow inside jest's sandbox

/** Rows of two whole bands (the kernels' bands hold whole groups of four rows) and 7 more. */
const rowsFor = (C: number) => 2 * Math.floor((1 << 15) / C / 4) * 4 + 7;
const values = (n: number, seed: number, scale = 1, offset = 0) =>
  (randn([n], { seed }).dataSync() as Float32Array).map((v) => offset + scale * v);

function expectNear(got: ArrayLike<number>, want: ArrayLike<number>, tolerance: (i: number) => number, what: string): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!(abs(got[i] - want[i]) <= tolerance(i))) throw new Error(`${what}[${i}]: got ${got[i]}, expected ${want[i]} (±${tolerance(i)})`);
  }
}

describe.each([3, 4, 32, 64])('float32 BatchNorm, C = %i, against float64 references', (C) => {
  const M = rowsFor(C), eps = 1e-3;
  // an offset of 100 against a spread of 2: a one-pass E[x²] − E[x]² would lose the variance's digits
  const x = values(M * C, C, 2, 100), dy = values(M * C, C + 1, 0.1);
  const gamma = values(C, C + 2, 0.5, 1), beta = values(C, C + 3);
  const xt = tensor(x, { shape: [M, C] }), gt = tensor(gamma), bt = tensor(beta);
  const out = batchNormForward(xt, gt, bt, eps, null);

  // float64 statistics: mean, then the second pass about it
  const mean = new Float64Array(C), variance = new Float64Array(C);
  for (let i = 0; i < M * C; i++) mean[i % C] += x[i];
  for (let c = 0; c < C; c++) mean[c] /= M;
  for (let i = 0; i < M * C; i++) variance[i % C] += (x[i] - mean[i % C]) ** 2;
  for (let c = 0; c < C; c++) variance[c] /= M;
  const invstd = variance.map((v) => 1 / sqrt(v + eps));

  it('the statistics: float32 roundings of float64 sums (any order), so within a few units of 2⁻²⁴', () => {
    const u = 2 ** -23;
    expectNear(out.mean.dataSync(), mean, (c) => u * abs(mean[c]), 'mean');
    expectNear(out.variance.dataSync(), variance, (c) => u * variance[c], 'variance');
    expectNear(out.invstd.dataSync(), invstd, (c) => 2 * u * invstd[c], 'invstd');
  });

  it('x̂ = (x − mean)·invstd and y = γ·x̂ + β', () => {
    const xHat = Float64Array.from(x, (v, i) => (v - mean[i % C]) * invstd[i % C]);
    // x̂ carries invstd's float32 rounding and its own, and (x − mean) the mean's relative error ~1e-16·100
    expectNear(out.xHat.dataSync(), xHat, (i) => 4e-7 * abs(xHat[i]) + 1e-10, 'xHat');
    const got = out.xHat.dataSync(); // y is γ times the x̂ that is stored
    expectNear(out.y.dataSync(), Float64Array.from(got, (h, i) => gamma[i % C] * h + beta[i % C]),
      (i) => 2 ** -24 * (abs(gamma[i % C] * got[i]) + abs(beta[i % C])), 'y');
  });

  it('backward: dβ = Σ dy, dγ = Σ dy·x̂, dx = γ·invstd·(dy − dβ/N − x̂·dγ/N)', () => {
    const xHat = out.xHat.dataSync(), s = out.invstd.dataSync();
    const grads = batchNormBackward(tensor(dy, { shape: [M, C] }), out.xHat, out.invstd, gt, null);
    const dBeta = new Float64Array(C), dGamma = new Float64Array(C), scale = new Float64Array(C);
    for (let i = 0; i < M * C; i++) { dBeta[i % C] += dy[i]; dGamma[i % C] += dy[i] * xHat[i]; scale[i % C] += abs(dy[i] * xHat[i]) + abs(dy[i]); }
    expectNear(grads.dBeta.dataSync(), dBeta, (c) => 2 ** -24 * abs(dBeta[c]) + 1e-12 * scale[c], 'dBeta');
    expectNear(grads.dGamma.dataSync(), dGamma, (c) => 2 ** -24 * abs(dGamma[c]) + 1e-12 * scale[c], 'dGamma');
    const dx = Float64Array.from(dy, (g, i) => { const c = i % C; return gamma[c] * s[c] * (g - dBeta[c] / M - xHat[i] * dGamma[c] / M); });
    // the float32 rounding of dx, and float32 dβ and dγ feed nothing here (the kernel keeps them in float64)
    expectNear(grads.dx.dataSync(), dx, (i) => 2 ** -23 * abs(dx[i]) + 1e-9 * abs(gamma[i % C] * s[i % C]), 'dx');
  });
});

describe.each([3, 4, 32, 64])('float32 mulAdd with one scale and shift per column, C = %i', (C) => {
  it('is fround(fround(x·s) + t), the bits of x.mul(s).add(t)', () => {
    const M = rowsFor(C), x = values(M * C, 10 + C), s = values(C, 20 + C), t = values(C, 30 + C);
    const want = Float32Array.from(x, (v, i) => fround(fround(v * s[i % C]) + t[i % C]));
    const got = mulAdd(tensor(x, { shape: [M, C] }), tensor(s), tensor(t)).dataSync() as Float32Array;
    const gotBits = new Uint32Array(got.buffer, got.byteOffset, got.length), wantBits = new Uint32Array(want.buffer);
    const first = wantBits.findIndex((b, i) => gotBits[i] !== b);
    expect(first === -1 ? 'all equal' : `[${first}]: got ${got[first]}, expected ${want[first]}`).toBe('all equal');
    expect(got.length).toBe(want.length);
  });
});

it('the BatchNorm kernel runs here (Node has WebAssembly SIMD), so the tests above took it', () => {
  expect(columnSumsWasm(new Float32Array(4096), 32, new Float64Array(32))).toBe(process.env.GRADLAB_BATCHNORM !== 'js');
});
