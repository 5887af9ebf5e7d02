// copyStrided against the definition: for every index i of the shape, to[offset + i·toStrides] is
// from[offset + i·fromStrides], enumerated here by decoding each flat position into its index.
import { Random } from '../src/random.js';
import { copyStrided } from '../src/cpu/strided.js';

function offsetOf(index: number[], strides: readonly number[], offset: number): number {
  return index.reduce((sum, i, k) => sum + i * strides[k], offset);
}

function indexOf(flat: number, shape: number[]): number[] {
  const index = new Array<number>(shape.length);
  for (let k = shape.length - 1; k >= 0; k--) { index[k] = flat % shape[k]; flat = Math.floor(flat / shape[k]); }
  return index;
}

describe('copyStrided', () => {
  test('matches the index-by-index definition on permuted, broadcast and offset views', () => {
    const rng = new Random(7);
    for (let trial = 0; trial < 200; trial++) {
      const rank = Math.floor(rng.uniform() * 5);
      const shape = Array.from({ length: rank }, () => 1 + Math.floor(rng.uniform() * 4));
      const size = shape.reduce((a, b) => a * b, 1);
      // The source: a contiguous block of a random permutation of the axes, some axes broadcast (stride 0).
      const order = shape.map((_, k) => k).sort(() => rng.uniform() - 0.5);
      const fromStrides = new Array<number>(rank).fill(0);
      let step = 1;
      for (const k of order) { fromStrides[k] = rng.uniform() < 0.2 ? 0 : step; step *= shape[k]; }
      const fromOffset = Math.floor(rng.uniform() * 3);
      const from = Float64Array.from({ length: step + fromOffset }, () => rng.uniform());
      // The destination: row-major, with an offset and a padded last axis, as pad() writes.
      const pad = Math.floor(rng.uniform() * 2);
      const toStrides = new Array<number>(rank);
      let toStep = 1;
      for (let k = rank - 1; k >= 0; k--) { toStrides[k] = toStep; toStep *= shape[k] + (k === rank - 1 ? pad : 0); }
      const toOffset = Math.floor(rng.uniform() * 3);
      const to = new Float64Array(toStep + toOffset).fill(-1);
      copyStrided(shape, { data: to, strides: toStrides, offset: toOffset }, { data: from, strides: fromStrides, offset: fromOffset });

      const expected = new Float64Array(to.length).fill(-1);
      for (let flat = 0; flat < size; flat++) {
        const index = indexOf(flat, shape);
        expected[offsetOf(index, toStrides, toOffset)] = from[offsetOf(index, fromStrides, fromOffset)];
      }
      expect(Array.from(to)).toEqual(Array.from(expected));
    }
  });

  test('an empty shape copies nothing, and float to int32 truncates as a typed array does', () => {
    const to = new Int32Array([9, 9]);
    copyStrided([0, 2], { data: to, strides: [2, 1], offset: 0 }, { data: new Float32Array(0), strides: [2, 1], offset: 0 });
    expect(Array.from(to)).toEqual([9, 9]);
    copyStrided([2], { data: to, strides: [1], offset: 0 }, { data: new Float32Array([1.7, -2.7]), strides: [1], offset: 0 });
    expect(Array.from(to)).toEqual([1, -2]);
  });
});
