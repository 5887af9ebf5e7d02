import {
  conv2d, conv2dBackpropFilter, conv2dBackpropInput, conv2dInfo, fromTypedArray, randn, zeros, Tensor,
} from '@gradlab/tensor';
import type { Conv2DOptions } from '@gradlab/tensor';

type Shape4 = [number, number, number, number];

/** Output size and leading pad of one axis, written out from TF's rule independently of ops/conv.ts. */
function axis(size: number, k: number, s: number, padding: 'valid' | 'same'): { out: number; pad: number } {
  if (padding === 'valid') return { out: Math.floor((size - k) / s) + 1, pad: 0 };
  const out = Math.ceil(size / s);
  return { out, pad: Math.floor(Math.max((out - 1) * s + k - size, 0) / 2) };
}

/**
 * Direct-loop convolution in float64: y[n,oy,ox,f] = Σ x[n, oy·sh+ky−pt, ox·sw+kx−pl, c] · w[ky,kx,c,f],
 * skipping taps that fall outside the image.
 */
function naiveConv(x: ArrayLike<number>, xs: Shape4, w: ArrayLike<number>, ws: Shape4, sh: number, sw: number, padding: 'valid' | 'same') {
  const [N, H, W, C] = xs, [KH, KW, , F] = ws;
  const ay = axis(H, KH, sh, padding), ax = axis(W, KW, sw, padding);
  const y = new Float64Array(N * ay.out * ax.out * F);
  for (let n = 0; n < N; n++) for (let oy = 0; oy < ay.out; oy++) for (let ox = 0; ox < ax.out; ox++) for (let f = 0; f < F; f++) {
    let s = 0;
    for (let ky = 0; ky < KH; ky++) for (let kx = 0; kx < KW; kx++) {
      const iy = oy * sh + ky - ay.pad, ix = ox * sw + kx - ax.pad;
      if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
      for (let c = 0; c < C; c++) s += x[((n * H + iy) * W + ix) * C + c] * w[((ky * KW + kx) * C + c) * F + f];
    }
    y[((n * ay.out + oy) * ax.out + ox) * F + f] = s;
  }
  return { y, shape: [N, ay.out, ax.out, F] };
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol * (1 + Math.abs(expected[i])))) {
      throw new Error(`element ${i}: got ${actual[i]}, expected ${expected[i]} (tol ${tol})`);
    }
  }
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };

// [x shape, filter shape, strides, padding]
const cases: [Shape4, Shape4, [number, number], 'valid' | 'same'][] = [
  [[2, 7, 9, 3], [3, 3, 3, 4], [1, 1], 'valid'],
  [[2, 7, 9, 3], [3, 3, 3, 4], [1, 1], 'same'],
  [[1, 8, 8, 2], [3, 3, 2, 5], [2, 2], 'same'],   // even input, stride 2: the extra pad goes after
  [[1, 9, 7, 2], [3, 2, 2, 3], [2, 2], 'valid'],  // non-square kernel
  [[3, 6, 11, 1], [2, 4, 1, 2], [1, 3], 'same'],  // different strides per axis
  [[2, 4, 4, 3], [5, 5, 3, 2], [1, 1], 'same'],   // kernel larger than the image
  [[2, 5, 6, 4], [1, 1, 4, 3], [1, 1], 'valid'],  // 1×1: the input is its own patch matrix
  [[1, 5, 6, 4], [1, 1, 4, 3], [2, 2], 'valid'],  // 1×1 with stride: the patch path
];

