/**
 * The optimizers' update kernels on the gpu backend (kernels/optimizers.ts) against the cpu backend's
 * loops (packages/tensor/src/cpu/optimizers.ts): the same parameters and the same gradients on each
 * backend, three steps, every option that changes the formula (momentum, nesterov, centered, clipping by
 * norm, by global norm and by value). On each backend a step must read nothing back, and the state must
 * stay where the parameters are. Tolerance 1e-5 + 1e-4·|w| (float32 sums in a different order).
 */
import * as T from '@gradlab/tensor';
import { Variable } from '@gradlab/autograd';
import { optimizers } from '@gradlab/layers';
import { registerGpuBackend, modeSupport } from '@gradlab/gpu';
import type { GpuBackend, GpuMode } from '@gradlab/gpu';

const modes = (process.env.GRADLAB_GPU_TEST_MODES ?? 'cpu,webasm').split(',').map((m) => m.trim()) as GpuMode[];
const required = process.env.GRADLAB_GPU_TEST_REQUIRE === '1';
const ATOL = 1e-5, RTOL = 1e-4, STEPS = 3;

afterAll(() => T.setBackend('cpu'));

const configs: Record<string, (params: Variable[]) => optimizers.Optimizer> = {
  'SGD': (p) => new optimizers.SGD(p, { lr: 0.1 }),
  'SGD momentum 0.9': (p) => new optimizers.SGD(p, { lr: 0.1, momentum: 0.9 }),
  'SGD nesterov': (p) => new optimizers.SGD(p, { lr: 0.1, momentum: 0.8, nesterov: true }),
  'Adam': (p) => new optimizers.Adam(p, { lr: 0.01 }),
  'Adam, clipNorm 0.5 and clipValue 0.05': (p) => new optimizers.Adam(p, { lr: 0.01, clipNorm: 0.5, clipValue: 0.05 }),
  'Adam, globalClipNorm 1': (p) => new optimizers.Adam(p, { lr: 0.01, globalClipNorm: 1 }),
  'RMSprop': (p) => new optimizers.RMSprop(p, { lr: 0.01 }),
  'RMSprop centered, momentum 0.5': (p) => new optimizers.RMSprop(p, { lr: 0.01, centered: true, momentum: 0.5 }),
};

/** Two parameters and STEPS seeded gradients each, made on the active backend; the parameters after the steps. */
function train(backend: string, make: (params: Variable[]) => optimizers.Optimizer): { values: Float64Array[]; readbacks: number; slotsOn: string[] } {
  T.setBackend(backend);
  try {
    const params = [new Variable(T.randn([4, 3], { seed: 1 }), { requiresGrad: true }), new Variable(T.randn([3], { seed: 2 }), { requiresGrad: true })];
    const opt = make(params);
    const device = backend === 'cpu' ? null : (T.getBackend(backend) as GpuBackend).device;
    let readbacks = 0;
    for (let s = 0; s < STEPS; s++) {
      params.forEach((p, k) => { p.grad = T.randn(p.shape, { seed: 10 + 2 * s + k }).mul(k === 0 ? 1 : 0.01); });
      const before = device?.readbacks ?? 0;
      opt.step();
      readbacks += (device?.readbacks ?? 0) - before;
    }
    const slots = (opt as unknown as { slots: Map<Variable, Map<string, T.Tensor>> }).slots;
    const slotsOn = [...slots.values()].flatMap((m) => [...m.values()].map((t) => t.backend));
    return { values: params.map((p) => Float64Array.from(p.data.dataSync())), readbacks, slotsOn };
  } finally {
    T.setBackend('cpu');
  }
}

for (const mode of modes) {
  const support = modeSupport(mode);
  if (!support.ok && !required) {
    // A mode or tool this machine lacks is reported as skipped, with the reason in the test's name (never silently passed).
    test.skip(`${mode}: skipped — ${support.reason}`, () => undefined);
    continue;
  }
  describe(`optimizers on gpu mode ${mode}: the device path against the cpu loops`, () => {
    const backend = `gpu-opt-${mode}`;
    beforeAll(() => registerGpuBackend({ mode, log: false }, backend));
    for (const [name, make] of Object.entries(configs)) test(name, () => {
      const cpu = train('cpu', make);
      const gpu = train(backend, make);
      expect(gpu.readbacks).toBe(0);
      expect(new Set(cpu.slotsOn)).toEqual(new Set(cpu.slotsOn.length ? ['cpu'] : []));
      expect(new Set(gpu.slotsOn)).toEqual(new Set(gpu.slotsOn.length ? [backend] : []));
      if (name !== 'SGD') expect(gpu.slotsOn.length).toBeGreaterThan(0);
      const start = [T.randn([4, 3], { seed: 1 }), T.randn([3], { seed: 2 })].map((t) => t.dataSync());
      const bad: string[] = [];
      cpu.values.forEach((w, k) => w.forEach((v, i) => {
        if (!(Math.abs(gpu.values[k][i] - v) <= ATOL + RTOL * Math.abs(v))) bad.push(`param ${k}[${i}]: gpu ${gpu.values[k][i]} vs cpu ${v}`);
      }));
      expect(bad.slice(0, 5)).toEqual([]);
      expect(cpu.values[0].some((v, i) => Math.abs(v - start[0][i]) > 1e-4)).toBe(true); // the steps moved the weights
    });
  });
}
