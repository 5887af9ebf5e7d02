/**
 * useBackend: a backend chosen by name, its package imported on demand. Under jest the dynamic import
 * of '@gradlab/gpu' resolves to the package's sources (jest.config.cjs); examples/image/test/backend.test.ts
 * runs the same through the built example in plain Node, including a package that is not installed.
 */
import { backendName, layers, models, optimizers, randn, resetLayerNames, setBackend, setSeed, tensor, useBackend } from 'gradlab';
import { loadBackendPackage } from '../src/use-backend';

afterEach(() => setBackend('cpu'));

/** One SGD step of a small Dense network on a fixed batch, from fixed weights: its loss. */
async function oneTrainingStep(): Promise<number> {
  setSeed(3);
  resetLayerNames();
  const model = new models.Sequential();
  model.add(layers.Dense(8, { activation: 'relu', inputShape: [5] }));
  model.add(layers.Dense(3));
  model.compile({ optimizer: new optimizers.SGD({ lr: 0.1 }), loss: 'sparse_categorical_crossentropy' });
  const x = randn([6, 5], { seed: 4 });
  const y = tensor([0, 2, 1, 1, 0, 2], { dtype: 'int32' });
  await model.trainOnBatch(x, y);
  return model.trainOnBatch(x, y); // the second step's loss depends on the first step's update
}

test("useBackend('gpu') imports @gradlab/gpu, which nothing had imported; a training step runs on it with the cpu backend's loss", async () => {
  expect(() => setBackend('gpu')).toThrow(/no backend named 'gpu'/);
  expect(await useBackend('gpu')).toBe('gpu'); // registered by the import; its device is made on first use
  setBackend('cpu');
  const onCpu = await oneTrainingStep();
  expect(await useBackend('gpu:cpu')).toBe('gpu'); // GPU.js's plain JavaScript mode: runs anywhere
  expect(backendName()).toBe('gpu');
  const onGpu = await oneTrainingStep();
  const { gpuDevice } = await import('@gradlab/gpu');
  const device = gpuDevice();
  expect(device?.mode).toBe('cpu');
  expect(device?.kernelsCompiled).toBeGreaterThan(0); // the step's ops ran as GPU.js kernels
  expect(Number.isFinite(onCpu)).toBe(true);
  expect(Math.abs(onGpu - onCpu)).toBeLessThan(1e-4 * Math.max(1, Math.abs(onCpu)));
});

test('a registered backend is chosen by name alone; cpu is always there', async () => {
  await useBackend('gpu:cpu');
  expect(await useBackend('cpu')).toBe('cpu');
  expect(await useBackend('gpu')).toBe('gpu');
  expect(backendName()).toBe('gpu');
});

test('without an argument it reads GRADLAB_BACKEND, else cpu', async () => {
  const saved = process.env.GRADLAB_BACKEND;
  try {
    delete process.env.GRADLAB_BACKEND;
    setBackend('gpu');
    expect(await useBackend()).toBe('cpu');
    process.env.GRADLAB_BACKEND = 'gpu:cpu';
    expect(await useBackend()).toBe('gpu');
  } finally {
    if (saved === undefined) delete process.env.GRADLAB_BACKEND; else process.env.GRADLAB_BACKEND = saved;
  }
});

test('a bad name is refused, naming it and what there is', async () => {
  await expect(useBackend('tpu')).rejects.toThrow(/setBackend: no backend named 'tpu' \(registered: cpu/);
  await expect(useBackend('cpu:fast')).rejects.toThrow(/useBackend\('cpu:fast'\): only a backend from a package \(gpu\) takes a mode/);
  await expect(useBackend('  ')).rejects.toThrow(/useBackend: expected a backend such as 'cpu', 'gpu' or 'gpu:webasm', got "  "/);
  await expect(useBackend('gpu:warp')).rejects.toThrow(/unknown gpu mode 'warp'/);
  expect(backendName()).toBe('cpu');
});

test('a backend package that is not installed: the error names it and how to install it', async () => {
  // a real failed import: require() (jest) finds no such package
  const missing = 'gradlab-backend-package-that-is-not-installed';
  await expect(loadBackendPackage('gpu', missing)).rejects.toThrow(
    `useBackend('gpu'): the gpu backend is in the package ${missing}, which is not installed here. ` +
    `Install it beside gradlab (npm install ${missing}, or pnpm add ${missing}) and run again.`);
});

test("an installed package that fails to load, or lacks applyBackendSpec, says so (not 'not installed')", async () => {
  // Node's error when the package is there but one of its own dependencies is not
  const dependencyMissing = Object.assign(new Error("Cannot find package 'gpu.js' imported from /x/node_modules/@gradlab/gpu/dist/device.js"),
    { code: 'ERR_MODULE_NOT_FOUND' });
  await expect(loadBackendPackage('gpu', '@gradlab/gpu', () => Promise.reject(dependencyMissing)))
    .rejects.toThrow(/useBackend\('gpu'\): @gradlab\/gpu is installed but did not load: Cannot find package 'gpu.js'/);
  await expect(loadBackendPackage('gpu:webasm', '@gradlab/gpu', () => Promise.resolve({})))
    .rejects.toThrow(/useBackend\('gpu:webasm'\): @gradlab\/gpu loaded but has no applyBackendSpec function/);
});
