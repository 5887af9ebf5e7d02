import { Variable, gradcheck } from '@gradlab/autograd';
import { Tensor, randn, tensor, Random, setSeed } from '@gradlab/tensor';
import { embeddingLookup } from '../src/layers/embedding';
import { Dense, Dropout, Embedding, Flatten, Activation, Conv2D, MaxPooling2D, AveragePooling2D, layers, resetLayerNames, initializers } from '@gradlab/layers';

describe('Dense', () => {
  it('computes activation(x·W + b) and builds lazily with Keras shapes', () => {
    const d = new Dense(2, { activation: 'relu' });
    expect(d.built).toBe(false);
    const x = tensor([[1, -1, 2]]);
    const y = d.apply(x);
    expect(d.kernel!.shape).toEqual([3, 2]);
    expect(d.bias!.shape).toEqual([2]);
    // reference: plain loops over the layer's own weights
    const W = d.kernel!.data.toArray() as number[][];
    const expected = [0, 1].map((j) => Math.max(0, 1 * W[0][j] - 1 * W[1][j] + 2 * W[2][j]));
    (y.toArray() as number[][])[0].forEach((v, j) => expect(v).toBeCloseTo(expected[j], 5));
  });

  it('applies to the last axis of a 3-D input', () => {
    const d = layers.Dense(4);
    expect(d.apply(randn([2, 5, 3])).shape).toEqual([2, 5, 4]);
    expect(d.computeOutputShape([null, 5, 3])).toEqual([null, 5, 4]);
  });

  it('is differentiable in input and weights (gradcheck)', () => {
    const d = new Dense(3, { activation: 'tanh' });
    d.build([null, 4]);
    const x = randn([2, 4], { seed: 1, dtype: 'float64' });
    const fn = (xv: Variable, w: Variable, b: Variable) => xv.matmul(w).add(b).tanh();
    expect(gradcheck(fn, [x, d.kernel!.data.astype('float64'), d.bias!.data.astype('float64')]).ok).toBe(true);
  });

  it('names itself as Keras does and reports shape mismatches', () => {
    resetLayerNames();
    expect([new Dense(1).name, new Dense(1).name, new Conv2D(1, 3).name, new MaxPooling2D().name]).toEqual(['dense', 'dense_1', 'conv2d', 'max_pooling2d']);
    const d = new Dense(2, { name: 'head' });
    d.build([null, 3]);
    expect(() => d.apply(randn([4, 5]))).toThrow('head (Dense): input [4,5] has 5 features, kernel [3,2] expects 3');
    expect(() => new Dense(2, { activation: 'relux' as never })).toThrow(/unknown activation 'relux'/);
  });
});