describe('conv2d forward', () => {
  it.each(cases)('x %j, w %j, strides %j, %s matches direct loops', (xs, ws, strides, padding) => {
    const x = randn(xs, { seed: 1 }), w = randn(ws, { seed: 2 });
    const y = conv2d(x, w, { strides, padding });
    const ref = naiveConv(x.dataSync(), xs, w.dataSync(), ws, strides[0], strides[1], padding);
    expect(y.shape).toEqual(ref.shape);
    expect(y.dtype).toBe('float32');
    expectClose(y.dataSync(), ref.y, 1e-5);
  });

  it('spans several patch-matrix chunks (10 800 rows of 27)', () => {
    const x = randn([3, 60, 60, 3], { seed: 3 }), w = randn([3, 3, 3, 2], { seed: 4 });
    const y = conv2d(x, w, { padding: 'same' });
    expectClose(y.dataSync(), naiveConv(x.dataSync(), [3, 60, 60, 3], w.dataSync(), [3, 3, 3, 2], 1, 1, 'same').y, 1e-5);
  });

  it('float32: spans several bands of the WebAssembly kernel\'s memory (10 800 rows of 27 × 32 filters: 9 216 a band)', () => {
    const x = randn([3, 60, 60, 3], { seed: 13 }), w = randn([3, 3, 3, 32], { seed: 14 });
    const y = conv2d(x, w, { padding: 'same' });
    expectClose(y.dataSync(), naiveConv(x.dataSync(), [3, 60, 60, 3], w.dataSync(), [3, 3, 3, 32], 1, 1, 'same').y, 1e-5);
  });

  it('accepts strided views and keeps float64', () => {
    const xBase = randn([2, 3, 6, 5], { seed: 5, dtype: 'float64' });
    const x = xBase.transpose([0, 2, 3, 1]);         // [2, 6, 5, 3], not contiguous
    const w = randn([2, 2, 3, 2], { seed: 6, dtype: 'float64' });
    const y = conv2d(x, w, { strides: 2, padding: 'same' });
    expect(y.dtype).toBe('float64');
    expectClose(y.dataSync(), naiveConv(x.contiguous().dataSync(), [2, 6, 5, 3], w.dataSync(), [2, 2, 3, 2], 2, 2, 'same').y, 1e-12);
  });
});

describe('conv2d gradients (float64, against finite differences of the forward)', () => {
  // L = Σ dy · conv2d(x, w). Central differences (L(x + h·e_i) − L(x − h·e_i)) / 2h give ∂L/∂x_i; L is
  // linear in x (and in w), so the difference quotient is exact up to rounding.
  it.each(cases)('x %j, w %j, strides %j, %s', (xs, ws, strides, padding) => {
    const opts: Conv2DOptions = { strides, padding };
    const x = randn(xs, { seed: 7, dtype: 'float64' }), w = randn(ws, { seed: 8, dtype: 'float64' });
    const y = conv2d(x, w, opts);
    const dy = randn(y.shape, { seed: 9, dtype: 'float64' });
    const loss = (xv: Tensor, wv: Tensor) => dot(conv2d(xv, wv, opts).dataSync(), dy.dataSync());
    const numeric = (t: Tensor, at: (p: Tensor) => number) => {
      const base = t.toTypedArray() as Float64Array, h = 1e-3;
      return Array.from(base, (v, i) => {
        const plus = base.slice(); plus[i] = v + h;
        const minus = base.slice(); minus[i] = v - h;
        return (at(fromTypedArray(plus, t.shape)) - at(fromTypedArray(minus, t.shape))) / (2 * h);
      });
    };
    const dx = conv2dBackpropInput(dy, w, xs, opts);
    expect(dx.shape).toEqual(xs);
    expectClose(dx.dataSync(), numeric(x, (xp) => loss(xp, w)), 1e-8);
    const dw = conv2dBackpropFilter(x, dy, ws, opts);
    expect(dw.shape).toEqual(ws);
    expectClose(dw.dataSync(), numeric(w, (wp) => loss(x, wp)), 1e-8);
  });

  it('float32 input gradient over several bands of dcols (1 152 rows of 288 entries: 1 008 a band) matches direct loops', () => {
    const xs: Shape4 = [2, 26, 26, 32], ws: Shape4 = [3, 3, 32, 8];
    const w = randn(ws, { seed: 15 });
    const dy = randn([2, 24, 24, 8], { seed: 16 });
    const dx = conv2dBackpropInput(dy, w, xs, { padding: 'valid' });
    // dx[n, oy+ky, ox+kx, c] = Σ dy[n, oy, ox, f] · w[ky, kx, c, f], in float64
    const dys = dy.dataSync(), wv = w.dataSync(), ref = new Float64Array(2 * 26 * 26 * 32);
    for (let n = 0; n < 2; n++) for (let oy = 0; oy < 24; oy++) for (let ox = 0; ox < 24; ox++) for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) {
      for (let c = 0; c < 32; c++) {
        let s = 0;
        for (let f = 0; f < 8; f++) s += dys[((n * 24 + oy) * 24 + ox) * 8 + f] * wv[((ky * 3 + kx) * 32 + c) * 8 + f];
        ref[((n * 26 + oy + ky) * 26 + ox + kx) * 32 + c] += s;
      }
    }
    expectClose(dx.dataSync(), ref, 1e-5);
  });

  it('backprop kernels agree with the adjoint identity over several chunks (float32)', () => {
    // ⟨dy, conv(x, w)⟩ = ⟨conv2dBackpropInput(dy), x⟩ = ⟨conv2dBackpropFilter(x, dy), w⟩
    const opts: Conv2DOptions = { strides: [2, 1], padding: 'same' };
    const x = randn([5, 61, 80, 3], { seed: 10 }), w = randn([3, 3, 3, 4], { seed: 11 }); // 5·31·80 = 12 400 rows: two chunks
    const y = conv2d(x, w, opts);
    const dy = randn(y.shape, { seed: 12 });
    const forward = dot(y.dataSync(), dy.dataSync());
    expectClose([dot(conv2dBackpropInput(dy, w, x.shape, opts).dataSync(), x.dataSync())], [forward], 1e-4);
    expectClose([dot(conv2dBackpropFilter(x, dy, w.shape, opts).dataSync(), w.dataSync())], [forward], 1e-4);
  });
});

