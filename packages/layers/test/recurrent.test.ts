import { F, Variable, gradcheck } from '@gradlab/autograd';
import { tensor, zeros } from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import { LSTM } from '../src/layers/recurrent';
const { lstmCell, lstmCellComposite, lstmSequence } = F;
/** The fused cell's two outputs side by side, so that gradcheck (one output) sees both. */
const cellBoth = (xz: Variable, h: Variable, c: Variable, U: Variable) => { const s = lstmCell(xz, h, c, U); return F.concat([s.h, s.c], 1); };
import { resetLayerNames } from '../src/layer';
import { layerFromConfig } from '../src/models/save';
import { referenceLstm, pseudoRandom, maxAbsDiff, hardSigmoid } from './lstm-reference';
import type { Matrix } from './lstm-reference';

const f64 = (values: number[] | Matrix | number[][][]) => tensor(values, { dtype: 'float64' });

/** An LSTM built for `features` inputs, with the given weights (float64, so results are exact). */
function lstmWith(units: number, features: number, weights: { W: Matrix; U: Matrix; b: number[] }, args: ConstructorParameters<typeof LSTM>[1] = {}): LSTM {
  const layer = new LSTM(units, args);
  layer.build([null, null, features]);
  layer.kernel!.data = f64(weights.W);
  layer.recurrentKernel!.data = f64(weights.U);
  layer.bias!.data = f64(weights.b);
  return layer;
}

function randomWeights(features: number, u: number, seed: number): { W: Matrix; U: Matrix; b: number[] } {
  return { W: pseudoRandom(features, 4 * u, seed, 0.8), U: pseudoRandom(u, 4 * u, seed + 1, 0.8), b: pseudoRandom(1, 4 * u, seed + 2, 0.5)[0] };
}

/** x [B, T, F] and a right-padded mask for the given lengths. */
function batch(B: number, T: number, F: number, seed: number, lengths?: number[]) {
  const x = Array.from({ length: B }, (_, b) => pseudoRandom(T, F, seed + b, 1.5));
  const mask = lengths ? lengths.map((L) => Array.from({ length: T }, (_, t) => (t < L ? 1 : 0))) : null;
  return { x, mask };
}

beforeEach(() => resetLayerNames());

