import { tensor, sum as sumT } from '@gradlab/tensor';
import { F, gradcheck, variable } from '@gradlab/autograd';
import { normal, between } from './helpers';

/** Shape pairs that broadcast in every way: equal, a row, a column, a scalar, added leading axes. */
const SHAPES: Array<[number[], number[]]> = [[[2, 3], [2, 3]], [[2, 3], [3]], [[2, 3], [2, 1]], [[2, 1, 3], [4, 1]], [[3], []], [[], [2, 2]]];

describe('binary ops: gradcheck with broadcasting', () => {
  for (const [sa, sb] of SHAPES) {
    const tag = `[${sa}] and [${sb}]`;
    it(`add, sub, mul of ${tag}`, () => {
      const a = normal(sa, 1), b = normal(sb, 2);
      gradcheck((x, y) => F.add(x, y), [a, b]);
      gradcheck((x, y) => F.sub(x, y), [a, b]);
      gradcheck((x, y) => F.mul(x, y), [a, b]);
    });
    it(`div, pow of ${tag}`, () => {
      gradcheck((x, y) => F.div(x, y), [normal(sa, 3), between(sb, 0.5, 2, 4)]);
      gradcheck((x, y) => F.pow(x, y), [between(sa, 0.5, 2, 5), normal(sb, 6)]);
    });
    it(`maximum, minimum of ${tag}`, () => {
      // normal values are never equal, so no tie (where the derivative jumps) is straddled
      gradcheck((x, y) => F.maximum(x, y), [normal(sa, 7), normal(sb, 8)]);
      gradcheck((x, y) => F.minimum(x, y), [normal(sa, 9), normal(sb, 10)]);
    });
  }

  it('handles numbers and constant Tensors on either side', () => {
    gradcheck((x) => F.sub(1, x).mul(3).div(F.add(x.square(), 2)), [normal([4], 11)]);
    gradcheck((x) => F.pow(2, x).add(x.pow(3)), [normal([4], 12)]);
    gradcheck((x) => x.mul(tensor([1, -2, 3, 0.5])), [normal([2, 4], 13)]);
  });

  it('handles a reused input (x·x, x/x) and x used in two branches', () => {
    gradcheck((x) => x.mul(x), [normal([3], 14)]);
    gradcheck((x) => x.div(x).add(x), [between([3], 0.5, 2, 15)]);
    gradcheck((x, y) => x.mul(y).add(x.sub(y).mul(x)), [normal([2, 3], 16), normal([3], 17)]);
  });
});

describe('binary ops: values by hand', () => {
  it('mul with a broadcast row sums the gradient over the rows', () => {
    // L = Σ_ij a_ij b_j  ⇒  ∂L/∂b_j = Σ_i a_ij (column sums), ∂L/∂a_ij = b_j
    const a = variable([[1, 2, 3], [4, 5, 6]], { requiresGrad: true });
    const b = variable([10, 20, 30], { requiresGrad: true });
    a.mul(b).sum().backward();
    expect(b.grad!.toArray()).toEqual([5, 7, 9]);
    expect(a.grad!.toArray()).toEqual([[10, 20, 30], [10, 20, 30]]);
  });

  it('div: ∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = −a/b²', () => {
    // a = 3, b = 2: 1/2 and −3/4
    const a = variable(3, { requiresGrad: true }), b = variable(2, { requiresGrad: true });
    a.div(b).backward();
    expect(a.grad!.item()).toBe(0.5);
    expect(b.grad!.item()).toBe(-0.75);
  });

  it('pow: ∂(aᵇ)/∂a = b·aᵇ⁻¹, ∂(aᵇ)/∂b = aᵇ ln a, and 0 for a base ≤ 0', () => {
    // a = 2, b = 3: 3·4 = 12 and 8·ln 2
    const a = variable([2, -2], { requiresGrad: true, dtype: 'float64' }), b = variable([3, 3], { requiresGrad: true, dtype: 'float64' });
    a.pow(b).sum().backward();
    expect(a.grad!.toArray()).toEqual([12, 12]); // (−2)³ has slope 3·(−2)² = 12 too
    const db = b.grad!.toArray() as number[];
    expect(db[0]).toBeCloseTo(8 * Math.LN2, 12);
    expect(db[1]).toBe(0);
  });

  it('maximum and minimum split a tie equally', () => {
    // max([1, 5, 3], [2, 5, 0]): a wins at 2, tie at 1, b wins at 0
    const a = variable([1, 5, 3], { requiresGrad: true }), b = variable([2, 5, 0], { requiresGrad: true });
    F.maximum(a, b).sum().backward();
    expect(a.grad!.toArray()).toEqual([0, 0.5, 1]);
    expect(b.grad!.toArray()).toEqual([1, 0.5, 0]);
    a.zeroGrad(); b.zeroGrad();
    F.minimum(a, b).sum().backward();
    expect(a.grad!.toArray()).toEqual([1, 0.5, 0]);
    expect(b.grad!.toArray()).toEqual([0, 0.5, 1]);
  });
});

describe('sumToShape', () => {
  it('matches a naive sum over the broadcast axes', () => {
    const g = normal([4, 2, 3], 20);
    // naive reference: out[0, j, 0] = Σ_{i, k} g[i, j, k]
    const data = g.toArray() as number[][][];
    const expected = [0, 1].map((j) => [[data.reduce((s, m) => s + m[j].reduce((t, v) => t + v, 0), 0)]]);
    const got = F.sumToShape(g, [2, 1]).toArray() as number[][];
    got.forEach((row, j) => expect(row[0]).toBeCloseTo(expected[j][0][0], 12));
    expect(F.sumToShape(g, [4, 2, 3])).toBe(g);
    expect(F.sumToShape(g, []).item()).toBeCloseTo(sumT(g).item(), 12);
  });
  it('refuses a shape that does not broadcast', () => {
    expect(() => F.sumToShape(normal([4, 3], 1), [2])).toThrow('sumToShape: a gradient of shape [4,3] is not a broadcast of [2]');
  });
});

describe('mulAdd (x·s + t in one pass): gradcheck, and equal to x.mul(s).add(t) bit for bit', () => {
  const CASES: Array<[number[], number[], number[]]> = [[[4, 3], [3], [3]], [[7, 3], [3], [3]], [[2, 3], [2, 3], [2, 3]], [[2, 3], [2, 1], [3]], [[3], [], [2, 3]]];
  for (const [sx, ss, st] of CASES) {
    it(`x [${sx}], s [${ss}], t [${st}]`, () => {
      gradcheck((x, s, t) => F.mulAdd(x, s, t), [normal(sx, 11), normal(ss, 12), normal(st, 13)]);
      const [x, s, t] = [normal(sx, 14), normal(ss, 15), normal(st, 16)].map((v) => v.astype('float32'));
      expect(Array.from(F.mulAdd(x, s, t).data.dataSync())).toEqual(Array.from(F.add(F.mul(x, s), t).data.dataSync()));
    });
  }
  it('BatchNorm-like: [32, 6, 6, 8] and [3, 5, 8] with one scale and shift per channel, float32 and float64', () => {
    for (const shape of [[32, 6, 6, 8], [3, 5, 8]]) {
      for (const dtype of ['float32', 'float64'] as const) {
        const [x, s, t] = [normal(shape, 17), normal([8], 18), normal([8], 19)].map((v) => v.astype(dtype));
        expect(Array.from(F.mulAdd(x, s, t).data.dataSync())).toEqual(Array.from(x.mul(s).add(t).dataSync()));
      }
    }
  });
});
