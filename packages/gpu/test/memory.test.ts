/**
 * Device memory does not grow over a training loop. 1,000 steps of a two-layer network trained by
 * hand-written backpropagation (every op on the gpu backend, about 25 kernels per step), each step
 * inside tidy(); the old parameters are disposed when the new ones replace them. Counted before
 * and after: live textures (the GL modes' GPU memory) and live device storages (every mode).
 * Runs in-process for cpu and webasm, and under Xvfb for headlessgl (headlessgl.test.ts).
 */
import * as T from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import { registerGpuBackend, modeSupport, tidy, Device, createGpuBackend } from '@gradlab/gpu';
import type { GpuMode } from '@gradlab/gpu';

const modes = (process.env.GRADLAB_GPU_TEST_MODES ?? 'cpu,webasm').split(',').map((m) => m.trim()) as GpuMode[];
const required = process.env.GRADLAB_GPU_TEST_REQUIRE === '1';
const STEPS = 1000;

afterAll(() => T.setBackend('cpu'));

interface Params { w1: Tensor; b1: Tensor; w2: Tensor }

/** One step of y ≈ relu(x·W1 + b1)·W2 under squared error, and the gradient-descent update. */
function step(p: Params, x: Tensor, y: Tensor, lr: number): Params & { loss: Tensor } {
  const pre = x.matmul(p.w1).add(p.b1);
  const h = pre.relu();
  const diff = h.matmul(p.w2).sub(y);
  const loss = diff.square().mean();
  const dOut = diff.mul(2 / diff.size);               // ∂loss/∂out
  const dW2 = h.T.matmul(dOut);
  const dPre = dOut.matmul(p.w2.T).mul(pre.gt(0));    // relu' = [pre > 0]
  const dW1 = x.T.matmul(dPre);
  const dB1 = dPre.sum(0);
  return { w1: p.w1.sub(dW1.mul(lr)), b1: p.b1.sub(dB1.mul(lr)), w2: p.w2.sub(dW2.mul(lr)), loss };
}

for (const mode of modes) {
  const support = modeSupport(mode);
  if (!support.ok && !required) {
    // A mode or tool this machine lacks is reported as skipped, with the reason in the test's name (never silently passed).
    test.skip(`${mode}: skipped — ${support.reason}`, () => undefined);
    continue;
  }
  test(`${mode}: ${STEPS} training steps leave device memory where it started`, () => {
    const device = new Device({ mode, log: false });
    T.registerBackend(`gpu-mem-${mode}`, () => createGpuBackend(device, `gpu-mem-${mode}`));
    T.setBackend(`gpu-mem-${mode}`);
    try {
      const x = T.randn([16, 8], { seed: 1 });
      const y = x.slice([null, [0, 4]]).tanh().contiguous();       // a target the network can learn
      let p: Params = { w1: T.randn([8, 16], { seed: 2, std: 0.3 }), b1: T.zeros([16]), w2: T.randn([16, 4], { seed: 3, std: 0.3 }) };
      const textures = device.liveTextures, storages = device.liveStorages;
      let first = NaN, last = NaN;
      for (let s = 0; s < STEPS; s++) {
        const next = tidy(() => step(p, x, y, 0.1));
        for (const old of [p.w1, p.b1, p.w2]) old.storage.dispose();
        p = { w1: next.w1, b1: next.b1, w2: next.w2 };
        if (s === 0) first = next.loss.item();
        if (s === STEPS - 1) last = next.loss.item();
        next.loss.storage.dispose();
      }
      expect(device.liveStorages).toBe(storages);
      expect(device.liveTextures).toBe(textures);
      if (device.textures) expect(device.texturesCreated).toBeGreaterThan(STEPS * 20); // the loop really made textures
      expect(last).toBeLessThan(first * 0.5);                                           // and really trained
    } finally {
      T.setBackend('cpu');
    }
  }, 300_000);
}

test('tidy keeps what it returns and frees the rest; dispose twice is harmless', () => {
  registerGpuBackend({ mode: 'cpu', log: false }, 'gpu-tidy');
  T.setBackend('gpu-tidy');
  try {
    const a = T.randn([3, 3], { seed: 4 });
    let inner: Tensor | null = null;
    const kept = tidy(() => { inner = a.add(1); return { out: inner.mul(2) }; });
    expect((inner as unknown as Tensor).storage).toHaveProperty('isDisposed', true);
    expect(kept.out.storage).toHaveProperty('isDisposed', false);
    expect(Array.from(kept.out.dataSync())).toEqual(Array.from(a.dataSync(), (v) => Math.fround(Math.fround(v + 1) * 2)));
    kept.out.storage.dispose();
    kept.out.storage.dispose();
    expect(() => kept.out.dataSync()).toThrow(/disposed/);
  } finally {
    T.setBackend('cpu');
  }
});

test.each(modes.filter((m) => modeSupport(m).ok))('%s: a number operand is a uniform: nothing uploaded, no new kernel for a new value', (mode) => {
  const device = new Device({ mode, log: false });
  T.registerBackend(`gpu-scalar-${mode}`, () => createGpuBackend(device, `gpu-scalar-${mode}`));
  T.setBackend(`gpu-scalar-${mode}`);
  try {
    const x = T.randn([5, 3], { seed: 6 });
    const host = Array.from(x.dataSync());
    const first = x.mul(0.5).sub(2);                     // compiles the two kernels
    const [uploads, compiled] = [device.uploads, device.kernelsCompiled];
    const second = x.mul(-3).sub(0.25);                  // same kernels, new numbers
    expect(device.uploads).toBe(uploads);
    expect(device.kernelsCompiled).toBe(compiled);
    expect(Array.from(first.dataSync())).toEqual(host.map((v) => Math.fround(Math.fround(v * 0.5) - 2)));
    expect(Array.from(second.dataSync())).toEqual(host.map((v) => Math.fround(Math.fround(v * -3) - 0.25)));
    // a one-element tensor that a non-elementwise kernel reads is uploaded then, and gives the same result
    const column = x.matmul(T.ones([3, 1]));
    const s = T.tensor([[2]]);
    const before = device.uploads;
    const product = column.matmul(s);
    expect(device.uploads).toBe(before + 1);
    expect(Array.from(product.dataSync())).toEqual(Array.from(column.dataSync(), (v) => Math.fround(v * 2)));
  } finally {
    T.setBackend('cpu');
  }
});