/**
 * Direct-loop filter gradient in float64: dw[ky,kx,c,f] = Σ over (n, oy, ox) of x[n, oy·sh+ky−pt, ox·sw+kx−pl, c] ·
 * dy[n, oy, ox, f], taps outside the image skipped; also Σ|terms| per entry, which bounds float32's rounding.
 */
function naiveFilterGrad(x: ArrayLike<number>, xs: Shape4, dy: ArrayLike<number>, ws: Shape4, sh: number, sw: number, padding: 'valid' | 'same') {
  const [N, H, W, C] = xs, [KH, KW, , F] = ws;
  const ay = axis(H, KH, sh, padding), ax = axis(W, KW, sw, padding);
  const dw = new Float64Array(KH * KW * C * F), scale = new Float64Array(dw.length);
  for (let n = 0; n < N; n++) for (let oy = 0; oy < ay.out; oy++) for (let ox = 0; ox < ax.out; ox++) {
    for (let ky = 0; ky < KH; ky++) for (let kx = 0; kx < KW; kx++) {
      const iy = oy * sh + ky - ay.pad, ix = ox * sw + kx - ax.pad;
      if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
      for (let c = 0; c < C; c++) for (let f = 0; f < F; f++) {
        const term = x[((n * H + iy) * W + ix) * C + c] * dy[((n * ay.out + oy) * ax.out + ox) * F + f];
        dw[((ky * KW + kx) * C + c) * F + f] += term;
        scale[((ky * KW + kx) * C + c) * F + f] += Math.abs(term);
      }
    }
  }
  return { dw, scale };
}

describe('float32 filter gradient (implicit gemm on the WebAssembly kernel) against a float64 loop', () => {
  // Float32 sums of `rows` terms round at each step: |error| ≤ ~u·√rows·Σ|terms| (u = 2⁻²⁴); 1e-5·Σ|terms| is far above that.
  const filterCases: [string, Shape4, Shape4, [number, number], 'valid' | 'same'][] = [
    ...cases.map(([xs, ws, st, pad]): [string, Shape4, Shape4, [number, number], 'valid' | 'same'] => ['small case', xs, ws, st, pad]),
    ['first layer, K = 27, 4 k blocks of 256 rows, the last one short', [2, 20, 20, 3], [3, 3, 3, 32], [1, 1], 'same'],
    ['K = 27, stride 2, valid, 12 filters (a part-filled panel of 8)', [3, 31, 33, 3], [3, 3, 3, 12], [2, 2], 'valid'],
    ['K = 75 (5×5×3): two MC blocks of 72 rows, the second 3 rows + padding', [2, 17, 15, 3], [5, 5, 3, 8], [1, 1], 'same'],
    ['K = 288 (3×3×32): four MC blocks, two k blocks, 64 filters', [1, 17, 17, 32], [3, 3, 32, 64], [1, 1], 'same'],
    ['K = 2 160 (3×3×240): too big for one k block of slivers, the chunked path', [1, 6, 6, 240], [3, 3, 240, 4], [1, 1], 'same'],
  ];
  it.each(filterCases)('%s: x %j, w %j, strides %j, %s', (_what, xs, ws, strides, padding) => {
    const x = randn(xs, { seed: 17 });
    const dy = randn(conv2d(x, zeros(ws), { strides, padding }).shape, { seed: 18 });
    const dw = conv2dBackpropFilter(x, dy, ws, { strides, padding });
    expect(dw.shape).toEqual(ws);
    expect(dw.dtype).toBe('float32');
    const ref = naiveFilterGrad(x.dataSync(), xs, dy.dataSync(), ws, strides[0], strides[1], padding);
    const got = dw.dataSync();
    for (let i = 0; i < ref.dw.length; i++) {
      if (!(Math.abs(got[i] - ref.dw[i]) <= 1e-5 * ref.scale[i] + 1e-7)) {
        throw new Error(`dw element ${i}: got ${got[i]}, expected ${ref.dw[i]} (Σ|terms| ${ref.scale[i]})`);
      }
    }
  });
});

