import { Variable } from '@gradlab/autograd';
import { Tensor, fromTypedArray, tensor, randn } from '@gradlab/tensor';
import { SGD, Adam, AdamW, RMSprop, Optimizer, clipGradNorm, getOptimizer } from '../src/optimizers/index.js';

const param = (values: number[], dtype: 'float32' | 'float64' = 'float64'): Variable =>
  new Variable(tensor(values, { dtype }), { requiresGrad: true });
const values = (v: Variable | Tensor): number[] => Array.from((v instanceof Variable ? v.data : v).dataSync());
const setGrad = (p: Variable, g: number[]): void => { p.grad = tensor(g, { dtype: p.dtype }); };

/** Run `steps` updates with gradients from gradFn(step, w) on a fresh param; the trajectory of w. */
function run(opt: (p: Variable) => Optimizer, w0: number[], grads: (t: number, w: number[]) => number[], steps: number): number[][] {
  const p = param(w0);
  const o = opt(p);
  const path: number[][] = [];
  for (let t = 0; t < steps; t++) {
    o.zeroGrad();
    setGrad(p, grads(t, values(p)));
    o.step();
    path.push(values(p));
  }
  return path;
}

const gradsOf = (t: number, w: number[]): number[] => w.map((wi, i) => 2 * (wi - i) + Math.sin(t + i)); // a noisy quadratic
const W0 = [0.5, -1.5, 2, 0.1];

