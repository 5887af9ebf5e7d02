import { axisWeights, resizeBatch } from '../src/resize';

/** A [count, h, w] byte image array from a function of (image, y, x). */
function images(count: number, h: number, w: number, f: (n: number, y: number, x: number) => number): Uint8Array {
  const out = new Uint8Array(count * h * w);
  for (let n = 0; n < count; n++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[(n * h + y) * w + x] = f(n, y, x);
  return out;
}

describe('bilinear resize', () => {
  test('the same size is the identity (scaled to [0, 1])', () => {
    const src = images(2, 5, 5, (n, y, x) => (n * 50 + y * 13 + x * 29) % 256);
    const out = resizeBatch(src, 5, 5, [0, 1], { size: 5 });
    expect(Array.from(out)).toEqual(Array.from(src, (v) => Math.fround(v / 255)));
  });

  test('halving averages each 2×2 block (half-pixel centres: s = 2d + ½)', () => {
    const src = images(1, 4, 4, (_n, y, x) => y * 40 + x * 10 + ((x + y) % 2) * 7);
    const out = resizeBatch(src, 4, 4, [0], { size: 2, scale: 1 });
    for (let y = 0; y < 2; y++) {
      for (let x = 0; x < 2; x++) {
        const block = [src[2 * y * 4 + 2 * x], src[2 * y * 4 + 2 * x + 1], src[(2 * y + 1) * 4 + 2 * x], src[(2 * y + 1) * 4 + 2 * x + 1]];
        expect(out[y * 2 + x]).toBeCloseTo(block.reduce((a, b) => a + b) / 4, 4);
      }
    }
  });

  test('upscaling keeps an affine image affine where no clamping happens, and stays in range at the borders', () => {
    const f = (y: number, x: number): number => 20 + 5 * y + 3 * x; // at most 236: fits a byte
    const src = images(1, 28, 28, (_n, y, x) => f(y, x));
    const size = 64;
    const out = resizeBatch(src, 28, 28, [0], { size, scale: 1 });
    const s = (d: number): number => (d + 0.5) * (28 / size) - 0.5;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const v = out[y * size + x];
        if (s(y) >= 0 && s(y) <= 27 && s(x) >= 0 && s(x) <= 27) expect(v).toBeCloseTo(f(s(y), s(x)), 3);
        expect(v).toBeGreaterThanOrEqual(f(0, 0) - 1e-4);
        expect(v).toBeLessThanOrEqual(f(27, 27) + 1e-4);
      }
    }
  });

  test('picks rows in the given order and replicates gray into every channel', () => {
    const src = images(3, 2, 2, (n) => 100 * n);
    const out = resizeBatch(src, 2, 2, [2, 0], { size: 3, channels: 3, scale: 1 });
    expect(out.length).toBe(2 * 3 * 3 * 3);
    expect(out.subarray(0, 27).every((v) => v === 200)).toBe(true);
    expect(out.subarray(27).every((v) => v === 0)).toBe(true);
  });

  test('axis weights: output index → two neighbours and a fraction in [0, 1)', () => {
    const w = axisWeights(28, 64);
    for (let d = 0; d < 64; d++) {
      expect(w.hi[d] - w.lo[d]).toBeLessThanOrEqual(1);
      expect(w.t[d]).toBeGreaterThanOrEqual(0);
      expect(w.t[d]).toBeLessThan(1);
    }
    expect([w.lo[0], w.t[0]]).toEqual([0, 0]); // s = 0.5·28/64 − 0.5 < 0 → clamped to 0
    expect(w.lo[63]).toBe(27);
  });
});
