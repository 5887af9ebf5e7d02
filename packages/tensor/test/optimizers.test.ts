/**
 * The CPU's Adam kernel (cpu/optimizers.ts) against its formula written out per element in float64,
 * each result stored once in the dtype (as a typed array stores it):
 *   m' = m + (1 − β1)(g − m),  v' = v + (1 − β2)(g² − v),  w' = w − α·m'/(√v' + ε),  α = lr·√(1 − β2ᵗ)/(1 − β1ᵗ).
 * Bit for bit: float32 runs on a WebAssembly kernel in f64x2 (in bands of 2^14 numbers: hence 2^14 + 3,
 * an odd count across two bands) or a float32 JavaScript loop, float64 on a shared loop, and all must
 * evaluate exactly this, in this order. (A change of order shows in float64; in float32 the final
 * rounding hides it almost always.)
 */
import { Random, adamUpdate, tensor } from '@gradlab/tensor';

describe('adamUpdate on the CPU', () => {
  it.each(['float32', 'float64'] as const)('%s: every element is the formula, bit for bit', (dtype) => {
    const rng = new Random(31);
    const hyper = { lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step: 4 };
    const alpha = (hyper.lr * Math.sqrt(1 - hyper.beta2 ** hyper.step)) / (1 - hyper.beta1 ** hyper.step);
    for (const n of [1, 2, 5, 9, 2000, 2 ** 14 + 3]) {
      const draw = (scale: number, positive = false) => {
        const values = Array.from({ length: n }, () => (positive ? Math.abs(rng.normal()) : rng.normal()) * scale);
        return dtype === 'float32' ? new Float32Array(values) : new Float64Array(values);
      };
      const w = draw(1), g = draw(0.1), m = draw(0.01), v = draw(0.001, true);
      const out = adamUpdate(tensor(w), tensor(g), tensor(m), tensor(v), hyper);
      expect(out.w.dtype).toBe(dtype);
      const expected = { w: [] as number[], m: [] as number[], v: [] as number[] };
      for (let i = 0; i < n; i++) {
        const mi = m[i] + (1 - hyper.beta1) * (g[i] - m[i]);
        const vi = v[i] + (1 - hyper.beta2) * (g[i] * g[i] - v[i]);
        expected.w.push(w[i] - (alpha * mi) / (Math.sqrt(vi) + hyper.epsilon));
        expected.m.push(mi);
        expected.v.push(vi);
      }
      // stored once in the dtype (float64 shows any change in the order of operations; float32's rounding hides most)
      const asStored = (xs: number[]) => Array.from(dtype === 'float32' ? new Float32Array(xs) : new Float64Array(xs));
      for (const key of ['w', 'm', 'v'] as const) expect(Array.from(out[key].dataSync())).toEqual(asStored(expected[key]));
    }
  });
});