describe('Flatten, Activation, Dropout', () => {
  it('Flatten keeps the batch axis', () => {
    const f = new Flatten();
    expect(f.apply(randn([2, 3, 4, 5])).shape).toEqual([2, 60]);
    expect(f.computeOutputShape([null, 3, 4, 5])).toEqual([null, 60]);
  });

  it('Activation softmax rows sum to one', () => {
    const y = new Activation('softmax').apply(randn([3, 7], { seed: 2 }));
    for (const s of y.data.sum(1).dataSync()) expect(s).toBeCloseTo(1, 6);
  });

  it('Dropout is the identity in inference and keeps the mean in training (inverted scaling)', () => {
    const drop = new Dropout(0.3, { seed: 5 });
    const x = tensor(new Float32Array(20000).fill(1), { shape: [100, 200] });
    expect(drop.apply(x, { training: false }).data.dataSync()).toEqual(x.dataSync());
    const y = drop.apply(x, { training: true }).data.dataSync();
    const zeros = y.filter((v) => v === 0).length / y.length;
    expect(zeros).toBeGreaterThan(0.27);
    expect(zeros).toBeLessThan(0.33);
    const kept = y.filter((v) => v !== 0);
    expect(Math.max(...kept) - Math.min(...kept)).toBeLessThan(1e-6);
    expect(kept[0]).toBeCloseTo(1 / 0.7, 5);
    const mean = Array.from(y).reduce((s, v) => s + v, 0) / y.length;
    expect(mean).toBeGreaterThan(0.97);
    expect(mean).toBeLessThan(1.03);
  });

  it('Dropout with a seed is reproducible', () => {
    const x = randn([10, 10], { seed: 3 });
    const a = new Dropout(0.5, { seed: 9 }).apply(x, { training: true }).data.dataSync();
    const b = new Dropout(0.5, { seed: 9 }).apply(x, { training: true }).data.dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});

describe('Embedding', () => {
  it('looks up rows, masks id 0 and accumulates gradients of repeated ids', () => {
    const e = new Embedding(5, 3, { maskZero: true });
    const ids = tensor([[1, 2, 1, 0]], { dtype: 'int32' });
    const y = e.apply(ids);
    const table = e.embeddings!.data.toArray() as number[][];
    expect(y.toArray()).toEqual([[table[1], table[2], table[1], table[0]]]);
    expect(e.computeMask(new Variable(ids), null)!.toArray()).toEqual([[1, 1, 1, 0]]);
    y.sum().backward();
    const g = e.embeddings!.grad!.toArray() as number[][];
    expect(g).toEqual([[1, 1, 1], [2, 2, 2], [1, 1, 1], [0, 0, 0], [0, 0, 0]]);
  });

  it('passes gradcheck in the table', () => {
    const ids = tensor([[3, 0, 3], [1, 1, 2]], { dtype: 'int32' });
    const t = randn([4, 2], { seed: 4, dtype: 'float64' });
    expect(gradcheck((table) => embeddingLookup(table, ids), [t]).ok).toBe(true);
  });

  it('rejects ids outside the vocabulary: the CPU gather by itself (fit names the layer: sequential.test.ts)', () => {
    const e = new Embedding(3, 2, { name: 'emb' });
    expect(() => e.apply(tensor([[1, 3]], { dtype: 'int32' }))).toThrow('gather: index 3 is out of range for axis 0 of size 3');
  });
});

describe('Conv2D and pooling layers', () => {
  it('output shapes agree with computeOutputShape for valid and same, stride 1 and 2', () => {
    for (const padding of ['valid', 'same'] as const) {
      for (const strides of [1, 2]) {
        const c = new Conv2D(4, [3, 2], { padding, strides });
        const y = c.apply(randn([2, 9, 8, 3], { seed: 1 }));
        expect([...y.shape]).toEqual(c.computeOutputShape([2, 9, 8, 3]));
        const p = new MaxPooling2D({ poolSize: 2, strides, padding });
        expect([...p.apply(y).shape]).toEqual(p.computeOutputShape(y.shape));
      }
    }
  });

  it('Conv2D equals a direct convolution computed with loops', () => {
    const c = new Conv2D(2, 2, { activation: 'linear' });
    const x = randn([1, 3, 3, 2], { seed: 6 });
    const y = c.apply(x).data;
    const K = c.kernel!.data, b = c.bias!.data;
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) for (let f = 0; f < 2; f++) {
      let s = b.get(f);
      for (let di = 0; di < 2; di++) for (let dj = 0; dj < 2; dj++) for (let ch = 0; ch < 2; ch++) s += x.get(0, i + di, j + dj, ch) * K.get(di, dj, ch, f);
      expect(y.get(0, i, j, f)).toBeCloseTo(s, 5);
    }
  });

  it('AveragePooling2D averages windows', () => {
    const x = tensor([[[[1], [2]], [[3], [4]]]]);
    expect(new AveragePooling2D().apply(x).toArray()).toEqual([[[[2.5]]]]);
  });

  it('Conv2D names the layer and channels on a mismatch', () => {
    const c = new Conv2D(8, 3, { name: 'conv_a' });
    c.build([null, 8, 8, 3]);
    expect(() => c.apply(randn([1, 8, 8, 4]))).toThrow(/conv2d: input \[1,8,8,4\] has 4 channels, kernel \[3,3,3,8\] expects 3/);
  });
});

describe('initializers', () => {
  it('glorot_uniform stays within its limit √(6/(fanIn+fanOut)) and uses Keras fans for conv kernels', () => {
    const w = initializers.glorotUniform([3, 3, 16, 32], new Random(1)).dataSync();
    const limit = Math.sqrt(6 / (16 * 9 + 32 * 9));
    expect(Math.max(...w)).toBeLessThanOrEqual(limit);
    expect(Math.min(...w)).toBeGreaterThanOrEqual(-limit);
    expect(Math.max(...w)).toBeGreaterThan(0.9 * limit);
  });

  it('orthogonal gives orthonormal rows for a wide recurrent kernel [u, 4u] and columns for a tall one', () => {
    for (const shape of [[8, 32], [32, 8]]) {
      const q = initializers.orthogonal()(shape, new Random(2));
      const gram = shape[0] < shape[1] ? q.matmul(q.T) : q.T.matmul(q);
      const n = Math.min(...shape);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(gram.get(i, j)).toBeCloseTo(i === j ? 1 : 0, 5);
    }
  });

  it('the same seed gives the same weights', () => {
    setSeed(123);
    const a = new Dense(3); a.build([null, 4]);
    setSeed(123);
    const b = new Dense(3); b.build([null, 4]);
    expect(a.kernel!.data.toArray()).toEqual(b.kernel!.data.toArray());
  });
});

describe('Module state', () => {
  it('loadStateDict refuses a wrong shape whole, naming the entry, and loads a right one', () => {
    const a = new Dense(3); a.build([null, 2]);
    const b = new Dense(3); b.build([null, 2]);
    const bad = new Map<string, Tensor>([['kernel', randn([3, 3])], ['bias', randn([3])]]);
    const before = b.bias!.data.toArray();
    expect(() => b.loadStateDict(bad)).toThrow("loadStateDict: 'kernel' expects shape [2,3], got [3,3]");
    expect(b.bias!.data.toArray()).toEqual(before);
    b.loadStateDict(a.stateDict());
    expect(b.kernel!.data.toArray()).toEqual(a.kernel!.data.toArray());
    expect(() => b.loadStateDict(new Map([['kernel', randn([2, 3])]]))).toThrow('loadStateDict: missing bias');
  });
});
