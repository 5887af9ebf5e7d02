import { buildModel } from '../src/model';

describe("the article's image model", () => {
  // conv 3·3·3·32+32 = 896, BN 4·32 = 128, conv 3·3·32·64+64 = 18,496, BN 256, BN 512, Dense(10) 1,290;
  // Dense(128) on the flattened map: 64→62→31→29→14 gives 14·14·64 = 12,544 inputs, 28→26→13→11→5 gives 1,600.
  test.each([[64, 12544 * 128 + 128], [28, 1600 * 128 + 128]])('at %i×%i×3 it has Keras’s parameter count', (size, dense) => {
    const counts = buildModel(size).countParams();
    expect(counts.total).toBe(896 + 128 + 18496 + 256 + dense + 512 + 1290);
    expect(counts.nonTrainable).toBe(2 * (32 + 64 + 128));
  });

  test('64×64 is the article’s 1,627,338', () => {
    expect(buildModel(64).countParams().total).toBe(1627338);
  });
});
