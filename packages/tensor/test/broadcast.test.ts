/**
 * Broadcasting of every binary op against a naive loop: for each index of the result, map it back to each
 * operand by hand (drop the leading axes it lacks, read index 0 where it has size 1) and apply the op to
 * plain JavaScript numbers.
 */
import { Random, tensor, binary, where, broadcastShapes, broadcastIndex } from '@gradlab/tensor';
import type { BinaryOp, DType, Tensor } from '@gradlab/tensor';
import { allIndices, flatIndex, randomShape } from './reference';

/** The index into an operand of `shape` that feeds result index `i` (NumPy's rule, written out). */
function naiveBroadcastIndex(i: readonly number[], shape: readonly number[]): number[] {
  const lead = i.length - shape.length;
  return shape.map((d, k) => (d === 1 ? 0 : i[k + lead]));
}

/** The result dtype by hand: promotion int32 < float32 < float64, div/pow give floats, comparisons int32. */
function expectedDType(op: BinaryOp, a: DType, b: DType): DType {
  if (['eq', 'ne', 'lt', 'le', 'gt', 'ge'].includes(op)) return 'int32';
  const promoted: DType = a === 'float64' || b === 'float64' ? 'float64' : a === 'float32' || b === 'float32' ? 'float32' : 'int32';
  return (op === 'div' || op === 'pow') && promoted === 'int32' ? 'float32' : promoted;
}

const NAIVE: Record<BinaryOp, (x: number, y: number) => number> = {
  add: (x, y) => x + y, sub: (x, y) => x - y, mul: (x, y) => x * y, div: (x, y) => x / y,
  pow: (x, y) => Math.pow(x, y), maximum: (x, y) => Math.max(x, y), minimum: (x, y) => Math.min(x, y),
  eq: (x, y) => +(x === y), ne: (x, y) => +(x !== y), lt: (x, y) => +(x < y),
  le: (x, y) => +(x <= y), gt: (x, y) => +(x > y), ge: (x, y) => +(x >= y),
  reluGrad: (x, y) => (y > 0 ? x : 0),
};
const OPS = Object.keys(NAIVE) as BinaryOp[];

/** Store a JavaScript number as `dtype` would (float32 rounds, int32 wraps). */
function asStored(v: number, dtype: DType): number {
  return dtype === 'float32' ? Math.fround(v) : dtype === 'int32' ? v | 0 : v;
}

/** Two shapes that broadcast to `out`: each drops some leading axes and turns some dimensions into 1. */
function operandShapes(rng: Random, out: number[]): [number[], number[]] {
  const derive = () => out.slice(rng.int(out.length + 1)).map((d) => (rng.next() < 0.3 ? 1 : d));
  return [derive(), derive()];
}

/** Values small integers (so comparisons hit equality) or positive floats (so pow stays real). */
function operand(rng: Random, shape: number[], dtype: DType, op: BinaryOp): { t: Tensor; values: number[] } {
  const n = shape.reduce((p, d) => p * d, 1);
  const draw = () => {
    if (dtype === 'int32') return op === 'pow' || op === 'div' ? 1 + rng.int(4) : rng.int(7) - 3;
    return op === 'pow' || op === 'div' ? 0.5 + rng.next() * 2 : Math.round(rng.normal() * 4) / 2;
  };
  const values = Array.from({ length: n }, () => asStored(draw(), dtype));
  let t = tensor(values, { shape, dtype });
  // Half the time read the operand through a non-contiguous view holding the same values.
  if (shape.length >= 2 && rng.next() < 0.5) {
    const perm = shape.map((_, k) => shape.length - 1 - k);
    const flipped = perm.map((a) => shape[a]);
    const transposedValues = allIndices(flipped).map((j) => values[flatIndex(perm.map((_, k) => j[perm.indexOf(k)]), shape)]);
    t = tensor(transposedValues, { shape: flipped, dtype }).transpose(perm);
  }
  return { t, values };
}

