/**
 * model.json: its types, its checksums, and the checks a loaded one must pass before anything is built.
 *
 * The file may come from anyone, so nothing in it is trusted: every field is checked for its type and
 * range, every weight's byte length must equal its shape times its dtype's size and lie inside the
 * weights file, and the weights file must be named by a plain file name in the model's own folder.
 * A `checksum` (CRC-32 of the rest of the file, as compact JSON) catches an edit or a damaged byte that
 * still parses, such as a changed epsilon; a file edited on purpose loads once its checksum is deleted.
 */
import { bytesPerElement, isDType, sizeOf } from '@gradlab/tensor';
import type { DType } from '@gradlab/tensor';
import type { SymbolicShape } from '../layer.js';
import type { TrainingConfig } from './sequential.js';

/** One path component that stays in its folder: letters, digits, '.', '_' and '-', not starting with '.'. */
export function isPlainFileName(name: unknown): name is string {
  return typeof name === 'string' && /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/.test(name);
}

/** A name nobody else will pick: time and random bits (Web Crypto: in Node ≥ 19 and every browser). */
export function freshId(): string {
  const bits = globalThis.crypto.getRandomValues(new Uint8Array(4));
  return `${Date.now().toString(36)}${Array.from(bits, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

export const FORMAT = 'gradlab-model';
export const FORMAT_VERSION = 1;
export const MODEL_FILE = 'model.json';
/** model.json larger than this is refused before it is read: a real one holds a topology and a manifest. */
export const MAX_MODEL_FILE_BYTES = 64 * 1024 * 1024;

export interface WeightEntry {
  /** The layer's name and class, its position in the model, and the weight's name inside the layer. */
  layer: string;
  layerClass: string;
  layerIndex: number;
  name: string;
  shape: number[];
  dtype: DType;
  offset: number;
  byteLength: number;
  crc32: number;
}

export interface SavedLayer { className: string; config: Record<string, unknown> }

export interface ModelFile {
  format: typeof FORMAT;
  formatVersion: number;
  model: SavedLayer & { buildInputShape: SymbolicShape | null };
  trainingConfig: TrainingConfig | null;
  weights: { file: string; byteLength: number; entries: WeightEntry[] };
  /** CRC-32 of the file's JSON without this field (absent in files written before it existed). */
  checksum?: number;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (the zip/PNG checksum): detects any change to a weight's bytes from a damaged or mixed-up file. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The checksum of a model file's content: CRC-32 of its compact JSON without the checksum field. */
export function contentChecksum(file: object): number {
  const { checksum: _ignored, ...rest } = file as ModelFile;
  return crc32(new TextEncoder().encode(JSON.stringify(rest)));
}

/** The file with its checksum (last, so that a reader sees the content first). */
export function sealModelFile(file: ModelFile): ModelFile {
  const { checksum: _old, ...rest } = file;
  return { ...rest, checksum: contentChecksum(rest) };
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;

/** `layer 'dense' (Dense) weight 'kernel' [3,8]`, for error messages. */
export function describeEntry(e: WeightEntry): string {
  return `layer '${e.layer}' (${e.layerClass}) weight '${e.name}' [${e.shape.join(',')}]`;
}

/** Check a saved layer ({ className, config }) and, for a Sequential, each of its layers. */
function checkSavedLayer(saved: unknown, where: string, fail: (message: string) => never): void {
  if (!isObject(saved) || typeof saved.className !== 'string' || !isObject(saved.config)) {
    fail(`${where} must be { className: string, config: object }`);
  }
  const layers = (saved as unknown as SavedLayer).config.layers;
  if (layers === undefined) return;
  if (!Array.isArray(layers)) fail(`${where}.config.layers must be an array`);
  (layers as unknown[]).forEach((layer, i) => checkSavedLayer(layer, `${where}.config.layers[${i}]`, fail));
}

function checkEntry(e: unknown, k: number, weightsBytes: number, fail: (message: string) => never): void {
  const where = `weights.entries[${k}]`;
  if (!isObject(e)) fail(`${where} must be an object`);
  const entry = e as unknown as WeightEntry;
  for (const key of ['layer', 'layerClass', 'name'] as const) {
    if (typeof entry[key] !== 'string') fail(`${where}.${key} must be a string, got ${JSON.stringify(entry[key])}`);
  }
  for (const key of ['layerIndex', 'offset', 'byteLength'] as const) {
    if (!isCount(entry[key])) fail(`${where}.${key} must be a non-negative integer, got ${JSON.stringify(entry[key])}`);
  }
  if (!(isCount(entry.crc32) && entry.crc32 <= 0xffffffff)) fail(`${where}.crc32 must be a 32-bit unsigned integer, got ${JSON.stringify(entry.crc32)}`);
  if (!isDType(entry.dtype)) fail(`${where}.dtype must be float32, float64 or int32, got ${JSON.stringify(entry.dtype)}`);
  if (!Array.isArray(entry.shape) || !entry.shape.every(isCount)) fail(`${where}.shape must be an array of non-negative integers, got ${JSON.stringify(entry.shape)}`);
  const expected = sizeOf(entry.shape) * bytesPerElement(entry.dtype);
  if (expected !== entry.byteLength) {
    fail(`${describeEntry(entry)} ${entry.dtype} takes ${expected} bytes, but its byteLength is ${entry.byteLength}`);
  }
  if (entry.offset + entry.byteLength > weightsBytes) {
    fail(`${describeEntry(entry)} lies at bytes ${entry.offset}–${entry.offset + entry.byteLength}, beyond the ${weightsBytes} bytes of the weights`);
  }
}

/**
 * Parse model.json's text and check its every field (see the top of this file). Errors start with
 * "models.load: <file>:" and name the field and the value found.
 */
export function parseModelFile(text: string, file: string): ModelFile {
  const fail = (message: string): never => { throw new Error(`models.load: ${file}: ${message}`); };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`models.load: ${file} is not valid JSON (damaged or truncated?): ${(error as Error).message}`);
  }
  if (!isObject(parsed) || parsed.format !== FORMAT || !isObject(parsed.weights)) {
    throw new Error(`models.load: ${file} is not a gradlab model file (format '${String(isObject(parsed) ? parsed.format : parsed)}')`);
  }
  if (!Number.isInteger(parsed.formatVersion) || (parsed.formatVersion as number) < 1) fail(`formatVersion must be a positive integer, got ${JSON.stringify(parsed.formatVersion)}`);
  if ((parsed.formatVersion as number) > FORMAT_VERSION) {
    fail(`format version ${String(parsed.formatVersion)}; this gradlab reads up to ${FORMAT_VERSION}`);
  }
  if (parsed.checksum !== undefined && parsed.checksum !== contentChecksum(parsed)) {
    fail('the content does not match its checksum (damaged, or edited: to load a file edited on purpose, delete its "checksum" field)');
  }
  checkSavedLayer(parsed.model, 'model', fail);
  const model = parsed.model as ModelFile['model'];
  const shape = model.buildInputShape;
  if (shape !== null && shape !== undefined && !(Array.isArray(shape) && shape.every((d) => d === null || (isCount(d) && d > 0)))) {
    fail(`model.buildInputShape must be null or an array of positive integers and nulls, got ${JSON.stringify(shape)}`);
  }
  if (parsed.trainingConfig !== null && parsed.trainingConfig !== undefined && !isObject(parsed.trainingConfig)) fail('trainingConfig must be an object or null');
  const weights = parsed.weights as ModelFile['weights'];
  if (!isPlainFileName(weights.file)) {
    fail(`weights.file must be a plain file name inside the model's folder (no '/', '\\\\' or '..'), got ${JSON.stringify(weights.file)}`);
  }
  if (!isCount(weights.byteLength)) fail(`weights.byteLength must be a non-negative integer, got ${JSON.stringify(weights.byteLength)}`);
  if (!Array.isArray(weights.entries)) fail('weights.entries must be an array');
  weights.entries.forEach((e, k) => checkEntry(e, k, weights.byteLength, fail));
  return parsed as unknown as ModelFile;
}
