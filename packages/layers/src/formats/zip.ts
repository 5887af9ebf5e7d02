/**
 * Reading one file out of a zip archive (a Keras `.keras` file is one), checked as it goes:
 *
 *   … local header + data for each file … | central directory: one record per file | end record (EOCD)
 *
 * The end record gives where the central directory is; each central record gives a file's name, method,
 * sizes, CRC-32 and where its local header is; the data follows the local header. Stored (method 0) and
 * deflated (method 8, through the platform's DecompressionStream) files are read; encrypted, zip64 and
 * other methods are refused, as is any offset or size that points outside the archive. The data must
 * have the size and CRC-32 the directory records.
 */
import { crc32 } from '../models/model-file.js';

const EOCD = 0x06054b50, CENTRAL = 0x02014b50, LOCAL = 0x04034b50;

export interface ZipEntry { name: string; method: number; crc: number; compressedSize: number; size: number; localOffset: number; flags: number }

/** The central directory's records, every offset checked against the archive's length. */
export function zipEntries(bytes: Uint8Array, where: string): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (why: string): never => { throw new Error(`${where}: not a readable zip archive: ${why}`); };
  let end = -1;
  for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - 22 - 65535); at--) { // the end record, then up to 64 KiB of comment
    if (view.getUint32(at, true) === EOCD) { end = at; break; }
  }
  if (end < 0) fail(`no end-of-central-directory record in its ${bytes.length} bytes`);
  const count = view.getUint16(end + 10, true), size = view.getUint32(end + 12, true), start = view.getUint32(end + 16, true);
  if (count === 0xffff || start === 0xffffffff) fail('it is a zip64 archive');
  if (start + size > end) fail(`the central directory (${start}+${size}) runs past its end record at ${end}`);
  const entries: ZipEntry[] = [];
  let at = start;
  for (let i = 0; i < count; i++) {
    if (at + 46 > end || view.getUint32(at, true) !== CENTRAL) fail(`central directory record ${i} at ${at} is missing`);
    const nameLength = view.getUint16(at + 28, true), extra = view.getUint16(at + 30, true), comment = view.getUint16(at + 32, true);
    if (at + 46 + nameLength > end) fail(`central directory record ${i}'s name runs past the directory`);
    entries.push({
      name: new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength)),
      flags: view.getUint16(at + 8, true), method: view.getUint16(at + 10, true), crc: view.getUint32(at + 16, true),
      compressedSize: view.getUint32(at + 20, true), size: view.getUint32(at + 24, true), localOffset: view.getUint32(at + 42, true),
    });
    at += 46 + nameLength + extra + comment;
  }
  return entries;
}

async function inflateRaw(data: Uint8Array, limit: number, where: string): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  const out = new Uint8Array(limit);
  let filled = 0;
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
    if (filled + chunk.length > limit) throw new Error(`${where}: inflates past the ${limit} bytes its directory records`);
    out.set(chunk, filled);
    filled += chunk.length;
  }
  return out.subarray(0, filled);
}

/** The bytes of the file `name` in the archive, or null if it holds no such file. */
export async function readZipFile(bytes: Uint8Array, name: string, where: string): Promise<Uint8Array | null> {
  const entry = zipEntries(bytes, where).find((e) => e.name === name);
  if (entry === undefined) return null;
  const at = `${where}/${name}`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (entry.flags & 1) throw new Error(`${at}: the file is encrypted`);
  if (entry.size === 0xffffffff || entry.compressedSize === 0xffffffff) throw new Error(`${at}: zip64 sizes are not read`);
  const local = entry.localOffset;
  if (local + 30 > bytes.length || view.getUint32(local, true) !== LOCAL) throw new Error(`${at}: no local file header at ${local}`);
  const dataStart = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
  if (dataStart + entry.compressedSize > bytes.length) throw new Error(`${at}: its ${entry.compressedSize} bytes at ${dataStart} run past the archive's ${bytes.length}`);
  const raw = bytes.subarray(dataStart, dataStart + entry.compressedSize);
  let data: Uint8Array;
  if (entry.method === 0) data = raw;
  else if (entry.method === 8) data = await inflateRaw(raw, entry.size, at);
  else throw new Error(`${at}: compression method ${entry.method}; gradlab reads stored (0) and deflated (8) files`);
  if (data.length !== entry.size) throw new Error(`${at}: holds ${data.length} bytes, its directory records ${entry.size}`);
  if (crc32(data) !== entry.crc) throw new Error(`${at}: CRC-32 ${crc32(data).toString(16)} differs from the recorded ${entry.crc.toString(16)}; the archive is damaged`);
  return data;
}
