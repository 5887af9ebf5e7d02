import { buildModel } from '../src/model';

describe("the article's text model", () => {
  test('the article’s 605,313 parameters on top of the vocabulary × 300 word vectors', () => {
    // BiLSTM(128) on 300: 2·4·128·(300+128+1) = 439,296; BN 4·256 = 1,024; BiLSTM(64) on 256: 2·4·64·(256+64+1)
    // = 164,352; BN 4·128 = 512; Dense(1) 128+1 = 129. The article feeds 300-d vectors; here an Embedding makes them.
    const counts = buildModel(1000).countParams();
    expect(counts.total - 1000 * 300).toBe(439296 + 1024 + 164352 + 512 + 129);
    expect(counts.total - 1000 * 300).toBe(605313);
    expect(counts.nonTrainable).toBe(2 * (256 + 128));
  });
});