describe('LSTM construction', () => {
  it('has Keras\'s weights and parameter count 4·u·(in + u + 1)', () => {
    const layer = new LSTM(128);
    layer.build([null, 50, 40]);
    expect(layer.namedParameters().map(([name, p]) => [name, p.shape])).toEqual([
      ['kernel', [40, 512]], ['recurrentKernel', [128, 512]], ['bias', [512]],
    ]);
    expect(layer.countParams().trainable).toBe(4 * 128 * (40 + 128 + 1)); // 86,528 as in Keras's summary
    const second = new LSTM(64);
    second.build([null, 50, 128]);
    expect(second.countParams().total).toBe(49_408);
  });

  it('starts the forget gate\'s bias at 1 (unitForgetBias) and the others at 0', () => {
    const layer = new LSTM(3);
    layer.build([null, 4, 2]);
    expect(layer.bias!.toArray()).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
    const plain = new LSTM(3, { unitForgetBias: false });
    plain.build([null, 4, 2]);
    expect(plain.bias!.toArray()).toEqual(new Array(12).fill(0));
  });

  it('has an orthogonal recurrent kernel: the rows of U [u, 4u] are orthonormal', () => {
    const layer = new LSTM(4);
    layer.build([null, 3, 5]);
    const U = layer.recurrentKernel!.toArray() as number[][];
    for (let a = 0; a < 4; a++) {
      for (let b = 0; b < 4; b++) {
        const dot = U[a].reduce((s, v, j) => s + v * U[b][j], 0);
        expect(dot).toBeCloseTo(a === b ? 1 : 0, 5);
      }
    }
  });

  it('names itself lstm, lstm_1 and reports shapes and masks as Keras does', () => {
    const a = new LSTM(8), b = new LSTM(8, { returnSequences: true });
    expect([a.name, b.name]).toEqual(['lstm', 'lstm_1']);
    expect(a.computeOutputShape([null, 50, 40])).toEqual([null, 8]);
    expect(b.computeOutputShape([null, 50, 40])).toEqual([null, 50, 8]);
    const x = new Variable(zeros([2, 3, 4]));
    const mask = tensor([[1, 1, 0], [1, 0, 0]]);
    expect(a.computeMask(x, mask)).toBeNull();
    expect(b.computeMask(x, mask)).toBe(mask);
    expect(a.supportsMasking).toBe(true);
    expect(b.getConfig()).toMatchObject({ name: 'lstm_1', units: 8, returnSequences: true, goBackwards: false, unitForgetBias: true });
  });

  it('rebuilds from its JSON config (models.load) and, with the same weights, computes the same outputs', () => {
    const layer = new LSTM(3, { returnSequences: true, goBackwards: true, unitForgetBias: false, name: 'enc', recurrentInitializer: 'glorot_uniform' });
    const x = tensor(batch(2, 4, 5, 61).x);
    const y = layer.apply(x);
    const config = JSON.parse(JSON.stringify(layer.getConfig()));
    const copy = layerFromConfig({ className: layer.className, config }) as LSTM;
    expect(copy).toBeInstanceOf(LSTM);
    expect(copy.getConfig()).toEqual(layer.getConfig());
    copy.build([null, null, 5]);
    copy.loadStateDict(layer.stateDict());
    expect(copy.apply(x).toArray()).toEqual(y.toArray());
  });

  it('names the layer and the shapes in its errors', () => {
    const layer = new LSTM(4);
    expect(() => layer.build([null, 10])).toThrow(/lstm \(LSTM\).*\[batch, time, features\].*\(None, 10\)/);
    const built = new LSTM(4, { name: 'enc' });
    built.apply(zeros([2, 3, 5]));
    expect(() => built.apply(zeros([2, 3, 6]))).toThrow('enc (LSTM): expects inputs [batch, time, 5], got [2,3,6]');
    expect(() => built.apply(zeros([2, 3, 5]), { mask: tensor([[1, 1], [1, 1]]) })).toThrow(/mask \[2,2\] does not fit input \[2,3,5\]/);
    expect(() => new LSTM(0)).toThrow(/units must be a positive integer/);
  });
});

describe('LSTM forward against a naive float64 reference', () => {
  it('computes one step of a 1-unit LSTM by hand', () => {
    // W = [0, 0, 1, 0] (x feeds only the candidate), U = 0, b = 0, x = 1, starting from h = c = 0:
    //   i = f = o = σ(0) = 1/2,  c̃ = tanh(1),  c = ½·0 + ½·tanh(1),  h = ½·tanh(c)
    const layer = lstmWith(1, 1, { W: [[0, 0, 1, 0]], U: [[0, 0, 0, 0]], b: [0, 0, 0, 0] });
    const { output, h, c } = layer.callWithState(f64([[[1]]]));
    const cExpected = 0.5 * Math.tanh(1);
    expect(c.item()).toBeCloseTo(cExpected, 12);
    expect(h.item()).toBeCloseTo(0.5 * Math.tanh(cExpected), 12);
    expect(output.item()).toBe(h.item());
  });

  it('matches the reference on a 1-unit LSTM with fixed weights over several steps', () => {
    const weights = { W: [[0.5, -0.3, 0.8, 0.2]], U: [[0.1, 0.4, -0.6, 0.3]], b: [0.05, 1, -0.1, 0.2] };
    const layer = lstmWith(1, 1, weights, { returnSequences: true });
    const x = [[[1], [-2], [0.5], [3]]];
    const ref = referenceLstm(x, weights.W, weights.U, weights.b, null);
    expect(maxAbsDiff(layer.apply(f64(x)).toArray(), ref.outputs)).toBeLessThan(1e-12);
  });

  it.each([
    ['last output', { returnSequences: false, goBackwards: false, zeroOutputForMask: false }],
    ['sequences', { returnSequences: true, goBackwards: false, zeroOutputForMask: false }],
    ['sequences, going backwards', { returnSequences: true, goBackwards: true, zeroOutputForMask: false }],
    ['sequences, zero output for mask', { returnSequences: true, goBackwards: false, zeroOutputForMask: true }],
    ['last output, zero output for mask', { returnSequences: false, goBackwards: false, zeroOutputForMask: true }],
  ] as const)('matches the reference (%s), with and without a mask', (_label, args) => {
    const [B, T, F, u] = [3, 5, 4, 3];
    const w = randomWeights(F, u, 7);
    const { x, mask } = batch(B, T, F, 11, [5, 3, 1]);
    for (const m of [null, mask]) {
      const layer = lstmWith(u, F, w, args);
      const ref = referenceLstm(x, w.W, w.U, w.b, m, args.goBackwards, args.zeroOutputForMask);
      const { output, h, c } = layer.callWithState(f64(x), { mask: m ? tensor(m) : null });
      const expected = args.returnSequences ? ref.outputs : ref.outputs.map((seq) => seq[T - 1]);
      expect(maxAbsDiff(output.toArray(), expected)).toBeLessThan(1e-12);
      expect(maxAbsDiff(h.toArray(), ref.h)).toBeLessThan(1e-12);
      expect(maxAbsDiff(c.toArray(), ref.c)).toBeLessThan(1e-12);
      expect(maxAbsDiff(layer.apply(f64(x), { mask: m ? tensor(m) : null }).toArray(), expected)).toBeLessThan(1e-12);
    }
  });

  it('computes in float32 when given float32, within float32 rounding of the reference', () => {
    const w = randomWeights(4, 3, 3);
    const { x } = batch(2, 6, 4, 5);
    const layer = new LSTM(3, { returnSequences: true });
    layer.build([null, null, 4]);
    layer.kernel!.data = tensor(w.W); layer.recurrentKernel!.data = tensor(w.U); layer.bias!.data = tensor(w.b);
    const y = layer.apply(tensor(x));
    expect(y.dtype).toBe('float32');
    expect(maxAbsDiff(y.toArray(), referenceLstm(x, w.W, w.U, w.b, null).outputs)).toBeLessThan(1e-5);
  });
});

