/**
 * The IDX file format of MNIST and Fashion-MNIST (Yann LeCun's), optionally gzipped.
 *
 *   bytes 0–1   0x00 0x00
 *   byte  2     element type: 0x08 unsigned byte, 0x09 signed byte, 0x0B int16, 0x0C int32,
 *               0x0D float32, 0x0E float64
 *   byte  3     number of dimensions d
 *   then d × 4  the size of each dimension, big-endian uint32
 *   then        the elements, row-major, big-endian
 *
 * Fashion-MNIST uses two kinds: images (type 0x08, d = 3: count × 28 × 28) and labels (0x08, d = 1).
 */
import * as fs from 'node:fs';
import { gunzipSync } from 'node:zlib';

export interface IdxArray {
  shape: number[];
  /** Unsigned bytes stay a Uint8Array (no copy); the other types are decoded to native typed arrays. */
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

const TYPES: Record<number, { name: string; bytes: number }> = {
  0x08: { name: 'uint8', bytes: 1 },
  0x09: { name: 'int8', bytes: 1 },
  0x0b: { name: 'int16', bytes: 2 },
  0x0c: { name: 'int32', bytes: 4 },
  0x0d: { name: 'float32', bytes: 4 },
  0x0e: { name: 'float64', bytes: 8 },
};

/** gzip files start with the magic bytes 1f 8b. */
export const isGzip = (bytes: Uint8Array): boolean => bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;

/** Parse IDX bytes (gunzipping first when they are gzipped). Errors name the file when given. */
export function parseIdx(input: Uint8Array, source = 'idx'): IdxArray {
  const bytes = isGzip(input) ? new Uint8Array(gunzipSync(input)) : input;
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new Error(`parseIdx: ${source} is not an IDX file (magic ${[...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ')})`);
  }
  const type = TYPES[bytes[2]];
  if (!type) throw new Error(`parseIdx: ${source} has unknown element type 0x${bytes[2].toString(16)}`);
  const rank = bytes[3];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) throw new Error(`parseIdx: ${source} ends inside its header (${bytes.length} bytes, rank ${rank})`);
  const shape = Array.from({ length: rank }, (_, k) => view.getUint32(4 + 4 * k, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = headerBytes + count * type.bytes;
  if (bytes.length !== expected) {
    throw new Error(`parseIdx: ${source} has shape [${shape.join(',')}] of ${type.name}, so ${expected} bytes, but is ${bytes.length} bytes`);
  }
  return { shape, data: decode(view, headerBytes, count, bytes[2]) };
}

/** The elements, converted from big-endian to native typed arrays. */
function decode(view: DataView, offset: number, count: number, type: number): IdxArray['data'] {
  const at = (i: number, size: number): number => offset + i * size;
  switch (type) {
    case 0x08: return new Uint8Array(view.buffer, view.byteOffset + offset, count);
    case 0x09: return new Int8Array(view.buffer, view.byteOffset + offset, count);
    case 0x0b: return Int16Array.from({ length: count }, (_, i) => view.getInt16(at(i, 2), false));
    case 0x0c: return Int32Array.from({ length: count }, (_, i) => view.getInt32(at(i, 4), false));
    case 0x0d: return Float32Array.from({ length: count }, (_, i) => view.getFloat32(at(i, 4), false));
    default: return Float64Array.from({ length: count }, (_, i) => view.getFloat64(at(i, 8), false));
  }
}

export function readIdxFile(file: string): IdxArray {
  return parseIdx(new Uint8Array(fs.readFileSync(file)), file);
}

/** Write an IDX file (used by the tests to make small files, and handy for exporting subsets). */
export function encodeIdx(shape: readonly number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * shape.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = shape.length;
  shape.forEach((n, k) => view.setUint32(4 + 4 * k, n, false));
  out.set(data, 4 + 4 * shape.length);
  return out;
}
