/**
 * One whole file for a format reader (Keras's .keras and .weights.h5): given as bytes or a Blob/File, or
 * named by a path, 'file://…' or an http(s) URL and read through the IO handlers (models/io.ts), which
 * refuse links out of the folder, non-regular files and sizes over the limit before reading.
 */
import { resolveHandler } from '../models/io.js';

export type FileSource = string | Uint8Array | ArrayBuffer | Blob;

/** ArrayBuffers top out near 2 GiB in browsers; a larger file is refused before it is read. */
const MAX_BYTES = 2 ** 31 - 1;

export async function readWholeFile(source: FileSource, op: string): Promise<{ bytes: Uint8Array; where: string }> {
  const refuseLarge = (size: number, where: string) => {
    if (size > MAX_BYTES) throw new Error(`${op}: ${where} has ${size} bytes, more than gradlab reads in one piece (${MAX_BYTES})`);
  };
  // isView and the tag, not instanceof: a Node Buffer or a buffer from another realm (a worker, a test's vm) passes too
  if (ArrayBuffer.isView(source)) return { bytes: new Uint8Array(source.buffer, source.byteOffset, source.byteLength), where: 'the bytes given' };
  if (Object.prototype.toString.call(source) === '[object ArrayBuffer]') return { bytes: new Uint8Array(source as ArrayBuffer), where: 'the bytes given' };
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    const where = (source as { name?: string }).name ?? 'the Blob given';
    refuseLarge(source.size, where);
    return { bytes: new Uint8Array(await source.arrayBuffer()), where };
  }
  if (typeof source !== 'string' || source === '') {
    throw new Error(`${op}: expected a path, a URL, bytes or a Blob, got ${typeof source === 'string' ? '""' : Object.prototype.toString.call(source)}`);
  }
  if (/^https?:\/\//i.test(source)) {
    const handler = await resolveHandler(source, 'load');
    return { bytes: await handler.readWeights!(source, refuseLarge), where: source };
  }
  const slash = Math.max(source.lastIndexOf('/'), source.lastIndexOf('\\'));
  const folder = slash < 0 ? '.' : source.slice(0, slash + 1);
  const handler = await resolveHandler(folder === 'file://' ? 'file:///' : folder, 'load');
  const name = source.slice(slash + 1);
  return { bytes: new Uint8Array(await handler.readWeights!(name, refuseLarge)), where: handler.where(name) };
}
