import {
  avgPool2d, avgPool2dBackward, fromTypedArray, maxPool2d, maxPool2dBackward, randn, randint, tensor, zeros, Tensor,
} from '@gradlab/tensor';
import type { Pool2DOptions } from '@gradlab/tensor';

type Shape4 = [number, number, number, number];

/**
 * Direct-loop pooling in float64, written from the definition: walk the whole window (padding
 * included) and skip the positions outside the image. Returns values, each output's input indices
 * (in window order) and the shape.
 */
function naivePool(x: ArrayLike<number>, [N, H, W, C]: Shape4, [ph, pw]: [number, number], [sh, sw]: [number, number], padding: 'valid' | 'same') {
  const geometry = (size: number, k: number, s: number) => {
    if (padding === 'valid') return { out: Math.floor((size - k) / s) + 1, pad: 0 };
    const out = Math.ceil(size / s);
    return { out, pad: Math.floor(Math.max((out - 1) * s + k - size, 0) / 2) };
  };
  const gy = geometry(H, ph, sh), gx = geometry(W, pw, sw);
  const windows: number[][] = [];
  for (let n = 0; n < N; n++) for (let oy = 0; oy < gy.out; oy++) for (let ox = 0; ox < gx.out; ox++) for (let c = 0; c < C; c++) {
    const members: number[] = [];
    for (let ky = 0; ky < ph; ky++) for (let kx = 0; kx < pw; kx++) {
      const iy = oy * sh + ky - gy.pad, ix = ox * sw + kx - gx.pad;
      if (iy >= 0 && iy < H && ix >= 0 && ix < W) members.push(((n * H + iy) * W + ix) * C + c);
    }
    windows.push(members);
  }
  const max = windows.map((m) => Math.max(...m.map((i) => x[i])));
  const avg = windows.map((m) => m.reduce((s, i) => s + x[i], 0) / m.length);
  return { windows, max, avg, shape: [N, gy.out, gx.out, C] };
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

/** Central differences of t ↦ at(t), entry by entry. */
function numericGradient(t: Tensor, at: (p: Tensor) => number, h = 1e-6): number[] {
  const base = t.toTypedArray() as Float64Array;
  return Array.from(base, (v, i) => {
    const plus = base.slice(); plus[i] = v + h;
    const minus = base.slice(); minus[i] = v - h;
    return (at(fromTypedArray(plus, t.shape)) - at(fromTypedArray(minus, t.shape))) / (2 * h);
  });
}

// [x shape, pool size, strides, padding]
const cases: [Shape4, [number, number], [number, number], 'valid' | 'same'][] = [
  [[2, 6, 6, 3], [2, 2], [2, 2], 'valid'],
  [[2, 7, 5, 3], [2, 2], [2, 2], 'same'],    // odd sizes: the last window hangs over the edge
  [[1, 7, 8, 2], [3, 3], [2, 2], 'valid'],   // overlapping windows
  [[1, 7, 8, 2], [3, 3], [2, 2], 'same'],
  [[2, 5, 9, 1], [2, 3], [1, 2], 'same'],    // non-square window, different strides
  [[1, 4, 4, 2], [3, 3], [1, 1], 'same'],    // padding on both sides
];

describe('pooling forward', () => {
  it.each(cases)('x %j, pool %j, strides %j, %s matches direct loops', (xs, poolSize, strides, padding) => {
    const x = randn(xs, { seed: 1 });
    const ref = naivePool(x.dataSync(), xs, poolSize, strides, padding);
    const mp = maxPool2d(x, { poolSize, strides, padding });
    expect(mp.shape).toEqual(ref.shape);
    expect(Array.from(mp.dataSync())).toEqual(Array.from(Float32Array.from(ref.max)));
    const ap = avgPool2d(x, { poolSize, strides, padding });
    expect(ap.shape).toEqual(ref.shape);
    expectClose(ap.dataSync(), ref.avg, 1e-6);
  });

  it('strides default to the pool size', () => {
    const x = randn([1, 6, 6, 1], { seed: 2 });
    expect(maxPool2d(x, { poolSize: 3 }).toArray()).toEqual(maxPool2d(x, { poolSize: [3, 3], strides: 3 }).toArray());
    expect(maxPool2d(x, { poolSize: 3 }).shape).toEqual([1, 2, 2, 1]);
  });

  it("'same' averages only over real inputs, as TF", () => {
    // x = 1…9 in a 3×3 image, 2×2 windows, stride 2, 'same': out 2×2, total pad 1, all of it after.
    // Windows: {1,2,4,5} → 3, {3,6} → 4.5, {7,8} → 7.5, {9} → 9.
    const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9]).reshape([1, 3, 3, 1]);
    expect(avgPool2d(x, { poolSize: 2, padding: 'same' }).reshape([4]).toArray()).toEqual([3, 4.5, 7.5, 9]);
    expect(maxPool2d(x, { poolSize: 2, padding: 'same' }).reshape([4]).toArray()).toEqual([5, 6, 8, 9]);
  });

  it('max pooling keeps int32; average pooling of int32 gives float32', () => {
    const x = randint([1, 4, 4, 2], -9, 9, { seed: 3 });
    const ref = naivePool(x.dataSync(), [1, 4, 4, 2], [2, 2], [2, 2], 'valid');
    const mp = maxPool2d(x, { poolSize: 2 });
    expect(mp.dtype).toBe('int32');
    expect(Array.from(mp.dataSync())).toEqual(ref.max);
    expect(avgPool2d(x, { poolSize: 2 }).dtype).toBe('float32');
  });

  it('reads strided views', () => {
    const x = randn([2, 3, 6, 4], { seed: 4 }).transpose([0, 2, 3, 1]); // [2, 6, 4, 3]
    const ref = naivePool(x.contiguous().dataSync(), [2, 6, 4, 3], [2, 2], [2, 2], 'valid');
    expect(Array.from(maxPool2d(x, { poolSize: 2 }).dataSync())).toEqual(Array.from(Float32Array.from(ref.max)));
  });
});

