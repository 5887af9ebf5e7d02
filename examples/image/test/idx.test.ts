import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeIdx, parseIdx } from '../src/idx';
import { DEFAULT_DIR, FILES, classCounts, loadFashionMnist } from '../src/data';

describe('IDX reader', () => {
  test('reads a uint8 file, plain and gzipped, with its shape from the header', () => {
    const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => (i * 7) % 256);
    const bytes = encodeIdx([2, 3, 4], data);
    // Header by hand: 00 00 08 03, then 2, 3, 4 as big-endian uint32.
    expect([...bytes.subarray(0, 16)]).toEqual([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4]);
    for (const input of [bytes, new Uint8Array(gzipSync(bytes))]) {
      const idx = parseIdx(input);
      expect(idx.shape).toEqual([2, 3, 4]);
      expect(idx.data).toBeInstanceOf(Uint8Array);
      expect([...idx.data]).toEqual([...data]);
    }
  });

  test('decodes big-endian int32 and float32 elements', () => {
    const ints = [1, -2, 70000, -123456789];
    const b = new Uint8Array(4 + 4 + 4 * ints.length);
    const v = new DataView(b.buffer);
    b[2] = 0x0c; b[3] = 1; v.setUint32(4, ints.length, false);
    ints.forEach((x, i) => v.setInt32(8 + 4 * i, x, false));
    expect([...parseIdx(b).data]).toEqual(ints);

    const floats = [0.5, -1.25, 3e10];
    const f = new Uint8Array(8 + 4 * floats.length);
    const fv = new DataView(f.buffer);
    f[2] = 0x0d; f[3] = 1; fv.setUint32(4, floats.length, false);
    floats.forEach((x, i) => fv.setFloat32(8 + 4 * i, x, false));
    expect([...parseIdx(f).data]).toEqual(floats.map(Math.fround));
  });

  test('rejects a bad magic number, an unknown type and a truncated file, naming the file', () => {
    expect(() => parseIdx(Uint8Array.from([1, 2, 3, 4]), 'x.idx')).toThrow(/x\.idx is not an IDX file/);
    expect(() => parseIdx(Uint8Array.from([0, 0, 0x42, 0]), 'y.idx')).toThrow(/y\.idx has unknown element type 0x42/);
    const bytes = encodeIdx([10], new Uint8Array(10));
    expect(() => parseIdx(bytes.subarray(0, bytes.length - 1), 'z.idx')).toThrow(/z\.idx has shape \[10\] of uint8, so 18 bytes, but is 17 bytes/);
  });
});

// The real files, when `apt-get install dataset-fashion-mnist` has put them in place (.ci/run does).
const installed = Object.values(FILES).every((f) => fs.existsSync(path.join(DEFAULT_DIR, f)));
(installed ? describe : describe.skip)('Fashion-MNIST from dataset-fashion-mnist', () => {
  test('60,000 training and 10,000 test images of 28×28, balanced over 10 classes', () => {
    const { train, test } = loadFashionMnist(DEFAULT_DIR);
    expect([train.count, train.height, train.width]).toEqual([60000, 28, 28]);
    expect([test.count, test.height, test.width]).toEqual([10000, 28, 28]);
    // The dataset's documentation: 6,000 training and 1,000 test images per class.
    expect(classCounts(train.labels)).toEqual(new Array(10).fill(6000));
    expect(classCounts(test.labels)).toEqual(new Array(10).fill(1000));
    // Photos on a black background: the corner pixel is dark far more often than not.
    let darkCorners = 0;
    for (let i = 0; i < train.count; i++) if (train.images[i * 784] < 16) darkCorners++;
    expect(darkCorners / train.count).toBeGreaterThan(0.9);
  });
});
