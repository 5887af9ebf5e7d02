/**
 * Saving and loading models: a directory with two files.
 *
 *   model.json   the topology (each layer's className and getConfig(), in order), the training
 *                configuration (loss, metrics, optimizer) and a manifest of the weights: for each one its
 *                layer, name, shape, dtype, byte offset and length in weights.bin, and a CRC-32 checksum;
 *   weights.bin  every weight's values back to back, little-endian, in manifest order.
 *
 * Each file is written to a temporary file, flushed to disk and renamed over the old one (a rename is
 * atomic), weights first: a crash leaves either the old file or the new one, never half of one, and if
 * it strikes between the two renames the checksums catch the mismatch at load time.
 *
 * Loading checks everything before it assigns anything (sizes, checksums, then every layer's class,
 * weight names and shapes against the model), so a bad directory leaves the model untouched and the
 * error names the layer, the weight and the shapes.
 *
 * Layers are rebuilt through the layer registry (layers/registry.ts, className → fromConfig): each layer
 * module calls registerLayer for its classes, and every layer must be constructible from its own getConfig().
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { allocate, formatShape, fromTypedArray, sizeOf } from '@gradlab/tensor';
import type { DType, Tensor } from '@gradlab/tensor';
import type { Layer, SymbolicShape } from '../layer.js';
import { layerFromConfig } from '../layers/registry.js';
import type { Sequential, TrainingConfig } from './sequential.js';
// The registry lived here before layers/registry.ts; these names stay importable from this module.
export { registerLayer, registeredLayers, layerFromConfig } from '../layers/registry.js';
export type { LayerFactory } from '../layers/registry.js';

const FORMAT = 'gradlab-model';
const FORMAT_VERSION = 1;
export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';

// ---- the file format ----------------------------------------------------------------------------

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

export interface ModelFile {
  format: typeof FORMAT;
  formatVersion: number;
  model: { className: string; config: Record<string, unknown>; buildInputShape: SymbolicShape | null };
  trainingConfig: TrainingConfig | null;
  weights: { file: string; byteLength: number; entries: WeightEntry[] };
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

const describe = (e: WeightEntry): string => `layer '${e.layer}' (${e.layerClass}) weight '${e.name}' ${formatShape(e.shape)}`;

/** Write `data` to `file` so that a crash leaves the old file or the new one, never a mix. */
async function writeAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(tmp, file);
  } catch (error) {
    await fs.rm(tmp, { force: true });
    throw error;
  }
}

/** Every layer's weights (parameters, then buffers such as BatchNorm's moving statistics), in model order. */
function weightsOf(model: Sequential): Array<{ layer: Layer; index: number; name: string; value: Tensor }> {
  return model.layers.flatMap((layer, index) => [...layer.stateDict()].map(([name, value]) => ({ layer, index, name, value })));
}

/** Write model.json and weights.bin into `dir` (created if needed). */
export async function saveModel(model: Sequential, dir: string): Promise<void> {
  if (!model.built) {
    throw new Error(`save: model '${model.name}' is not built yet (no weights); give the first layer an inputShape or call the model on data first`);
  }
  const entries: WeightEntry[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const { layer, index, name, value } of weightsOf(model)) {
    const data = value.contiguous().dataSync();
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    entries.push({ layer: layer.name, layerClass: layer.className, layerIndex: index, name, shape: [...value.shape],
      dtype: value.dtype, offset, byteLength: bytes.byteLength, crc32: crc32(bytes) });
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  const weights = new Uint8Array(offset);
  let at = 0;
  for (const chunk of chunks) { weights.set(chunk, at); at += chunk.byteLength; }
  const file: ModelFile = {
    format: FORMAT,
    formatVersion: FORMAT_VERSION,
    model: { className: model.className, config: model.getConfig(), buildInputShape: model.builtInputShape ?? null },
    trainingConfig: model.trainingConfig(),
    weights: { file: WEIGHTS_FILE, byteLength: offset, entries },
  };
  await fs.mkdir(dir, { recursive: true });
  await writeAtomic(path.join(dir, WEIGHTS_FILE), weights);
  await writeAtomic(path.join(dir, MODEL_FILE), `${JSON.stringify(file, null, 1)}\n`);
}

// ---- loading -------------------------------------------------------------------------------------

async function readModelFile(dir: string): Promise<ModelFile> {
  const file = path.join(dir, MODEL_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`models.load: cannot read ${file}: ${(error as Error).message}`);
  }
  let parsed: ModelFile;
  try {
    parsed = JSON.parse(text) as ModelFile;
  } catch (error) {
    throw new Error(`models.load: ${file} is not valid JSON (damaged or truncated?): ${(error as Error).message}`);
  }
  if (parsed.format !== FORMAT || !parsed.weights || !Array.isArray(parsed.weights.entries)) {
    throw new Error(`models.load: ${file} is not a gradlab model file (format '${String(parsed.format)}')`);
  }
  if (parsed.formatVersion > FORMAT_VERSION) {
    throw new Error(`models.load: ${file} has format version ${parsed.formatVersion}; this gradlab reads up to ${FORMAT_VERSION}`);
  }
  return parsed;
}