describe('pooling gradients (float64, against finite differences of the forward)', () => {
  // L = Σ dy · pool(x). Random normal inputs have distinct values, so max is differentiable there.
  it.each(cases)('x %j, pool %j, strides %j, %s', (xs, poolSize, strides, padding) => {
    const opts: Pool2DOptions = { poolSize, strides, padding };
    const x = randn(xs, { seed: 5, dtype: 'float64' });
    const dy = randn(maxPool2d(x, opts).shape, { seed: 6, dtype: 'float64' });
    const dxMax = maxPool2dBackward(dy, x, opts);
    expect(dxMax.shape).toEqual(xs);
    expectClose(dxMax.dataSync(), numericGradient(x, (xp) => dot(maxPool2d(xp, opts).dataSync(), dy.dataSync())), 1e-7);
    const dxAvg = avgPool2dBackward(dy, xs, opts);
    expect(dxAvg.shape).toEqual(xs);
    expectClose(dxAvg.dataSync(), numericGradient(x, (xp) => dot(avgPool2d(xp, opts).dataSync(), dy.dataSync())), 1e-7);
  });

  it('max pooling sends a tied window’s gradient to its first maximum', () => {
    // All four inputs of each 2×2 window equal: the whole dy goes to the window's top-left element.
    const x = tensor([[7, 7, 2, 2], [7, 7, 2, 2]]).reshape([1, 2, 4, 1]);
    const dy = tensor([10, 20]).reshape([1, 1, 2, 1]);
    expect(maxPool2dBackward(dy, x, { poolSize: 2 }).reshape([2, 4]).toArray()).toEqual([[10, 0, 20, 0], [0, 0, 0, 0]]);
  });

  it('overlapping windows add their gradients on a shared maximum', () => {
    // 1×3 row [1, 5, 2], windows of 2 with stride 1: both windows pick the 5 → it receives dy0 + dy1.
    const x = tensor([1, 5, 2]).reshape([1, 1, 3, 1]);
    const dy = tensor([3, 4]).reshape([1, 1, 2, 1]);
    expect(maxPool2dBackward(dy, x, { poolSize: [1, 2], strides: 1 }).reshape([3]).toArray()).toEqual([0, 7, 0]);
  });
});

