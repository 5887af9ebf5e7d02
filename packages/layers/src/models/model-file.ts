/**
 * model.json: its types, its checksums, and the checks a loaded one must pass before anything is built.
 *
 * The file may come from anyone, so nothing in it is trusted: every field is checked for its type and
 * range, every weight's byte length must equal its shape times its dtype's size and lie inside the
 * weights file, and the weights file must be named by a plain file name in the model's own folder.
 * A `checksum` (CRC-32 of the rest of the file, as compact JSON) catches an edit or a damaged byte that
 * still parses, such as a changed epsilon; a file edited on purpose loads once its checksum is deleted.
 */
import { allocate, bytesPerElement, fromTypedArray, isDType, sizeOf } from '@gradlab/tensor';
import type { DType, Tensor } from '@gradlab/tensor';
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
/** 2: the optional `optimizer` section (the optimizer's state, after the weights in the weights file). Version 1 files load unchanged. */
export const FORMAT_VERSION = 2;
export const MODEL_FILE = 'model.json';
/** model.json larger than this is refused before it is read: a real one holds a topology and a manifest. */
export const MAX_MODEL_FILE_BYTES = 64 * 1024 * 1024;

export interface WeightEntry extends StoredTensor {
  /** The layer's name and class, its position in the model, and the weight's name inside the layer. */
  layer: string;
  layerClass: string;
  layerIndex: number;
  name: string;
}

export interface SavedLayer { className: string; config: Record<string, unknown> }

/** One optimizer slot: its parameter as the weights manifest names it (layer position, weight name), the slot's name. */
export interface SlotEntry extends StoredTensor {
  layerIndex: number;
  /** The parameter's name inside its layer ('kernel', 'forward.kernel'). */
  weight: string;
  /** The optimizer's name for the slot ('m', 'v', 'velocity', …). */
  slot: string;
}

/** The optimizer's state (saved-optimizer.ts): its class, step count and slots. */
export interface OptimizerSection {
  className: string;
  iterations: number;
  slots: SlotEntry[];
}

export interface ModelFile {
  format: typeof FORMAT;
  formatVersion: number;
  model: SavedLayer & { buildInputShape: SymbolicShape | null };
  trainingConfig: TrainingConfig | null;
  /** byteLength: the whole weights file (the optimizer's slots, when saved, follow the weights). */
  weights: { file: string; byteLength: number; entries: WeightEntry[] };
  /** Version 2: the optimizer's state, when saved with it (model.save's includeOptimizer, default true). */
  optimizer?: OptimizerSection;
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

/** What every tensor stored in the weights file has (a weight, an optimizer slot): its bytes' place, shape, dtype and checksum. */
export interface StoredTensor { shape: number[]; dtype: DType; offset: number; byteLength: number; crc32: number }

/**
 * Check a stored tensor's fields: counts, a 32-bit checksum, a known dtype, a byte length equal to its
 * shape times its dtype's size, and a byte range inside the weights. `what` describes it in messages
 * once its shape is known to be valid.
 */
export function checkStoredTensor(e: Record<string, unknown>, where: string, what: () => string, weightsBytes: number, fail: (message: string) => never): void {
  for (const key of ['offset', 'byteLength'] as const) {
    if (!isCount(e[key])) fail(`${where}.${key} must be a non-negative integer, got ${JSON.stringify(e[key])}`);
  }
  if (!(isCount(e.crc32) && e.crc32 <= 0xffffffff)) fail(`${where}.crc32 must be a 32-bit unsigned integer, got ${JSON.stringify(e.crc32)}`);
  if (!isDType(e.dtype)) fail(`${where}.dtype must be float32, float64 or int32, got ${JSON.stringify(e.dtype)}`);
  if (!Array.isArray(e.shape) || !e.shape.every(isCount)) fail(`${where}.shape must be an array of non-negative integers, got ${JSON.stringify(e.shape)}`);
  const t = e as unknown as StoredTensor;
  const expected = sizeOf(t.shape) * bytesPerElement(t.dtype);
  if (expected !== t.byteLength) fail(`${what()} ${t.dtype} takes ${expected} bytes, but its byteLength is ${t.byteLength}`);
  if (t.offset + t.byteLength > weightsBytes) fail(`${what()} lies at bytes ${t.offset}–${t.offset + t.byteLength}, beyond the ${weightsBytes} bytes of the weights`);
}

/** A stored tensor's values from the weights file's bytes, after checking their checksum (`what` names it in the error). */
export function tensorFromBytes(buffer: Uint8Array, e: StoredTensor, file: string, what: string): Tensor {
  const bytes = buffer.subarray(e.offset, e.offset + e.byteLength);
  if (crc32(bytes) !== e.crc32) {
    throw new Error(`models.load: ${file} does not match model.json: the bytes of ${what} fail their checksum ` +
      '(the file is damaged, or comes from another save)');
  }
  const values = allocate(e.dtype, sizeOf(e.shape));
  new Uint8Array(values.buffer).set(bytes);
  return fromTypedArray(values, e.shape);
}

/** `optimizer slot 'm' of layer #0 weight 'kernel' [3,8]`, for error messages. */
export const describeSlot = (e: SlotEntry): string => `optimizer slot '${e.slot}' of layer #${e.layerIndex} weight '${e.weight}' [${e.shape.join(',')}]`;

function checkOptimizerSection(section: unknown, weightsBytes: number, fail: (message: string) => never): void {
  if (!isObject(section) || typeof section.className !== 'string' || !Array.isArray(section.slots)) {
    fail('optimizer must be { className: string, iterations: number, slots: array }');
  }
  const s = section as unknown as OptimizerSection;
  if (!isCount(s.iterations)) fail(`optimizer.iterations must be a non-negative integer, got ${JSON.stringify(s.iterations)}`);
  s.slots.forEach((e, k) => {
    const where = `optimizer.slots[${k}]`;
    if (!isObject(e)) fail(`${where} must be an object`);
    for (const key of ['weight', 'slot'] as const) if (typeof e[key] !== 'string') fail(`${where}.${key} must be a string, got ${JSON.stringify(e[key])}`);
    if (!isCount(e.layerIndex)) fail(`${where}.layerIndex must be a non-negative integer, got ${JSON.stringify(e.layerIndex)}`);
    checkStoredTensor(e as unknown as Record<string, unknown>, where, () => describeSlot(e), weightsBytes, fail);
  });
}

function checkEntry(e: unknown, k: number, weightsBytes: number, fail: (message: string) => never): void {
  const where = `weights.entries[${k}]`;
  if (!isObject(e)) fail(`${where} must be an object`);
  const entry = e as unknown as WeightEntry;
  for (const key of ['layer', 'layerClass', 'name'] as const) {
    if (typeof entry[key] !== 'string') fail(`${where}.${key} must be a string, got ${JSON.stringify(entry[key])}`);
  }
  if (!isCount(entry.layerIndex)) fail(`${where}.layerIndex must be a non-negative integer, got ${JSON.stringify(entry.layerIndex)}`);
  checkStoredTensor(e as Record<string, unknown>, where, () => describeEntry(entry), weightsBytes, fail);
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
  if (parsed.optimizer !== undefined) {
    if (!isObject(parsed.trainingConfig)) fail('an optimizer section needs the trainingConfig that rebuilds its optimizer, and there is none');
    checkOptimizerSection(parsed.optimizer, weights.byteLength, fail);
  }
  return parsed as unknown as ModelFile;
}
