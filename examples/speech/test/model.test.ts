import { buildModel } from '../src/model';

describe("the article's speech model", () => {
  test('137,354 parameters, 384 of them BatchNorm moving statistics (the article’s Keras count)', () => {
    // LSTM(128) on 40: 4·128·(40+128+1) = 86,528; BN 4·128 = 512; LSTM(64) on 128: 4·64·(128+64+1) = 49,408;
    // BN 4·64 = 256; Dense(10) 64·10+10 = 650.
    const counts = buildModel(40).countParams();
    expect(counts.total).toBe(86528 + 512 + 49408 + 256 + 650);
    expect(counts.total).toBe(137354);
    expect(counts.nonTrainable).toBe(2 * (128 + 64));
  });
});
