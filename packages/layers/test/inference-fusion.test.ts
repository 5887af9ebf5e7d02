/**
 * Conv2D then BatchNormalization at inference (predict, evaluate): Sequential runs the pair as one
 * convolution pass whose epilogue applies the BatchNormalization's folded scale and shift
 * (models/sequential.ts, fusedWithNext). It must give the two layers' output bit for bit, on every path
 * of the convolution, and must not run where a gradient is recorded or in training.
 */
import { Variable, noGrad } from '@gradlab/autograd';
import { Tensor, randn, setSeed, randint, setConvAlgorithm, setNumThreads, setParallelMinWork } from '@gradlab/tensor';
import type { DType } from '@gradlab/tensor';
import { layers, resetLayerNames, BatchNormalization } from '@gradlab/layers';
import { Conv2D } from '../src/layers/conv.js';
import { Sequential } from '../src/models/sequential.js';

afterAll(() => { setConvAlgorithm('direct'); setNumThreads(1); setParallelMinWork(null); });

/** The article's image model in small: Conv2D(relu)→BN→pool twice (the second Conv2D linear, no bias), then Dense. */
function model(): Sequential {
  setSeed(3);
  resetLayerNames();
  const m = new Sequential();
  m.add(layers.Conv2D(8, [3, 3], { activation: 'relu', inputShape: [12, 10, 3] }));
  m.add(layers.BatchNormalization());
  m.add(layers.MaxPooling2D({ poolSize: [2, 2] }));
  m.add(layers.Conv2D(16, [3, 3], { padding: 'same', useBias: false }));
  m.add(layers.BatchNormalization());
  m.add(layers.Flatten());
  m.add(layers.Dense(5, { activation: 'softmax' }));
  m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
  return m;
}

/** A model whose BatchNormalizations have moving statistics, γ and β away from their defaults (float64: its weights cast after). */
async function trained(dtype: DType = 'float32'): Promise<{ m: Sequential; x: Tensor }> {
  const m = model();
  const x = randn([6, 12, 10, 3], { seed: 4 }), y = randint([6], 0, 5, { seed: 5 });
  for (let step = 0; step < 3; step++) await m.trainOnBatch(x, y);
  if (dtype === 'float64') for (const w of m.parameters()) w.data = w.data.astype('float64');
  return { m, x: x.astype(dtype) };
}

/** The layers one after the other (no fusion: each layer's own apply), at inference. */
function layerByLayer(m: Sequential, x: Tensor): Float32Array | Float64Array {
  return noGrad(() => m.layers.reduce((h: Variable, layer) => layer.apply(h, { training: false }), new Variable(x))).data.dataSync() as Float32Array;
}

function expectBitIdentical(got: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(got.length).toBe(expected.length);
  for (let i = 0; i < got.length; i++) if (!Object.is(got[i], expected[i])) throw new Error(`element ${i}: fused ${got[i]}, layer by layer ${expected[i]}`);
}

describe('Conv2D + BatchNormalization fused at inference', () => {
  it.each([
    ['direct convolution, one thread', 'direct', 1],
    ['patch-matrix convolution', 'patches', 1],
    ['direct convolution split between two threads', 'direct', 2],
  ] as const)('predict equals the layers one by one, bit for bit: %s', async (_what, algorithm, threads) => {
    const { m, x } = await trained();
    setConvAlgorithm(algorithm);
    setNumThreads(threads);
    if (threads > 1) setParallelMinWork(0);
    try {
      const bnCalls = jest.spyOn(BatchNormalization.prototype, 'call'), fusedCalls = jest.spyOn(Conv2D.prototype, 'callWithAffine');
      const fused = (await m.predict(x)).dataSync();
      // both pairs ran fused: no BatchNormalization ran on its own
      expect(bnCalls).not.toHaveBeenCalled();
      expect(fusedCalls).toHaveBeenCalledTimes(2);
      bnCalls.mockRestore(); fusedCalls.mockRestore();
      expectBitIdentical(fused, layerByLayer(m, x));
    } finally { setConvAlgorithm('direct'); setNumThreads(1); setParallelMinWork(null); }
  });

  it('float64 models too (the JavaScript kernels)', async () => {
    const { m, x } = await trained('float64');
    expectBitIdentical((await m.predict(x)).dataSync(), layerByLayer(m, x));
  });

  it('is not used where a gradient is recorded: the kernel of the first Conv2D still gets its gradient', async () => {
    const { m, x } = await trained();
    const fusedCalls = jest.spyOn(Conv2D.prototype, 'callWithAffine');
    const out = m.call(new Variable(x), { training: false }); // inference mode, gradients on
    expect(fusedCalls).not.toHaveBeenCalled();
    fusedCalls.mockRestore();
    out.sum().backward();
    const kernel = m.layers[0].parameters()[0];
    expect(kernel.grad).toBeDefined();
    expect(Array.from(kernel.grad!.dataSync()).some((v) => v !== 0)).toBe(true);
  });

  it('evaluate, which runs the same fused pass, gives the loss of the layers one by one', async () => {
    const { m, x } = await trained();
    const y = randint([6], 0, 5, { seed: 5 });
    const probabilities = layerByLayer(m, x);
    const picked = Array.from({ length: 6 }, (_, i) => probabilities[i * 5 + (y.dataSync()[i] as number)]);
    const expected = -picked.reduce((s, p) => s + Math.log(p), 0) / 6;
    const loss = (await m.evaluate(x, y)) as number | number[];
    expect(Array.isArray(loss) ? loss[0] : loss).toBeCloseTo(expected, 5);
  });
});
