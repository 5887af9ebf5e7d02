import { Variable, gradcheck } from '@gradlab/autograd';
import { tensor, zeros } from '@gradlab/tensor';
import { LSTM } from '../src/layers/recurrent';
import { Bidirectional } from '../src/layers/wrappers';
import type { MergeMode } from '../src/layers/wrappers';
import { resetLayerNames } from '../src/layer';
import { layerFromConfig } from '../src/models/save';
import { referenceLstm, pseudoRandom, maxAbsDiff } from './lstm-reference';
import type { Matrix } from './lstm-reference';

const f64 = (values: Matrix | number[] | number[][][]) => tensor(values, { dtype: 'float64' });
type Weights = { W: Matrix; U: Matrix; b: number[] };

function randomWeights(features: number, u: number, seed: number): Weights {
  return { W: pseudoRandom(features, 4 * u, seed, 0.8), U: pseudoRandom(u, 4 * u, seed + 1, 0.8), b: pseudoRandom(1, 4 * u, seed + 2, 0.5)[0] };
}

function setWeights(layer: LSTM, w: Weights): void {
  layer.kernel!.data = f64(w.W);
  layer.recurrentKernel!.data = f64(w.U);
  layer.bias!.data = f64(w.b);
}

/** A built Bidirectional(LSTM(u)) with known float64 weights in each direction. */
function biWith(u: number, F: number, fw: Weights, bw: Weights, lstmArgs = {}, mergeMode: MergeMode = 'concat'): Bidirectional {
  const layer = new Bidirectional(new LSTM(u, lstmArgs), { mergeMode });
  layer.build([null, null, F]);
  setWeights(layer.forwardLayer, fw);
  setWeights(layer.backwardLayer, bw);
  return layer;
}

const [B, T, F, u] = [3, 5, 2, 2];
const lengths = [5, 3, 1];
const x = Array.from({ length: B }, (_, b) => pseudoRandom(T, F, 100 + b, 1.5));
const maskRows = lengths.map((L) => Array.from({ length: T }, (_, t) => (t < L ? 1 : 0)));
const fw = randomWeights(F, u, 1), bw = randomWeights(F, u, 4);

/**
 * The expected parts, from the naive reference alone: the forward direction reads x[b][0 … L−1]; the
 * backward direction reads the real steps reversed, x[b][L−1 … 0], and its k-th output belongs to
 * time L−1−k. At padded times (t ≥ L) both are zero: Keras's Bidirectional forces zero_output_for_mask
 * when it returns sequences (and the backward direction has not started yet anyway).
 */
function expectedParts(): { fwSeq: number[][][]; bwSeq: number[][][]; fwLast: number[][]; bwLast: number[][] } {
  const fwSeq: number[][][] = [], bwSeq: number[][][] = [], fwLast: number[][] = [], bwLast: number[][] = [];
  x.forEach((seq, b) => {
    const L = lengths[b];
    const real = seq.slice(0, L);
    const f = referenceLstm([real], fw.W, fw.U, fw.b, null).outputs[0];
    const r = referenceLstm([[...real].reverse()], bw.W, bw.U, bw.b, null).outputs[0];
    fwSeq.push(Array.from({ length: T }, (_, t) => (t < L ? f[t] : new Array<number>(u).fill(0))));
    bwSeq.push(Array.from({ length: T }, (_, t) => (t < L ? r[L - 1 - t] : new Array<number>(u).fill(0))));
    fwLast.push(f[L - 1]);
    bwLast.push(r[L - 1]);
  });
  return { fwSeq, bwSeq, fwLast, bwLast };
}

beforeEach(() => resetLayerNames());

describe('Bidirectional construction', () => {
  it('has two LSTMs with their own weights: twice the parameters, named forward.* and backward.*', () => {
    const layer = new Bidirectional(new LSTM(128, { returnSequences: true }), { inputShape: [40, 300] });
    layer.build([null, 40, 300]);
    expect(layer.countParams().trainable).toBe(2 * 4 * 128 * (300 + 128 + 1)); // 439,296: the text model's first layer
    expect(layer.namedParameters().map(([name]) => name)).toEqual([
      'forward.kernel', 'forward.recurrentKernel', 'forward.bias', 'backward.kernel', 'backward.recurrentKernel', 'backward.bias',
    ]);
    expect(layer.forwardLayer.kernel).not.toBe(layer.backwardLayer.kernel);
    expect([layer.name, layer.forwardLayer.name, layer.backwardLayer.name]).toEqual(['bidirectional', 'forward_lstm', 'backward_lstm']);
    expect([layer.forwardLayer.goBackwards, layer.backwardLayer.goBackwards]).toEqual([false, true]);
    expect([layer.forwardLayer.zeroOutputForMask, layer.backwardLayer.zeroOutputForMask]).toEqual([true, true]);
    expect(new Bidirectional(new LSTM(4)).forwardLayer.zeroOutputForMask).toBe(false);
    expect(layer.computeOutputShape([null, 40, 300])).toEqual([null, 40, 256]);
    const second = new Bidirectional(new LSTM(64));
    second.build([null, 40, 256]);
    expect(second.countParams().total).toBe(164_352);
    expect(second.computeOutputShape([null, 40, 256])).toEqual([null, 128]);
    expect(new Bidirectional(new LSTM(64), { mergeMode: 'sum' }).computeOutputShape([null, 40, 256])).toEqual([null, 64]);
  });

  it('passes the mask on only with returnSequences, and records its config', () => {
    const mask = tensor(maskRows);
    const input = new Variable(zeros([B, T, F]));
    expect(new Bidirectional(new LSTM(2, { returnSequences: true })).computeMask(input, mask)).toBe(mask);
    expect(new Bidirectional(new LSTM(2)).computeMask(input, mask)).toBeNull();
    const config = new Bidirectional(new LSTM(2, { name: 'enc' }), { mergeMode: 'ave' }).getConfig();
    expect(config).toMatchObject({ mergeMode: 'ave', layer: { className: 'LSTM', config: { name: 'enc', units: 2, goBackwards: false } } });
  });

  it('rebuilds from its JSON config (models.load) and, with the same weights, computes the same outputs', () => {
    const layer = new Bidirectional(new LSTM(2, { returnSequences: true }), { mergeMode: 'mul', inputShape: [T, F] });
    const mask = tensor(maskRows);
    const y = layer.apply(tensor(x), { mask });
    const config = JSON.parse(JSON.stringify(layer.getConfig()));
    const copy = layerFromConfig({ className: 'Bidirectional', config }) as Bidirectional;
    expect(copy).toBeInstanceOf(Bidirectional);
    expect(copy.getConfig()).toEqual(layer.getConfig());
    expect(copy.backwardLayer.goBackwards).toBe(true);
    copy.build([null, T, F]);
    copy.loadStateDict(layer.stateDict());
    expect(copy.apply(tensor(x), { mask }).toArray()).toEqual(y.toArray());
  });

  it('rejects an unknown merge mode, naming the layer', () => {
    expect(() => new Bidirectional(new LSTM(2), { mergeMode: 'max' as MergeMode })).toThrow(/bidirectional \(Bidirectional\): unknown mergeMode 'max'/);
  });
});