describe('conv2dInfo', () => {
  it("follows TF's 'same' rule", () => {
    // in 5, k 3, s 2: out = ceil(5/2) = 3, total pad = (3−1)·2 + 3 − 5 = 2 → 1 before, 1 after
    expect(conv2dInfo('conv2d', [1, 5, 5, 1], [3, 3, 1, 1], { strides: 2, padding: 'same' }))
      .toMatchObject({ outHeight: 3, padTop: 1, padBottom: 1 });
    // in 6, k 3, s 2: out = 3, total pad = (3−1)·2 + 3 − 6 = 1 → 0 before, 1 after
    expect(conv2dInfo('conv2d', [1, 6, 6, 1], [3, 3, 1, 1], { strides: 2, padding: 'same' }))
      .toMatchObject({ outWidth: 3, padLeft: 0, padRight: 1 });
    // in 7, k 1, s 3: out = 3, (3−1)·3 + 1 − 7 = 0 → no padding
    expect(conv2dInfo('conv2d', [1, 7, 7, 1], [1, 1, 1, 1], { strides: 3, padding: 'same' }))
      .toMatchObject({ outHeight: 3, padTop: 0, padBottom: 0 });
  });
  it("'valid' is floor((in − k)/s) + 1", () => {
    // (64 − 3)/2 = 30.5 → 30, + 1 = 31
    expect(conv2dInfo('conv2d', [32, 64, 64, 3], [3, 3, 3, 32], { strides: 2 })).toMatchObject({ outHeight: 31, outWidth: 31, outChannels: 32 });
  });
});

describe('conv2d errors name the op and the shapes', () => {
  it('channel mismatch', () => {
    expect(() => conv2d(zeros([32, 64, 64, 3]), zeros([3, 3, 4, 32])))
      .toThrow('conv2d: input [32,64,64,3] has 3 channels, kernel [3,3,4,32] expects 4');
  });
  it('ranks', () => {
    expect(() => conv2d(zeros([64, 64, 3]), zeros([3, 3, 3, 8]))).toThrow('conv2d: input [64,64,3] must have rank 4');
    expect(() => conv2d(zeros([1, 8, 8, 3]), zeros([3, 3, 3]))).toThrow('conv2d: kernel [3,3,3] must have rank 4');
  });
  it('input smaller than the window', () => {
    expect(() => conv2d(zeros([1, 2, 2, 1]), zeros([3, 3, 1, 1]))).toThrow("conv2d: input [1,2,2,1] is smaller than the 3x3 window with 'valid' padding");
  });
  it('bad options', () => {
    expect(() => conv2d(zeros([1, 4, 4, 1]), zeros([3, 3, 1, 1]), { strides: 0 })).toThrow('conv2d: strides must be a positive integer or a pair of them, got 0');
    expect(() => conv2d(zeros([1, 4, 4, 1]), zeros([3, 3, 1, 1]), { padding: 'full' as 'same' })).toThrow("conv2d: padding must be 'valid' or 'same', got 'full'");
  });
  it('gradient shapes', () => {
    expect(() => conv2dBackpropInput(zeros([1, 3, 3, 2]), zeros([3, 3, 1, 2]), [1, 4, 4, 1]))
      .toThrow('conv2dBackpropInput: dy has shape [1,3,3,2], expected [1,2,2,2]');
    expect(() => conv2dBackpropFilter(zeros([1, 4, 4, 1]), zeros([1, 2, 2, 3]), [3, 3, 1, 2]))
      .toThrow('conv2dBackpropFilter: dy has shape [1,2,2,3], expected [1,2,2,2]');
  });
});
