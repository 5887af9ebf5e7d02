/** Random tensors and dtypes: a range that holds nothing, a negative spread or an unknown dtype is refused, naming it. */
import { randint, randn, uniform, tensor } from '@gradlab/tensor';

test('randint needs integers low < high', () => {
  expect(() => randint([3], 5, 2)).toThrow(/randint: needs integers low < high .*got low 5 and high 2/);
  expect(() => randint([3], 2, 2)).toThrow(/randint: needs integers low < high/);
  expect(() => randint([3], 0, 2.5)).toThrow(/randint: needs integers low < high/);
  expect(Array.from(randint([50], -2, 1, { seed: 3 }).dataSync()).every((v) => v >= -2 && v < 1)).toBe(true);
});

test('uniform needs finite low <= high; randn a finite std >= 0', () => {
  expect(() => uniform([3], 1, 0)).toThrow(/uniform: needs finite low <= high, got low 1 and high 0/);
  expect(() => uniform([3], 0, Infinity)).toThrow(/uniform: needs finite low <= high/);
  expect(() => randn([3], { std: -1 })).toThrow(/randn: std must be a finite number >= 0, got -1/);
  expect(() => randn([3], { mean: NaN })).toThrow(/randn: mean must be a finite number, got NaN/);
  expect(Array.from(randn([4], { std: 0, mean: 2 }).dataSync())).toEqual([2, 2, 2, 2]);
});

test("astype('int8') and a random tensor of dtype 'int8' name the dtype gradlab lacks", () => {
  expect(() => tensor(new Float32Array(4), [2, 2] as never)).toThrow('tensor: the second argument is options ({ shape, dtype }), got [2,2]; for a shape write tensor(values, { shape: [...] })');
  expect(() => tensor([1, 2]).astype('int8' as never)).toThrow(/astype: unknown dtype 'int8' \(gradlab has float32, float64, int32\)/);
  expect(() => randn([2], { dtype: 'int8' as never })).toThrow(/randn: unknown dtype 'int8'/);
});