describe('LSTM masks', () => {
  it('carries state over padding: a right-padded sequence ends as the unpadded one', () => {
    const w = randomWeights(4, 3, 21);
    const { x } = batch(1, 6, 4, 23); // 6 steps of which the last 2 are padding (with non-zero junk)
    const short = [x[0].slice(0, 4)];
    const layer = lstmWith(3, 4, w);
    const padded = layer.callWithState(f64(x), { mask: tensor([[1, 1, 1, 1, 0, 0]]) });
    const unpadded = layer.callWithState(f64(short));
    expect(maxAbsDiff(padded.output.toArray(), unpadded.output.toArray())).toBeLessThan(1e-14);
    expect(maxAbsDiff(padded.c.toArray(), unpadded.c.toArray())).toBeLessThan(1e-14);
    // and the junk does matter without the mask
    expect(maxAbsDiff(layer.apply(f64(x)).toArray(), unpadded.output.toArray())).toBeGreaterThan(1e-3);
  });

  it('repeats the previous output at a padded step (returnSequences)', () => {
    const w = randomWeights(2, 2, 31);
    const { x } = batch(1, 5, 2, 33);
    const layer = lstmWith(2, 2, w, { returnSequences: true });
    const y = layer.apply(f64(x), { mask: tensor([[1, 0, 1, 1, 0]]) }).toArray() as number[][][];
    expect(y[0][1]).toEqual(y[0][0]);
    expect(y[0][4]).toEqual(y[0][3]);
    expect(maxAbsDiff(y[0][2], y[0][1])).toBeGreaterThan(1e-3);
    // a sequence that starts with padding outputs zeros until its first real step
    const z = layer.apply(f64(x), { mask: tensor([[0, 0, 1, 1, 1]]) }).toArray() as number[][][];
    expect(z[0][0]).toEqual([0, 0]);
    expect(z[0][1]).toEqual([0, 0]);
  });

  it('outputs zeros at padded steps with zeroOutputForMask, still carrying the state', () => {
    const w = randomWeights(2, 2, 31);
    const { x } = batch(1, 5, 2, 33);
    const mask = tensor([[1, 0, 1, 1, 0]]);
    const plain = lstmWith(2, 2, w, { returnSequences: true }).apply(f64(x), { mask }).toArray() as number[][][];
    const zeroed = lstmWith(2, 2, w, { returnSequences: true, zeroOutputForMask: true }).callWithState(f64(x), { mask });
    const y = zeroed.output.toArray() as number[][][];
    expect(y[0][1]).toEqual([0, 0]);
    expect(y[0][4]).toEqual([0, 0]);
    for (const t of [0, 2, 3]) expect(y[0][t]).toEqual(plain[0][t]); // real steps unchanged: the state was carried
    expect(zeroed.h.toArray()).toEqual([plain[0][4]]);
  });
});

