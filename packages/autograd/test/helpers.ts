/** Inputs for the gradient tests: seeded, float64, and kept away from the points where an op has a kink. */
import { Tensor, rand, randn, sign } from '@gradlab/tensor';

/** N(0, 1) values. */
export function normal(shape: number[], seed: number): Tensor {
  return randn(shape, { seed, dtype: 'float64' });
}

/** Values in [lo, hi): for log, sqrt, div (positive denominators) and pow (positive bases). */
export function between(shape: number[], lo: number, hi: number, seed: number): Tensor {
  return rand(shape, { seed, dtype: 'float64' }).mul(hi - lo).add(lo);
}

/**
 * Values with |x| ≥ 0.2, for ops with a kink at 0 (abs, relu): a central difference that straddles the
 * kink measures the average of the two slopes, which is no derivative at all.
 */
export function awayFromZero(shape: number[], seed: number): Tensor {
  const x = normal(shape, seed);
  return x.add(sign(x).mul(0.2)).add(x.eq(0).mul(0.2));
}

/** Expect nested arrays of numbers to be close (to `digits` decimal places). */
export function expectClose(actual: unknown, expected: unknown, digits = 6): void {
  if (typeof expected === 'number') {
    expect(typeof actual).toBe('number');
    expect(actual as number).toBeCloseTo(expected, digits);
    return;
  }
  expect(Array.isArray(actual)).toBe(true);
  const a = actual as unknown[];
  const e = expected as unknown[];
  expect(a.length).toBe(e.length);
  a.forEach((v, i) => expectClose(v, e[i], digits));
}
