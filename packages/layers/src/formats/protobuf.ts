/**
 * Just enough of Protocol Buffers' wire format to write a message (ONNX files are one):
 *
 *   field = key value,  key = (field number << 3) | wire type
 *   wire type 0: a varint (7 bits a byte, low first, the top bit saying "more"): ints, enums, bools
 *   wire type 2: a varint length, then that many bytes: strings, bytes, nested messages
 *   wire type 5: 4 bytes little-endian: float
 *
 * A message is its fields one after another; repeated fields are the same field written again
 * (unpacked, which every reader accepts). Messages are built inside out: a nested message is encoded
 * first, so that its length is known when its parent writes it.
 */

const SEVEN_BITS = BigInt(0x7f), MORE = BigInt(0x80), SHIFT = BigInt(7);

/** A varint; a negative int64 is its 64-bit two's complement (10 bytes), as protobuf writes it. */
function varint(value: number): number[] {
  if (!Number.isSafeInteger(value)) throw new Error(`protobuf: ${value} is not an integer that can be written exactly`);
  const out: number[] = [];
  if (value >= 0 && value < 2 ** 31) {
    let v = value;
    while (v >= 0x80) { out.push((v & 0x7f) | 0x80); v >>>= 7; }
    out.push(v);
    return out;
  }
  let v = BigInt.asUintN(64, BigInt(value));
  while (v >= MORE) { out.push(Number(v & SEVEN_BITS) | 0x80); v >>= SHIFT; }
  out.push(Number(v));
  return out;
}

const key = (field: number, wireType: 0 | 2 | 5): number[] => varint((field << 3) | wireType);

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** An integer field (int32, int64, enum, bool). */
export const int = (field: number, value: number): Uint8Array => Uint8Array.from([...key(field, 0), ...varint(value)]);

/** A bytes or nested-message field. */
export const bytes = (field: number, value: Uint8Array): Uint8Array => concatBytes([Uint8Array.from([...key(field, 2), ...varint(value.length)]), value]);

export const string = (field: number, value: string): Uint8Array => bytes(field, new TextEncoder().encode(value));

export function float(field: number, value: number): Uint8Array {
  const out = new Uint8Array(key(field, 5).length + 4);
  out.set(key(field, 5));
  new DataView(out.buffer).setFloat32(out.length - 4, value, true);
  return out;
}

/** A message: its fields in order. */
export const message = (...fields: Uint8Array[]): Uint8Array => concatBytes(fields);