describe('the fused LSTM cell', () => {
  const [B, u] = [3, 2];
  const inputs = () => [
    f64(pseudoRandom(B, 4 * u, 41, 1.5)), f64(pseudoRandom(B, u, 42)), f64(pseudoRandom(B, u, 43)), f64(pseudoRandom(u, 4 * u, 44)),
  ].map((t) => new Variable(t, { requiresGrad: true }));

  it('agrees with the composite cell (autograd primitives) forward and backward', () => {
    const a = inputs(), b = inputs();
    const fused = lstmCell(a[0], a[1], a[2], a[3]);
    const composite = lstmCellComposite(b[0], b[1], b[2], b[3]);
    expect(maxAbsDiff(fused.h.toArray(), composite.h.toArray())).toBeLessThan(1e-14);
    expect(maxAbsDiff(fused.c.toArray(), composite.c.toArray())).toBeLessThan(1e-14);
    // a loss that uses both h and c, with different weights, so both halves of the gradient matter
    const loss = (s: { h: Variable; c: Variable }) => s.h.mul(f64(pseudoRandom(B, u, 45))).sum().add(s.c.mul(f64(pseudoRandom(B, u, 46))).sum());
    loss(fused).backward();
    loss(composite).backward();
    for (let k = 0; k < 4; k++) {
      expect(a[k].grad).not.toBeNull();
      expect(maxAbsDiff(a[k].grad!.toArray(), b[k].grad!.toArray())).toBeLessThan(1e-13);
    }
  });

  it('passes gradcheck', () => {
    const report = gradcheck(cellBoth, inputs());
    expect(report.checked).toBe(B * 4 * u + 2 * B * u + u * 4 * u);
  });

  it('says which shapes do not fit', () => {
    const [xz, h, c] = inputs();
    expect(() => lstmCell(xz, h, c, new Variable(zeros([u, 3 * u], 'float64')))).toThrow(/lstmCell: .*U \[2,6\]/);
  });
});