describe('broadcasting against a naive loop', () => {
  it('every binary op, random compatible shapes and dtypes, contiguous and strided operands', () => {
    const rng = new Random(7);
    const dtypes: DType[] = ['float32', 'float64', 'int32'];
    let compared = 0;
    for (let trial = 0; trial < 260; trial++) {
      const op = OPS[trial % OPS.length];
      const outShape = randomShape(rng, 4, 4);
      const [shapeA, shapeB] = operandShapes(rng, outShape);
      const dA = dtypes[rng.int(3)], dB = dtypes[rng.int(3)];
      const a = operand(rng, shapeA, dA, op), b = operand(rng, shapeB, dB, op);
      const result = binary(op, a.t, b.t);
      const expectedShape = broadcastShapes(op, shapeA, shapeB); // checked against the naive rule below
      const dtype = expectedDType(op, dA, dB);
      expect({ op, shape: result.shape, dtype: result.dtype }).toEqual({ op, shape: expectedShape, dtype });
      const data = result.dataSync();
      allIndices(expectedShape).forEach((i, p) => {
        // every operand index must be inside its shape: that is the broadcasting rule itself
        const ia = naiveBroadcastIndex(i, shapeA), ib = naiveBroadcastIndex(i, shapeB);
        const x = a.values[flatIndex(ia, shapeA)], y = b.values[flatIndex(ib, shapeB)];
        const expected = asStored(NAIVE[op](x, y), dtype);
        if (data[p] !== expected) throw new Error(`${op} ${dA}${JSON.stringify(shapeA)} ${dB}${JSON.stringify(shapeB)} at [${i}]: ${data[p]}, expected ${expected}`);
        compared++;
      });
    }
    expect(compared).toBeGreaterThan(1000);
  });

  it('broadcastShapes and broadcastIndex (shape.ts) agree with the naive rule', () => {
    const rng = new Random(11);
    for (let trial = 0; trial < 200; trial++) {
      const out = randomShape(rng, 4, 4);
      const [a, b] = operandShapes(rng, out);
      const shape = broadcastShapes('test', a, b);
      // the naive result: the larger of the two aligned dimensions (missing = 1)
      const rank = Math.max(a.length, b.length);
      const naive = Array.from({ length: rank }, (_, k) => Math.max(a[a.length - rank + k] ?? 1, b[b.length - rank + k] ?? 1));
      expect(shape).toEqual(naive);
      for (const i of allIndices(shape)) expect(broadcastIndex(i, shape, a, [])).toEqual(naiveBroadcastIndex(i, a));
    }
  });

  it('where broadcasts its three operands', () => {
    const cond = tensor([[1], [0]], { dtype: 'int32' });     // [2,1]
    const a = tensor([10, 20, 30]);                          // [3]
    const b = tensor([[-1, -2, -3], [-4, -5, -6]]).T.T;      // [2,3]
    // row 0 takes a (cond 1), row 1 takes b (cond 0)
    expect(where(cond, a, b).toArray()).toEqual([[10, 20, 30], [-4, -5, -6]]);
  });

  it('names the op, both shapes and the failing dimension', () => {
    expect(() => tensor([[1, 2, 3]]).mul(tensor([[1], [2]]).reshape([2, 1]).broadcastTo([2, 2])))
      .toThrow('mul: shapes [1,3] and [2,2] cannot be broadcast (dimension -1: 3 vs 2)');
    expect(() => broadcastShapes('maximum', [4, 3, 2], [5, 1, 2])).toThrow('maximum: shapes [4,3,2] and [5,1,2] cannot be broadcast (dimension -3: 4 vs 5)');
  });
});

test('reluGrad(dy, x) is dy·[x > 0] written out: 0 at x = 0, at x = NaN and at negative x, whatever dy is', () => {
  const dy = tensor([1.5, -2, 3, Infinity, NaN, 4, -0.5]);
  const x = tensor([2, 0, -1, -3, -1, NaN, 1e-30]);
  expect(Array.from(binary('reluGrad', dy, x).dataSync())).toEqual([1.5, 0, 0, 0, 0, 0, -0.5]);
  // float64 (the branch-free loop masks both halves of each element), and int32 x (the plain loop)
  const dy64 = dy.astype('float64');
  expect(Array.from(binary('reluGrad', dy64, x).dataSync())).toEqual([1.5, 0, 0, 0, 0, 0, -0.5]);
  expect(Array.from(binary('reluGrad', dy64, tensor([1, 0, -1, 2, 0, 3, 1], { dtype: 'int32' })).dataSync())).toEqual([1.5, 0, 0, Infinity, 0, 4, -0.5]);
});

test('reluGrad keeps dy bit for bit where x > 0 and gives +0 elsewhere, at every length (four at a time, in bands of 2^15)', () => {
  const SET = [-2, -0, 0, 1.5, Infinity, -Infinity, NaN, 1e-30];
  const rng = new Random(23);
  for (const dtype of ['float32', 'float64'] as const) {
    for (const n of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 2 ** 15 + 5]) for (const mixed of [true, false]) {
      // mixed: values from SET; otherwise x > 0 everywhere and dy = 1, 2, 3, …: every element must come through
      const dyValues = Array.from({ length: n }, (_, i) => (mixed ? SET[rng.int(SET.length)] : i + 1));
      const xValues = Array.from({ length: n }, () => (mixed ? SET[rng.int(SET.length)] : 1.5));
      const make = (v: number[]) => tensor(dtype === 'float32' ? new Float32Array(v) : new Float64Array(v), { shape: [n] });
      const got = binary('reluGrad', make(dyValues), make(xValues)).dataSync();
      const stored = dtype === 'float32' ? new Float32Array(dyValues) : new Float64Array(dyValues);
      xValues.forEach((x, i) => {
        const expected = x > 0 ? stored[i] : 0;
        if (!Object.is(got[i], expected)) throw new Error(`${dtype} n=${n} element ${i}: reluGrad(${dyValues[i]}, ${x}) gave ${got[i]}, expected ${expected}`);
      });
    }
  }
});