describe('Bidirectional outputs', () => {
  it('aligns the backward direction with time, respecting right padding (returnSequences, concat)', () => {
    const layer = biWith(u, F, fw, bw, { returnSequences: true });
    const y = layer.apply(f64(x), { mask: tensor(maskRows) }).toArray() as number[][][];
    const { fwSeq, bwSeq } = expectedParts();
    const expected = fwSeq.map((seq, b) => seq.map((v, t) => [...v, ...bwSeq[b][t]]));
    expect(maxAbsDiff(y, expected)).toBeLessThan(1e-12);
  });

  it('merges the last outputs: forward after its last real step, backward after reaching step 0', () => {
    const layer = biWith(u, F, fw, bw);
    const y = layer.apply(f64(x), { mask: tensor(maskRows) }).toArray();
    const { fwLast, bwLast } = expectedParts();
    expect(maxAbsDiff(y, fwLast.map((v, b) => [...v, ...bwLast[b]]))).toBeLessThan(1e-12);
  });

  it.each([
    ['sum', (a: number, b: number) => a + b],
    ['ave', (a: number, b: number) => (a + b) / 2],
    ['mul', (a: number, b: number) => a * b],
  ] as const)('merge mode %s', (mode, combine) => {
    const layer = biWith(u, F, fw, bw, { returnSequences: true }, mode);
    const y = layer.apply(f64(x), { mask: tensor(maskRows) });
    expect(y.shape).toEqual([B, T, u]);
    const { fwSeq, bwSeq } = expectedParts();
    const expected = fwSeq.map((seq, b) => seq.map((v, t) => v.map((a, j) => combine(a, bwSeq[b][t][j]))));
    expect(maxAbsDiff(y.toArray(), expected)).toBeLessThan(1e-12);
  });

  it('without a mask, the backward direction reads the whole sequence reversed', () => {
    const layer = biWith(u, F, fw, bw, { returnSequences: true });
    const y = layer.apply(f64(x)).toArray() as number[][][];
    x.forEach((seq, b) => {
      const r = referenceLstm([[...seq].reverse()], bw.W, bw.U, bw.b, null).outputs[0];
      y[b].forEach((row, t) => expect(maxAbsDiff(row.slice(u), r[T - 1 - t])).toBeLessThan(1e-12));
    });
  });

  it('returns each direction\'s final states (returnState)', () => {
    const layer = biWith(u, F, fw, bw, { returnState: true });
    const result = layer.callWithState(f64(x), { mask: tensor(maskRows) });
    const real = x.map((seq, b) => seq.slice(0, lengths[b]));
    const cf = real.map((s) => referenceLstm([s], fw.W, fw.U, fw.b, null).c[0]);
    const cb = real.map((s) => referenceLstm([[...s].reverse()], bw.W, bw.U, bw.b, null).c[0]);
    const { fwLast, bwLast } = expectedParts();
    expect(maxAbsDiff(result.forward.h.toArray(), fwLast)).toBeLessThan(1e-12);
    expect(maxAbsDiff(result.backward.h.toArray(), bwLast)).toBeLessThan(1e-12);
    expect(maxAbsDiff(result.forward.c.toArray(), cf)).toBeLessThan(1e-12);
    expect(maxAbsDiff(result.backward.c.toArray(), cb)).toBeLessThan(1e-12);
  });

  it('passes gradcheck with a mask (inputs and both directions\' weights)', () => {
    const layer = biWith(u, F, fw, bw, { returnSequences: true });
    const mask = tensor(maskRows);
    const fn = (xv: Variable, ...w: Variable[]) => {
      [layer.forwardLayer.kernel, layer.forwardLayer.recurrentKernel, layer.forwardLayer.bias] = w.slice(0, 3);
      [layer.backwardLayer.kernel, layer.backwardLayer.recurrentKernel, layer.backwardLayer.bias] = w.slice(3);
      return layer.apply(xv, { mask });
    };
    const report = gradcheck(fn, [f64(x), f64(fw.W), f64(fw.U), f64(fw.b), f64(bw.W), f64(bw.U), f64(bw.b)]);
    expect(report.checked).toBe(B * T * F + 2 * (F * 4 * u + u * 4 * u + 4 * u));
  });
});