/** float64 re-implementations, written from the papers / frameworks' docs independently of the source. */
function pytorchSgd(lr: number, mu: number, steps: number): number[][] {
  // PyTorch's form: b ← μ·b + g;  w ← w − lr·b. With a constant lr it follows the same path as Keras's form.
  let w = [...W0]; let b = w.map(() => 0); const out: number[][] = [];
  for (let t = 0; t < steps; t++) {
    const g = gradsOf(t, w);
    b = b.map((bi, i) => mu * bi + g[i]);
    w = w.map((wi, i) => wi - lr * b[i]);
    out.push(w);
  }
  return out;
}
function pytorchNesterov(lr: number, mu: number, steps: number): number[][] {
  // PyTorch nesterov: b ← μ·b + g;  w ← w − lr·(g + μ·b)   (Sutskever's form rewritten; same path as Keras's)
  let w = [...W0]; let b = w.map(() => 0); const out: number[][] = [];
  for (let t = 0; t < steps; t++) {
    const g = gradsOf(t, w);
    b = b.map((bi, i) => mu * bi + g[i]);
    w = w.map((wi, i) => wi - lr * (g[i] + mu * b[i]));
    out.push(w);
  }
  return out;
}
function textbookAdam(lr: number, b1: number, b2: number, epsHat: number, steps: number): number[][] {
  // Kingma & Ba, Algorithm 1 with the "ε̂" variant of §2: w ← w − lr·√(1−β2ᵗ)/(1−β1ᵗ) · m / (√v + ε̂)
  let w = [...W0]; let m = w.map(() => 0); let v = w.map(() => 0); const out: number[][] = [];
  for (let t = 1; t <= steps; t++) {
    const g = gradsOf(t - 1, w);
    m = m.map((mi, i) => b1 * mi + (1 - b1) * g[i]);
    v = v.map((vi, i) => b2 * vi + (1 - b2) * g[i] * g[i]);
    const lrT = (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
    w = w.map((wi, i) => wi - (lrT * m[i]) / (Math.sqrt(v[i]) + epsHat));
    out.push(w);
  }
  return out;
}
function referenceRmsprop(lr: number, rho: number, eps: number, mu: number, centered: boolean, steps: number): number[][] {
  // Keras's RMSprop documentation: ε inside the root; centered subtracts the squared running mean of g.
  let w = [...W0]; let s = w.map(() => 0); let a = w.map(() => 0); let b = w.map(() => 0); const out: number[][] = [];
  for (let t = 0; t < steps; t++) {
    const g = gradsOf(t, w);
    s = s.map((si, i) => rho * si + (1 - rho) * g[i] ** 2);
    a = a.map((ai, i) => rho * ai + (1 - rho) * g[i]);
    const delta = g.map((gi, i) => (lr * gi) / Math.sqrt(s[i] - (centered ? a[i] ** 2 : 0) + eps));
    b = b.map((bi, i) => mu * bi + delta[i]);
    w = w.map((wi, i) => wi - (mu > 0 ? b[i] : delta[i]));
    out.push(w);
  }
  return out;
}

function expectPathsClose(a: number[][], b: number[][], digits = 10): void {
  expect(a.length).toBe(b.length);
  a.forEach((row, t) => row.forEach((v, i) => expect(v).toBeCloseTo(b[t][i], digits)));
}

describe('SGD', () => {
  test('plain: w ← w − lr·g', () => {
    const p = param([1, 2]);
    setGrad(p, [0.5, -1]);
    new SGD([p], { lr: 0.1 }).step();
    expect(values(p)).toEqual([1 - 0.05, 2 + 0.1]);
  });
  test('default lr is 0.01, as Keras', () => expect(new SGD().lr).toBe(0.01));
  test('momentum: Keras\'s form follows PyTorch\'s path (independent formula)', () => {
    expectPathsClose(run((p) => new SGD([p], { lr: 0.05, momentum: 0.9 }), W0, gradsOf, 25), pytorchSgd(0.05, 0.9, 25));
  });
  test('nesterov matches PyTorch\'s nesterov path', () => {
    expectPathsClose(run((p) => new SGD([p], { lr: 0.05, momentum: 0.9, nesterov: true }), W0, gradsOf, 25), pytorchNesterov(0.05, 0.9, 25));
  });
  test('momentum with a constant gradient: after k steps w moved by −lr·g·Σ (1 − μʲ)/(1 − μ)', () => {
    const [lr, mu, g, k] = [0.1, 0.5, 2, 4];
    const path = run((p) => new SGD([p], { lr, momentum: mu }), [0], () => [g], k);
    let expected = 0; // v_j = −lr·g·(1 − μʲ)/(1 − μ), w_k = Σ_{j=1..k} v_j
    for (let j = 1; j <= k; j++) expected += (-lr * g * (1 - mu ** j)) / (1 - mu);
    expect(path[k - 1][0]).toBeCloseTo(expected, 12);
  });
});

describe('Adam', () => {
  test('Keras defaults: lr 1e-3, β1 0.9, β2 0.999, ε 1e-7', () => {
    const a = new Adam();
    expect([a.lr, a.beta1, a.beta2, a.epsilon]).toEqual([1e-3, 0.9, 0.999, 1e-7]);
  });
  test('matches the paper\'s algorithm (ε̂ form) over 30 steps', () => {
    expectPathsClose(run((p) => new Adam([p], { lr: 0.01 }), W0, gradsOf, 30), textbookAdam(0.01, 0.9, 0.999, 1e-7, 30));
  });
  test('first step moves each weight by lr·g/(|g| + ε/√(1−β2)) ≈ lr·sign(g), whatever the gradient scale', () => {
    const g = [1e-3, -50, 4];
    const p = param([0, 0, 0]);
    setGrad(p, g);
    new Adam([p], { lr: 0.1 }).step();
    // m = 0.1 g, v = 0.001 g², α = 0.1·√0.001/0.1 → step = 0.1·√0.001·g / (√0.001·|g| + 1e-7)
    values(p).forEach((w, i) => expect(w).toBeCloseTo((-0.1 * g[i]) / (Math.abs(g[i]) + 1e-7 / Math.sqrt(0.001)), 12));
  });
  test('state is per parameter', () => {
    const a = param([1]), b = param([1]);
    const opt = new Adam([a, b], { lr: 0.1 });
    setGrad(a, [1]); setGrad(b, [-1]);
    opt.step();
    expect(values(a)[0]).toBeCloseTo(2 - values(b)[0], 12);
  });
});

describe('RMSprop', () => {
  test('Keras defaults: lr 1e-3, ρ 0.9, momentum 0, ε 1e-7', () => {
    const r = new RMSprop();
    expect([r.lr, r.rho, r.momentum, r.epsilon, r.centered]).toEqual([1e-3, 0.9, 0, 1e-7, false]);
  });
  test.each([
    [0, false], [0.9, false], [0, true], [0.5, true],
  ])('matches the reference (momentum %s, centered %s)', (mu, centered) => {
    expectPathsClose(run((p) => new RMSprop([p], { lr: 0.01, momentum: mu, centered }), W0, gradsOf, 20),
      referenceRmsprop(0.01, 0.9, 1e-7, mu, centered, 20));
  });
  test('first step: lr·g/√((1−ρ)g² + ε) ≈ lr·sign(g)/√0.1', () => {
    const p = param([0]);
    setGrad(p, [3]);
    new RMSprop([p], { lr: 0.01 }).step();
    expect(values(p)[0]).toBeCloseTo((-0.01 * 3) / Math.sqrt(0.1 * 9 + 1e-7), 12);
  });
});

describe('common machinery', () => {
  test.each([
    ['sgd', (p: Variable) => new SGD([p], { lr: 0.05, momentum: 0.9 })],
    ['adam', (p: Variable) => new Adam([p], { lr: 0.1 })],
    ['rmsprop', (p: Variable) => new RMSprop([p], { lr: 0.05 })],
  ])('%s minimises Σ (w − i)²', (_name, make) => {
    const path = run(make, W0, (_t, w) => w.map((wi, i) => 2 * (wi - i)), 300);
    path[path.length - 1].forEach((w, i) => expect(Math.abs(w - i)).toBeLessThan(0.05));
  });
  test('float32 parameters stay float32; a parameter without a gradient is left alone', () => {
    const a = param([1, 2], 'float32'), b = param([5], 'float32');
    setGrad(a, [1, 1]);
    new Adam([a, b]).step();
    expect(a.dtype).toBe('float32');
    expect(values(b)).toEqual([5]);
  });
  test('zeroGrad forgets every gradient', () => {
    const a = param([1]);
    setGrad(a, [1]);
    const opt = new SGD([a]);
    opt.zeroGrad();
    expect(a.grad).toBeNull();
  });
  test('clipGradNorm: returns the global norm and rescales all gradients together', () => {
    const a = param([3, 0]), b = param([0, 4]);
    setGrad(a, [3, 0]); setGrad(b, [0, 4]); // global norm √(9 + 16) = 5
    expect(clipGradNorm([a, b], 1)!.item()).toBeCloseTo(5, 12);
    expect(values(a.grad!)[0]).toBeCloseTo(0.6, 12);
    expect(values(a.grad!)[1]).toBe(0);
    expect(values(b.grad!)[1]).toBeCloseTo(0.8, 12);
    expect(clipGradNorm([a, b], 10)!.item()).toBeCloseTo(1, 12); // under the limit: unchanged
    expect(values(b.grad!)[1]).toBeCloseTo(0.8, 12);
  });
  test('globalClipNorm clips jointly, clipNorm (Keras\'s clipnorm) each gradient on its own, clipValue elementwise', () => {
    const make = () => { const a = param([0, 0]), b = param([0]); setGrad(a, [3, 4]); setGrad(b, [0.5]); return [a, b]; };
    let [a, b] = make(); // joint norm √(9 + 16 + 0.25) = √25.25
    new SGD([a, b], { lr: 1, globalClipNorm: 1 }).step();
    expect(values(a)[1]).toBeCloseTo(-4 / Math.sqrt(25.25), 12);
    expect(values(b)[0]).toBeCloseTo(-0.5 / Math.sqrt(25.25), 12);
    [a, b] = make(); // a's own norm is 5 → scaled to 1; b's is 0.5 → unchanged
    new SGD([a, b], { lr: 1, clipNorm: 1 }).step();
    expect(values(a)[0]).toBeCloseTo(-0.6, 12);
    expect(values(a)[1]).toBeCloseTo(-0.8, 12);
    expect(values(b)[0]).toBeCloseTo(-0.5, 12);
    [a, b] = make();
    new SGD([a, b], { lr: 1, clipValue: 1 }).step();
    expect(values(a)).toEqual([-1, -1]);
  });
  test('string aliases give Keras defaults; an optimizer made without parameters can be given them later', () => {
    expect(getOptimizer('adam')).toBeInstanceOf(Adam);
    expect(getOptimizer('Adam').lr).toBe(1e-3);
    expect(getOptimizer('sgd')).toBeInstanceOf(SGD);
    expect(getOptimizer('rmsprop')).toBeInstanceOf(RMSprop);
    expect(() => getOptimizer('adagrad')).toThrow(/unknown optimizer 'adagrad'/);
    const opt = new Adam({ lr: 0.5 });
    expect(opt.lr).toBe(0.5);
    expect(opt.params).toEqual([]);
    const w = new Variable(randn([2]), { requiresGrad: true });
    opt.params = [w];
    setGrad(w, [1, -1]);
    const before = values(w);
    opt.step();
    expect(values(w)[0]).toBeLessThan(before[0]);
  });
  test('a non-positive lr is refused', () => {
    expect(() => new SGD({ lr: 0 })).toThrow(/SGD: lr must be a positive finite number, got/);
    expect(() => new SGD({ lr: Infinity })).toThrow(/SGD: lr must be a positive finite number, got Infinity/);
    expect(() => new SGD({ momentum: 5 })).toThrow(/SGD: momentum must be in \[0, 1\), got 5/);
    expect(() => new Adam({ beta1: 1.5 })).toThrow(/Adam: beta1 must be in \[0, 1\), got 1.5/);
    expect(() => new Adam({ epsilon: -1 })).toThrow(/Adam: epsilon must be a non-negative/);
    expect(() => new RMSprop({ rho: -1 })).toThrow(/RMSprop: rho must be in \[0, 1\), got -1/);
    expect(() => new Adam({ clipNorm: 0 })).toThrow(/Adam: clipNorm must be a positive/);
    expect(() => getOptimizer('constructor')).toThrow(/unknown optimizer 'constructor'/);
  });
});

describe('AdamW', () => {
  test('one step is Adam\'s step on the weights shrunk by lr·weightDecay (decoupled decay)', () => {
    const start = [0.5, -1.25, 2];
    const grad = [0.1, -0.3, 0.05];
    const w = new Variable(fromTypedArray(Float32Array.from(start), [3]));
    const opt = new AdamW([w], { lr: 0.01, weightDecay: 0.1 });
    w.grad = fromTypedArray(Float32Array.from(grad), [3]);
    opt.step();
    // Adam's first step by hand (m = (1 − β1)g, v = (1 − β2)g², α = lr·√(1 − β2)/(1 − β1)) from w·(1 − lr·λ).
    const expected = start.map((v, i) => {
      const m = 0.1 * grad[i], s = 0.001 * grad[i] ** 2, alpha = 0.01 * Math.sqrt(1 - 0.999) / (1 - 0.9);
      return v * (1 - 0.01 * 0.1) - alpha * m / (Math.sqrt(s) + 1e-7);
    });
    Array.from(w.data.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));
    expect(new AdamW().weightDecay).toBe(0.004);
    expect(getOptimizer('adamw')).toBeInstanceOf(AdamW);
    expect(() => new AdamW({ weightDecay: -1 })).toThrow(/AdamW: weightDecay must be a non-negative finite number, got -1/);
  });
});