describe('backpropagation through time', () => {
  const [B, T, F, u] = [2, 4, 3, 2];
  const w = randomWeights(F, u, 51);
  const { x, mask } = batch(B, T, F, 53, [4, 2]);

  /** The whole layer as a function of (x, W, U, b), for gradcheck. */
  function layerFn(args: ConstructorParameters<typeof LSTM>[1], m: Tensor | null, part: 'output' | 'c' = 'output') {
    const layer = lstmWith(u, F, w, args);
    return (xv: Variable, W: Variable, U: Variable, b: Variable) => {
      layer.kernel = W; layer.recurrentKernel = U; layer.bias = b;
      const r = layer.callWithState(xv, { mask: m });
      return part === 'output' ? r.output : r.c;
    };
  }
  const inputs = () => [f64(x), f64(w.W), f64(w.U), f64(w.b)];

  it.each([
    ['last output, no mask', {}, false],
    ['last output, masked', {}, true],
    ['sequences, masked', { returnSequences: true }, true],
    ['sequences backwards, masked', { returnSequences: true, goBackwards: true }, true],
    ['unrolled sequences, masked', { returnSequences: true, unroll: true }, true],
    ['sequences, zero output for mask', { returnSequences: true, zeroOutputForMask: true }, true],
    ['last output, zero output for mask', { zeroOutputForMask: true }, true],
  ] as const)('gradcheck of a whole LSTM: %s', (_label, args, masked) => {
    const report = gradcheck(layerFn(args, masked ? tensor(mask!) : null), inputs());
    expect(report.checked).toBe(B * T * F + F * 4 * u + u * 4 * u + 4 * u);
  });

  it('gradcheck through the final cell state (returnState)', () => {
    gradcheck(layerFn({ returnSequences: true }, tensor(mask!), 'c'), inputs());
  });

  it('gives padded steps no gradient: the input at a masked step does not matter', () => {
    const layer = lstmWith(u, F, w, { returnSequences: true });
    const xv = new Variable(f64(x), { requiresGrad: true });
    layer.apply(xv, { mask: tensor(mask!) }).sum().backward();
    const g = xv.grad!.toArray() as number[][][];
    expect(g[1][2]).toEqual([0, 0, 0]);
    expect(g[1][3]).toEqual([0, 0, 0]);
    expect(maxAbsDiff(g[1][1], [0, 0, 0])).toBeGreaterThan(1e-6);
  });

  it.each([
    ['sequences backwards', { returnSequences: true, goBackwards: true }],
    ['sequences, zero output for mask', { returnSequences: true, zeroOutputForMask: true }],
    ['last output, zero output for mask', { zeroOutputForMask: true }],
  ] as const)('the one-node sequence op and the unrolled graph of cell nodes give the same values and gradients (%s)', (_label, args) => {
    const run = (unroll: boolean) => {
      const layer = lstmWith(u, F, w, { ...args, unroll });
      const xv = new Variable(f64(x), { requiresGrad: true });
      const y = layer.apply(xv, { mask: tensor(mask!) });
      const r = f64(Array.from({ length: B }, (_, b) => pseudoRandom(T, u, 57 + b)));
      (y.rank === 3 ? y.mul(r) : y.mul(r.slice([null, 0]))).sum().backward();
      return { y: y.toArray(), grads: [xv, ...layer.parameters()].map((p) => p.grad!.toArray()) };
    };
    const fused = run(false), unrolled = run(true);
    expect(maxAbsDiff(fused.y, unrolled.y)).toBeLessThan(1e-14);
    fused.grads.forEach((g, k) => expect(maxAbsDiff(g, unrolled.grads[k])).toBeLessThan(1e-13));
  });

  it('records one node for the recurrence, or one per step when unrolled', () => {
    const layer = lstmWith(u, F, w);
    const y = layer.apply(f64(x));
    expect(y.gradFn?.op).toBe('reshape');
    expect(y.gradFn?.inputs[0].gradFn?.op).toBe('lstmSequence');
    const xw = new Variable(zeros([B, T, 4 * u], 'float64'), { requiresGrad: true });
    const direct = lstmSequence(xw, layer.recurrentKernel!, layer.bias!, { mask: null, goBackwards: false, returnSequences: false, returnState: true, timeAligned: false, zeroOutputForMask: false });
    expect(direct.shape).toEqual([B, 3, u]); // last output, then h and c
  });
});