/** weights.bin's values by manifest entry, after checking its size and every checksum. */
async function readWeights(dir: string, manifest: ModelFile['weights']): Promise<Tensor[]> {
  const file = path.join(dir, manifest.file);
  let buffer: Buffer;
  try {
    buffer = await fs.readFile(file);
  } catch (error) {
    throw new Error(`models.load: cannot read ${file}: ${(error as Error).message}`);
  }
  if (buffer.byteLength !== manifest.byteLength) {
    const short = manifest.entries.find((e) => e.offset + e.byteLength > buffer.byteLength);
    const what = short ? `; ${describe(short)} needs bytes ${short.offset}–${short.offset + short.byteLength}` : '';
    throw new Error(`models.load: ${file} has ${buffer.byteLength} bytes but model.json describes ${manifest.byteLength} ` +
      `(${buffer.byteLength < manifest.byteLength ? 'truncated' : 'not the weights of this model.json'})${what}`);
  }
  return manifest.entries.map((e) => {
    const bytes = buffer.subarray(e.offset, e.offset + e.byteLength);
    if (crc32(bytes) !== e.crc32) {
      throw new Error(`models.load: ${file} does not match model.json: the bytes of ${describe(e)} fail their checksum ` +
        '(the file is damaged, or comes from another save)');
    }
    const values = allocate(e.dtype, sizeOf(e.shape));
    new Uint8Array(values.buffer).set(bytes);
    return fromTypedArray(values, e.shape);
  });
}

/**
 * Check the saved weights against `model` layer by layer (class, weight names, shapes), then load them
 * all at once. Layers are matched by position, as Keras's load_weights does, so a rebuilt model whose
 * automatic names differ (dense_3 instead of dense) still loads.
 */
function assignWeights(model: Sequential, file: ModelFile, values: Tensor[], source: string): void {
  const fail = (message: string): never => { throw new Error(`models.load: ${source} does not fit model '${model.name}': ${message}`); };
  const entries = file.weights.entries;
  const savedLayers = (file.model.config.layers as Array<{ className: string }> | undefined) ?? [];
  if (savedLayers.length !== model.layers.length) {
    fail(`the file holds ${savedLayers.length} layers (${savedLayers.map((l) => l.className).join(', ')}), ` +
      `the model ${model.layers.length} (${model.layers.map((l) => l.className).join(', ')})`);
  }
  const state = new Map<string, Tensor>();
  const seen = new Set<string>();
  entries.forEach((e, k) => {
    const layer = model.layers[e.layerIndex];
    if (!layer) fail(`${describe(e)} is for layer #${e.layerIndex}, the model has ${model.layers.length} layers`);
    if (layer.className !== e.layerClass) {
      fail(`layer #${e.layerIndex} is '${layer.name}' (${layer.className}) in the model but '${e.layer}' (${e.layerClass}) in the file`);
    }
    const target = layer.stateDict().get(e.name);
    if (!target) fail(`${describe(e)} has no counterpart in layer '${layer.name}' (${layer.className}), whose weights are ${[...layer.stateDict().keys()].join(', ')}`);
    if (target!.shape.length !== e.shape.length || target!.shape.some((d, i) => d !== e.shape[i])) {
      fail(`${describe(e)} in the file, but layer '${layer.name}' (${layer.className}) expects ${formatShape(target!.shape)} for '${e.name}'`);
    }
    state.set(`${layer.name}.${e.name}`, values[k]);
    seen.add(`${e.layerIndex}/${e.name}`);
  });
  model.layers.forEach((layer, i) => {
    for (const [name, t] of layer.stateDict()) {
      if (!seen.has(`${i}/${name}`)) fail(`the file has no value for layer '${layer.name}' (${layer.className}) weight '${name}' ${formatShape(t.shape)}`);
    }
  });
  model.loadStateDict(state);
}

/** Load the weights saved in `dir` into an existing model of the same architecture (Keras's load_weights). */
export async function loadWeights(model: Sequential, dir: string): Promise<void> {
  const file = await readModelFile(dir);
  if (!model.built && file.model.buildInputShape) model.build(file.model.buildInputShape);
  const values = await readWeights(dir, file.weights);
  assignWeights(model, file, values, path.join(dir, file.weights.file));
}

/** Rebuild the model saved in `dir`: its layers, its weights and (if it was compiled) its training setup. */
export async function load(dir: string): Promise<Sequential> {
  const file = await readModelFile(dir);
  const values = await readWeights(dir, file.weights);
  const model = layerFromConfig(file.model) as Sequential;
  if (!model.built && file.model.buildInputShape) model.build(file.model.buildInputShape);
  assignWeights(model, file, values, path.join(dir, file.weights.file));
  if (file.trainingConfig) model.compileFromConfig(file.trainingConfig);
  return model;
}
