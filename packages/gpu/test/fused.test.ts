/**
 * The optional fused kernels (FusedKernels in @gradlab/tensor) on the gpu backend, per mode as in
 * kernels.test.ts. Forward outputs are compared with naive float64 loops written here; backward
 * outputs with central finite differences of those loops (the gradient of Σ dy·y with respect to each
 * input, h = 1e-3 in float64), so the closed forms in fused.ts are checked independently.
 * Tolerances: forward 1e-4 (float32 sums over a few dozen terms); backward 2e-3 (the finite
 * difference is exact to ~1e-6, the float32 kernels to ~1e-5 relative, over values of size ~1–10).
 */
import * as T from '@gradlab/tensor';
import type { Backend, Tensor } from '@gradlab/tensor';
import { registerGpuBackend, modeSupport } from '@gradlab/gpu';
import type { GpuMode } from '@gradlab/gpu';

const modes = (process.env.GRADLAB_GPU_TEST_MODES ?? 'cpu,webasm').split(',').map((m) => m.trim()) as GpuMode[];
const required = process.env.GRADLAB_GPU_TEST_REQUIRE === '1';
const FORWARD = 1e-4, BACKWARD = 2e-3;

const arr = (t: Tensor) => Array.from(t.dataSync());
function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
  expect(worst).toBeLessThanOrEqual(tol);
}
/** Central differences of f (a scalar function of a flat float64 array) at x. */
function numericGrad(f: (x: Float64Array) => number, x: Float64Array, h = 1e-3): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const keep = x[i];
    x[i] = keep + h; const up = f(x);
    x[i] = keep - h; const down = f(x);
    x[i] = keep;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };
const f64 = (t: Tensor) => Float64Array.from(t.dataSync());

/** BatchNorm over rows, weighted by mask m (0/1): y, and the statistics. */
function batchNormRef(x: Float64Array, M: number, C: number, g: Float64Array, b: Float64Array, eps: number, m: Float64Array | null) {
  const y = new Float64Array(M * C), mean = new Float64Array(C), variance = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let n = 0, s = 0;
    for (let r = 0; r < M; r++) { const w = m ? m[r] : 1; n += w; s += w * x[r * C + c]; }
    mean[c] = s / n;
    let v = 0;
    for (let r = 0; r < M; r++) { const w = m ? m[r] : 1; v += w * (x[r * C + c] - mean[c]) ** 2; }
    variance[c] = v / n;
    for (let r = 0; r < M; r++) y[r * C + c] = g[c] * (x[r * C + c] - mean[c]) / Math.sqrt(variance[c] + eps) + b[c];
  }
  return { y, mean, variance };
}
function layerNormRef(x: Float64Array, M: number, C: number, g: Float64Array, b: Float64Array, eps: number): Float64Array {
  const y = new Float64Array(M * C);
  for (let r = 0; r < M; r++) {
    let s = 0; for (let c = 0; c < C; c++) s += x[r * C + c];
    const mean = s / C;
    let v = 0; for (let c = 0; c < C; c++) v += (x[r * C + c] - mean) ** 2;
    for (let c = 0; c < C; c++) y[r * C + c] = g[c] * (x[r * C + c] - mean) / Math.sqrt(v / C + eps) + b[c];
  }
  return y;
}
const sig = (v: number) => 1 / (1 + Math.exp(-v));
function lstmRef(z: Float64Array, cPrev: Float64Array, B: number, u: number) {
  const h = new Float64Array(B * u), c = new Float64Array(B * u);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < u; j++) {
      const at = (k: number) => z[b * 4 * u + k * u + j];
      c[b * u + j] = sig(at(1)) * cPrev[b * u + j] + sig(at(0)) * Math.tanh(at(2));
      h[b * u + j] = sig(at(3)) * Math.tanh(c[b * u + j]);
    }
  }
  return { h, c };
}

