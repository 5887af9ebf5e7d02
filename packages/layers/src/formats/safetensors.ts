/**
 * safetensors (Hugging Face's format for a state dict), read and written without a dependency:
 *
 *   8 bytes   N, the header's length, unsigned 64-bit little-endian
 *   N bytes   JSON: { "<name>": { "dtype": "F32", "shape": [3, 8], "data_offsets": [begin, end] }, …,
 *                     "__metadata__": { "<key>": "<string>" } }   (padded with spaces to a multiple of 8)
 *   the rest  every tensor's bytes, little-endian, row-major, at its offsets (counted from the end of the header)
 *
 * gradlab's dtypes map to F32, F64 and I32; a file with other dtypes (F16, BF16, I64…) is refused,
 * naming the tensor and its dtype. Nothing in a file is trusted: sizes, offsets and shapes are all
 * checked before a byte of data is read, and the tensors must tile the data with no gap or overlap.
 */
import { allocate, bytesPerElement, fromTypedArray, sizeOf } from '@gradlab/tensor';
import type { DType, Tensor } from '@gradlab/tensor';

const TO_FILE: Record<DType, string> = { float32: 'F32', float64: 'F64', int32: 'I32' };
const FROM_FILE: Record<string, DType> = { F32: 'float32', F64: 'float64', I32: 'int32' };
/** A header longer than this is refused before it is parsed (the reference implementation's limit). */
const MAX_HEADER = 100_000_000;

interface HeaderEntry { dtype: string; shape: number[]; data_offsets: [number, number] }

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The bytes of a state dict (name → tensor) as a .safetensors file; `metadata` goes into __metadata__. */
export async function encodeSafetensors(state: Map<string, Tensor> | Record<string, Tensor>, metadata: Record<string, string> = {}): Promise<Uint8Array> {
  if (!littleEndian) throw new Error('safetensors: this machine is big-endian; gradlab writes safetensors on little-endian machines only');
  const entries = state instanceof Map ? [...state] : Object.entries(state);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, tensor] of entries) {
    if (name === '__metadata__') throw new Error("safetensors: a tensor cannot be named '__metadata__' (the format keeps that key for metadata)");
    const data = (await tensor.contiguous().data()).slice(); // a copy: its own buffer, exactly its bytes
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    header[name] = { dtype: TO_FILE[tensor.dtype], shape: [...tensor.shape], data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (new TextEncoder().encode(json).byteLength % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.byteLength;
  for (const chunk of chunks) { out.set(chunk, at); at += chunk.byteLength; }
  return out;
}

/** A .safetensors file's tensors by name (in file order), and its metadata. Errors start with "safetensors:". */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors file'): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const fail = (message: string): never => { throw new Error(`safetensors: ${source}: ${message}`); };
  if (bytes.byteLength < 8) fail(`${bytes.byteLength} bytes is too short for a safetensors file (8-byte header length first)`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(Math.min(MAX_HEADER, bytes.byteLength - 8))) fail(`the header claims ${n} bytes, but the file has ${bytes.byteLength - 8} after the length`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + Number(n))));
  } catch (error) {
    return fail(`the header is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return fail('the header is not a JSON object');
  const dataStart = 8 + Number(n);
  const dataBytes = bytes.byteLength - dataStart;
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  if (typeof metadata !== 'object' || Array.isArray(metadata) || Object.values(metadata).some((v) => typeof v !== 'string')) fail('__metadata__ must map strings to strings');
  const spans: Array<[number, number, string]> = [];
  const tensors = new Map<string, Tensor>();
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = raw as HeaderEntry;
    const dtype = FROM_FILE[e?.dtype];
    if (!dtype) fail(`tensor '${name}' has dtype ${JSON.stringify(e?.dtype)}; gradlab reads F32, F64 and I32`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`tensor '${name}' has shape ${JSON.stringify(e.shape)}, not a list of non-negative integers`);
    const [begin, end] = Array.isArray(e.data_offsets) ? e.data_offsets : [NaN, NaN];
    if (!(Number.isSafeInteger(begin) && Number.isSafeInteger(end) && begin >= 0 && begin <= end && end <= dataBytes)) {
      fail(`tensor '${name}' has data_offsets ${JSON.stringify(e.data_offsets)} outside the ${dataBytes} bytes of data`);
    }
    const expected = sizeOf(e.shape) * bytesPerElement(dtype);
    if (end - begin !== expected) fail(`tensor '${name}' ${e.dtype} [${e.shape.join(', ')}] needs ${expected} bytes, its offsets span ${end - begin}`);
    spans.push([begin, end, name]);
    const values = allocate(dtype, sizeOf(e.shape));
    new Uint8Array(values.buffer).set(bytes.subarray(dataStart + begin, dataStart + end));
    tensors.set(name, fromTypedArray(values, e.shape));
  }
  // The tensors must tile the data exactly, as the reference implementation requires: no gap, no overlap.
  spans.sort((a, b) => a[0] - b[0]);
  let covered = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== covered) fail(`tensor '${name}' starts at byte ${begin} of the data, but the tensors before it end at ${covered} (${begin < covered ? 'overlap' : 'gap'})`);
    covered = end;
  }
  if (covered !== dataBytes) fail(`the tensors cover ${covered} bytes of data, the file has ${dataBytes}`);
  return { tensors, metadata };
}
