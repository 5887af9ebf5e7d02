/**
 * The closed-form backward passes that docs/layers.md derives, written out here in plain loops over
 * float64 arrays exactly as the page states them, held against autograd's gradients through the
 * composite graphs (which know nothing of the closed forms: the engine chains mean, sub, square, div…).
 * If the page's formula and the maths disagreed, these would fail; the fused kernels are checked against
 * the composites elsewhere (losses.test.ts, packages/layers/test/normalization.test.ts).
 */
import { randn, uniform } from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import { F, Variable } from '@gradlab/autograd';

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));
const EPSILON = 1e-3;

/** Autograd's gradients of Σ dy·f(x, γ, β) through a composite graph. */
function autogradGrads(f: (x: Variable, g: Variable, b: Variable) => Variable, x: Tensor, gamma: Tensor, beta: Tensor, dy: Tensor) {
  const vs = [x, gamma, beta].map((t) => new Variable(t, { requiresGrad: true }));
  f(vs[0], vs[1], vs[2]).mul(new Variable(dy)).sum().backward();
  return vs.map((v) => Float64Array.from(v.grad!.dataSync()));
}

/**
 * docs/layers.md, "GroupNormalization": x [B, S, G·K] (channels last), per (b, g) over its N = S·K values,
 *   ∂L/∂x = s·( h − mean_group(h) − x̂·mean_group(h·x̂) ),  h = γ_c·dy,
 *   ∂L/∂γ_c = Σ_{b,s} dy·x̂,   ∂L/∂β_c = Σ_{b,s} dy.
 * LayerNorm is the case S = 1, G = 1 (docs/layers.md, "LayerNorm's backward, derived").
 */
function closedForm(x: Float64Array, gamma: Float64Array, dy: Float64Array, B: number, S: number, G: number, K: number) {
  const C = G * K, N = S * K;
  const dx = new Float64Array(x.length), dGamma = new Float64Array(C), dBeta = new Float64Array(C);
  const at = (b: number, s: number, g: number, k: number) => (b * S + s) * C + g * K + k;
  for (let b = 0; b < B; b++) {
    for (let g = 0; g < G; g++) {
      const members: number[] = [];
      for (let s = 0; s < S; s++) for (let k = 0; k < K; k++) members.push(at(b, s, g, k));
      const mu = members.reduce((acc, i) => acc + x[i], 0) / N;
      const variance = members.reduce((acc, i) => acc + (x[i] - mu) ** 2, 0) / N;
      const invstd = 1 / Math.sqrt(variance + EPSILON);
      const xHat = (i: number) => (x[i] - mu) * invstd;
      const h = (i: number) => gamma[i % C] * dy[i];
      const meanH = members.reduce((acc, i) => acc + h(i), 0) / N;
      const meanHx = members.reduce((acc, i) => acc + h(i) * xHat(i), 0) / N;
      for (const i of members) {
        dx[i] = invstd * (h(i) - meanH - xHat(i) * meanHx);
        dGamma[i % C] += dy[i] * xHat(i);
        dBeta[i % C] += dy[i];
      }
    }
  }
  return [dx, dGamma, dBeta];
}

describe('docs/layers.md closed forms equal autograd through the composite graphs', () => {
  const data = (shape: number[], C: number) => ({
    x: randn(shape, { seed: 21, dtype: 'float64' }).mul(2).add(0.5),
    gamma: uniform([C], 0.5, 2, { seed: 22, dtype: 'float64' }),
    beta: randn([C], { seed: 23, dtype: 'float64' }),
    dy: randn(shape, { seed: 24, dtype: 'float64' }),
  });

  it('LayerNorm: ∂L/∂x = invstd·(h − mean(h) − x̂·mean(h·x̂)) with h = γ ⊙ dy per row; dγ, dβ summed over rows', () => {
    const C = 7;
    const { x, gamma, beta, dy } = data([5, C], C);
    const expected = closedForm(x.dataSync() as Float64Array, gamma.dataSync() as Float64Array, dy.dataSync() as Float64Array, 5, 1, 1, C);
    const got = autogradGrads((a, g, b) => F.layerNormComposite(a, g, b, EPSILON), x, gamma, beta, dy);
    got.forEach((grad, k) => expect(maxDiff(grad, expected[k])).toBeLessThan(1e-12));
    // What the page says a learner can check by eye: ∂L/∂x sums to zero over each row.
    for (let r = 0; r < 5; r++) expect(Math.abs(got[0].slice(r * C, (r + 1) * C).reduce((s, v) => s + v, 0))).toBeLessThan(1e-12);
  });

  it('GroupNorm: the same formula per (example, group), over the group\'s channels and every position', () => {
    const [B, S, G, K] = [3, 4, 2, 3];
    const { x, gamma, beta, dy } = data([B, 2, 2, G * K], G * K); // S = 2·2 positions
    const expected = closedForm(x.dataSync() as Float64Array, gamma.dataSync() as Float64Array, dy.dataSync() as Float64Array, B, S, G, K);
    const got = autogradGrads((a, g, b) => F.groupNormComposite(a, g, b, G, EPSILON), x, gamma, beta, dy);
    got.forEach((grad, k) => expect(maxDiff(grad, expected[k])).toBeLessThan(1e-12));
  });
});