for (const mode of modes) {
  const support = modeSupport(mode);
  if (!support.ok && !required) {
    // A mode or tool this machine lacks is reported as skipped, with the reason in the test's name (never silently passed).
    test.skip(`${mode}: skipped — ${support.reason}`, () => undefined);
    continue;
  }
  describe(`fused kernels on gpu mode ${mode}`, () => {
    const name = `gpu-fused-${mode}`;
    let gpu: Backend;
    beforeAll(() => { registerGpuBackend({ mode, log: false }, name); gpu = T.getBackend(name); });
    const on = (t: Tensor) => t.contiguousOn(name);

    test.each([[false], [true]])('batchNormForward / Backward (mask: %s) against float64 loops and finite differences', (masked) => {
      const [M, C, eps] = [7, 5, 1e-3];
      const x = T.randn([M, C], { seed: 1 }).mul(2).add(3), g = T.uniform([C], 0.5, 2, { seed: 2 }), b = T.randn([C], { seed: 3 });
      const mask = masked ? T.tensor([1, 0, 1, 1, 0, 1, 1]) : null;
      const dy = T.randn([M, C], { seed: 4 });
      const mk = mask ? f64(mask) : null;
      const ref = batchNormRef(f64(x), M, C, f64(g), f64(b), eps, mk);
      const out = gpu.batchNormForward!(on(x), on(g), on(b), eps, mask ? on(mask) : null);
      close(arr(out.y), ref.y, FORWARD);
      close(arr(out.mean), ref.mean, FORWARD);
      close(arr(out.variance), ref.variance, FORWARD);
      const back = gpu.batchNormBackward!(on(dy), out.xHat, out.invstd, on(g), mask ? on(mask) : null);
      const dys = f64(dy);
      close(arr(back.dx), numericGrad((xs) => dot(batchNormRef(xs, M, C, f64(g), f64(b), eps, mk).y, dys), f64(x)), BACKWARD);
      close(arr(back.dGamma), numericGrad((gs) => dot(batchNormRef(f64(x), M, C, gs, f64(b), eps, mk).y, dys), f64(g)), BACKWARD);
      close(arr(back.dBeta), numericGrad((bs) => dot(batchNormRef(f64(x), M, C, f64(g), bs, eps, mk).y, dys), f64(b)), BACKWARD);
      expect(out.y.backend).toBe(name);
    });

    test('groupNormForward / Backward with one group on [6,6] (LayerNorm) against float64 loops and finite differences', () => {
      const [M, C, eps] = [6, 6, 1e-3];
      const x = T.randn([2, 3, C], { seed: 5 }).mul(3), g = T.uniform([C], 0.5, 2, { seed: 6 }), b = T.randn([C], { seed: 7 });
      const dy = T.randn([2, 3, C], { seed: 8 });
      const out = gpu.groupNormForward(on(x).reshape([M, C]), on(g), on(b), 1, eps);
      expect(out.y.shape).toEqual([M, C]);
      close(arr(out.y), layerNormRef(f64(x), M, C, f64(g), f64(b), eps), FORWARD);
      const back = gpu.groupNormBackward(on(dy).reshape([M, C]), out.xHat, out.invstd, on(g), 1);
      const dys = f64(dy);
      close(arr(back.dx), numericGrad((xs) => dot(layerNormRef(xs, M, C, f64(g), f64(b), eps), dys), f64(x)), BACKWARD);
      close(arr(back.dGamma), numericGrad((gs) => dot(layerNormRef(f64(x), M, C, gs, f64(b), eps), dys), f64(g)), BACKWARD);
      close(arr(back.dBeta), numericGrad((bs) => dot(layerNormRef(f64(x), M, C, f64(g), bs, eps), dys), f64(b)), BACKWARD);
    });

    test('softmaxCrossEntropy: softmax and per-row loss against float64 loops, large logits stay finite', () => {
      const [N, C] = [5, 7];
      const z = T.randn([N, C], { seed: 9 }).mul(30), labels = T.tensor([0, 6, 3, 3, 1], { dtype: 'int32' });
      const out = gpu.softmaxCrossEntropy!(on(z), on(labels));
      const zs = f64(z), ys = labels.dataSync();
      const soft: number[] = [], loss: number[] = [];
      for (let r = 0; r < N; r++) {
        const row = Array.from(zs.subarray(r * C, (r + 1) * C));
        const m = Math.max(...row), s = row.reduce((p, v) => p + Math.exp(v - m), 0);
        soft.push(...row.map((v) => Math.exp(v - m) / s));
        loss.push(Math.log(s) + m - row[ys[r]]);
      }
      close(arr(out.softmax), soft, FORWARD);
      close(arr(out.loss), loss, FORWARD);
    });

    test('lstmCellForward / Backward against float64 loops and finite differences', () => {
      const [B, u] = [3, 4];
      const z = T.randn([B, 4 * u], { seed: 10 }).mul(2), cPrev = T.randn([B, u], { seed: 11 });
      const dh = T.randn([B, u], { seed: 12 }), dc = T.randn([B, u], { seed: 13 });
      const out = gpu.lstmCellForward!(on(z), on(cPrev), 'sigmoid');
      const ref = lstmRef(f64(z), f64(cPrev), B, u);
      close(arr(out.h), ref.h, FORWARD);
      close(arr(out.c), ref.c, FORWARD);
      const back = gpu.lstmCellBackward!(on(dh), on(dc), out.gates, out.tanhC, on(cPrev), 'sigmoid');
      const loss = (zs: Float64Array, cs: Float64Array) => { const r = lstmRef(zs, cs, B, u); return dot(r.h, f64(dh)) + dot(r.c, f64(dc)); };
      close(arr(back.dz), numericGrad((zs) => loss(zs, f64(cPrev)), f64(z)), BACKWARD);
      close(arr(back.dcPrev), numericGrad((cs) => loss(f64(z), cs), f64(cPrev)), BACKWARD);
    });
  });
}