describe("recurrentActivation: 'hardSigmoid' (TF.js's default)", () => {
  const [B, T, nIn, u] = [2, 4, 3, 2];
  // large weights, so that some gates saturate (0 or 1, slope 0) and others do not (slope 0.2)
  const w = { W: pseudoRandom(nIn, 4 * u, 61, 2.5), U: pseudoRandom(u, 4 * u, 62, 2), b: pseudoRandom(1, 4 * u, 63, 1)[0] };
  const { x, mask } = batch(B, T, nIn, 64, [4, 2]);
  const hard = { recurrentActivation: 'hardSigmoid' } as const;

  it('gives the outputs of the plain float64 reference, with gates both saturated and not', () => {
    const layer = lstmWith(u, nIn, w, { ...hard, returnSequences: true });
    const ref = referenceLstm(x, w.W, w.U, w.b, mask, false, false, hardSigmoid);
    expect(maxAbsDiff(layer.apply(f64(x), { mask: tensor(mask!) }).toArray(), ref.outputs)).toBeLessThan(1e-14);
    // the sigmoid's reference differs: the activation is really used
    expect(maxAbsDiff(ref.outputs, referenceLstm(x, w.W, w.U, w.b, mask).outputs)).toBeGreaterThan(1e-3);
    const z = f64(x).reshape([B * T, nIn]).matmul(f64(w.W)).add(f64(w.b)).toArray() as number[][];
    const gates = z.flat().map(hardSigmoid);
    expect(gates.some((g) => g === 0 || g === 1)).toBe(true);
    expect(gates.some((g) => g > 0 && g < 1)).toBe(true);
  });

  it('the fused cell agrees with the composite cell (0.2·z + 0.5 clipped, from primitives) forward and backward', () => {
    const make = () => [f64(pseudoRandom(3, 4 * u, 65, 4)), f64(pseudoRandom(3, u, 66)), f64(pseudoRandom(3, u, 67)), f64(pseudoRandom(u, 4 * u, 68))]
      .map((t) => new Variable(t, { requiresGrad: true }));
    const a = make(), b = make();
    const fused = lstmCell(a[0], a[1], a[2], a[3], 'hardSigmoid');
    const composite = lstmCellComposite(b[0], b[1], b[2], b[3], 'hardSigmoid');
    expect(maxAbsDiff(fused.h.toArray(), composite.h.toArray())).toBeLessThan(1e-14);
    expect(maxAbsDiff(fused.c.toArray(), composite.c.toArray())).toBeLessThan(1e-14);
    const loss = (s: { h: Variable; c: Variable }) => s.h.mul(f64(pseudoRandom(3, u, 69))).sum().add(s.c.mul(f64(pseudoRandom(3, u, 70))).sum());
    loss(fused).backward();
    loss(composite).backward();
    for (let k = 0; k < 4; k++) expect(maxAbsDiff(a[k].grad!.toArray(), b[k].grad!.toArray())).toBeLessThan(1e-13);
  });

  it('passes gradcheck for the fused cell and for a whole masked LSTM', () => {
    const cell = (xz: Variable, h: Variable, c: Variable, U: Variable) => { const s = lstmCell(xz, h, c, U, 'hardSigmoid'); return F.concat([s.h, s.c], 1); };
    gradcheck(cell, [f64(pseudoRandom(3, 4 * u, 71, 4)), f64(pseudoRandom(3, u, 72)), f64(pseudoRandom(3, u, 73)), f64(pseudoRandom(u, 4 * u, 74))]
      .map((t) => new Variable(t, { requiresGrad: true })));
    for (const args of [{ ...hard, returnSequences: true }, { ...hard, returnSequences: true, goBackwards: true, unroll: true }]) {
      const layer = lstmWith(u, nIn, w, args);
      const report = gradcheck((xv: Variable, W: Variable, U: Variable, b: Variable) => {
        layer.kernel = W; layer.recurrentKernel = U; layer.bias = b;
        return layer.apply(xv, { mask: tensor(mask!) });
      }, [f64(x), f64(w.W), f64(w.U), f64(w.b)]);
      expect(report.checked).toBe(B * T * nIn + nIn * 4 * u + u * 4 * u + 4 * u);
    }
  });

  it('the one-node sequence and the unrolled cells agree, values and gradients', () => {
    const run = (unroll: boolean) => {
      const layer = lstmWith(u, nIn, w, { ...hard, returnSequences: true, unroll });
      const xv = new Variable(f64(x), { requiresGrad: true });
      layer.apply(xv, { mask: tensor(mask!) }).mul(f64(Array.from({ length: B }, (_, b) => pseudoRandom(T, u, 75 + b)))).sum().backward();
      return [xv, ...layer.parameters()].map((p) => p.grad!.toArray());
    };
    const fused = run(false), unrolled = run(true);
    fused.forEach((g, k) => expect(maxAbsDiff(g, unrolled[k])).toBeLessThan(1e-13));
  });

  it("is saved in the config, read back, and an unknown activation is refused naming the layer", () => {
    const layer = new LSTM(3, { recurrentActivation: 'hard_sigmoid' });
    expect(layer.recurrentActivation).toBe('hardSigmoid');
    expect(layer.getConfig()).toMatchObject({ recurrentActivation: 'hardSigmoid' });
    expect((layerFromConfig({ className: 'LSTM', config: layer.getConfig() }) as LSTM).recurrentActivation).toBe('hardSigmoid');
    expect(new LSTM(3).getConfig()).not.toHaveProperty('recurrentActivation');
    expect(() => new LSTM(3, { recurrentActivation: 'tanh' as never })).toThrow(/lstm_\d+ \(LSTM\).*recurrentActivation "tanh" is not one of 'sigmoid', 'hardSigmoid'/);
    const v = (rows: number, cols: number) => new Variable(zeros([rows, cols], 'float64'));
    expect(() => lstmCell(v(1, 4), v(1, 1), v(1, 1), v(1, 4), 'relu' as never))
      .toThrow(/lstmCell: recurrentActivation "relu"/);
  });
});