describe('pooling errors name the op and the shapes', () => {
  it('rank and window size', () => {
    expect(() => maxPool2d(zeros([4, 4, 3]), { poolSize: 2 })).toThrow('maxPool2d: input [4,4,3] must have rank 4');
    expect(() => avgPool2d(zeros([1, 2, 2, 3]), { poolSize: 3 })).toThrow("avgPool2d: input [1,2,2,3] is smaller than the 3x3 window with 'valid' padding");
    expect(() => maxPool2d(zeros([1, 4, 4, 1]), { poolSize: [2, 0] })).toThrow('maxPool2d: poolSize must be a positive integer or a pair of them, got [2,0]');
  });
  it('dy shape in backward', () => {
    expect(() => maxPool2dBackward(zeros([1, 3, 3, 1]), zeros([1, 4, 4, 1]), { poolSize: 2 }))
      .toThrow('maxPool2dBackward: dy has shape [1,3,3,1], expected [1,2,2,1]');
    expect(() => avgPool2dBackward(zeros([1, 2, 2, 2]), [1, 4, 4, 1], { poolSize: 2 }))
      .toThrow('avgPool2dBackward: dy has shape [1,2,2,2], expected [1,2,2,1]');
  });
});

describe('max pooling picks the first maximum, bit for bit (ties, NaN, −0)', () => {
  // Values from a tiny set, so that most windows hold ties, signed zeros or NaNs. The rule (ops/pool.ts):
  // a later value replaces the best so far only if it is larger (v > best), so ties and −0 against +0 go
  // to the first in row-major order and a NaN wins only where it comes first. The reference walks each
  // window in that order with that comparison; forward values and the backward's dx are compared bit for
  // bit (Object.is tells −0 from +0 and NaN from numbers). 2×2 windows with stride 2 take, in float32,
  // the WebAssembly kernel where the channels are a multiple of 4 (the first two geometries: the second
  // with a last row and column that no window reads) and the JavaScript 2×2 loop otherwise (the next
  // two); float64, and the other geometries, take the general scan. The kernel works in bands of at most
  // 2^16 input numbers: rows of 64·256 take it two output rows at a time (bands of 2, 2, 1).
  const geometries: [Shape4, [number, number], [number, number], 'valid' | 'same'][] = [
    [[3, 6, 8, 8], [2, 2], [2, 2], 'valid'],
    [[1, 10, 64, 256], [2, 2], [2, 2], 'valid'],
    [[2, 7, 9, 4], [2, 2], [2, 2], 'valid'],
    [[2, 6, 8, 5], [2, 2], [2, 2], 'valid'],
    [[1, 7, 5, 3], [2, 2], [2, 2], 'valid'],
    [[1, 7, 5, 3], [2, 2], [2, 2], 'same'],
    [[1, 7, 8, 2], [3, 3], [2, 2], 'same'],
  ];
  const SET = [-1, -0, 0, 0.5, 2, NaN];
  const bitsEqual = (actual: ArrayLike<number>, expected: ArrayLike<number>) => {
    expect(actual.length).toBe(expected.length);
    for (let i = 0; i < expected.length; i++) {
      if (!Object.is(actual[i], expected[i])) throw new Error(`element ${i}: got ${actual[i]}, expected ${expected[i]}`);
    }
  };
  it.each(geometries.flatMap((g) => (['float32', 'float64'] as const).map((dtype) => [...g, dtype] as const)))(
    'x %j, pool %j, strides %j, %s, %s', (xs, poolSize, strides, padding, dtype) => {
      const size = xs.reduce((p, d) => p * d, 1);
      const pick = randint([size], 0, SET.length, { seed: size }).dataSync();
      const values = Array.from(pick, (k) => SET[k]);
      const x = tensor(dtype === 'float32' ? new Float32Array(values) : new Float64Array(values), { shape: xs });
      const { windows, shape } = naivePool(values, xs, poolSize, strides, padding);
      const firstMax = windows.map((m) => m.reduce((best, i) => (values[i] > values[best] ? i : best), m[0]));
      const opts: Pool2DOptions = { poolSize, strides, padding };
      bitsEqual(maxPool2d(x, opts).dataSync(), firstMax.map((i) => values[i]));
      const dyValues = Array.from(randint([firstMax.length], -3, 4, { seed: 9 }).dataSync(), (v) => (v === 0 ? -0 : v));
      const dy = tensor(dtype === 'float32' ? new Float32Array(dyValues) : new Float64Array(dyValues), { shape });
      const dx = new Array<number>(size).fill(0);
      firstMax.forEach((i, o) => { dx[i] += dyValues[o]; });
      bitsEqual(maxPool2dBackward(dy, x, opts).dataSync(), dx);
    });
});
