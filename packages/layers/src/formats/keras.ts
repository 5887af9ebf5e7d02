/**
 * Keras 3's files: `.keras` (a zip of config.json, metadata.json and model.weights.h5) and `.weights.h5`.
 *
 * Where Keras 3 puts a Sequential model's weights in the HDF5 file (keras/src/saving/saving_lib.py): each
 * layer at `layers/<its class in snake_case>`, numbered per class in model order (conv2d, conv2d_1, …:
 * the classes, not the layers' names, so two builds of one model agree), its variables at `vars/0, 1, …`,
 * trainable ones first (BatchNormalization: gamma, beta, moving_mean, moving_variance). An LSTM keeps
 * its variables in its cell (`cell/vars`: kernel, recurrent_kernel, bias); Bidirectional in its two
 * layers' cells (`forward_layer/cell/vars`, `backward_layer/cell/vars`). gradlab's layers hold the same
 * variables in the same order and layout (a Dense kernel [in, out], a Conv2D kernel [kh, kw, in, out],
 * LSTM gates i, f, c, o), so they are copied as they are, each shape checked first.
 */
import { fromTypedArray } from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import type { Layer } from '../layer.js';
import { layerFromConfig } from '../layers/registry.js';
import type { Sequential } from '../models/sequential.js';
import { gradlabLayerConfig } from './keras-config.js';
import type { KerasLayerEntry } from './keras-config.js';
import { openHdf5 } from './hdf5.js';
import type { H5wasmModule, Hdf5Reader } from './hdf5.js';
import { readZipFile } from './zip.js';
import { readWholeFile } from './read-file.js';
import type { FileSource } from './read-file.js';

export interface KerasLoadOptions {
  /** The h5wasm module, for a page whose bundler should include it (else it is imported on first use). */
  h5wasm?: H5wasmModule;
}

const ZIP_SIGNATURE = [0x50, 0x4b, 0x03, 0x04];
const isZip = (bytes: Uint8Array) => ZIP_SIGNATURE.every((b, i) => bytes[i] === b);

/** Keras's naming.to_snake_case: MaxPooling2D → max_pooling2d, BatchNormalization → batch_normalization. */
const snakeCase = (name: string): string => name.replace(/(.)([A-Z][a-z]+)/g, '$1_$2').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();

/** The groups holding a layer's variables, in gradlab's stateDict order. */
function variableGroups(layer: Layer, key: string): string[] {
  if (layer.className === 'LSTM') return [`${key}/cell/vars`];
  if (layer.className === 'Bidirectional') return [`${key}/forward_layer/cell/vars`, `${key}/backward_layer/cell/vars`];
  return [`${key}/vars`];
}

/** The datasets of a vars group, by their index (0, 1, … 10: numerically, not as text). */
function datasets(file: Hdf5Reader, group: string): string[] {
  return (file.members(group) ?? []).filter((m) => /^\d+$/.test(m)).sort((a, b) => Number(a) - Number(b)).map((m) => `${group}/${m}`);
}

/** Copies the file's variables into the model's layers, checking that every count and shape agrees. */
function loadVariables(model: Sequential, file: Hdf5Reader, where: string, op: string): void {
  const perClass = new Map<string, number>();
  const used = new Set<string>();
  const state = new Map<string, Tensor>();
  for (const layer of model.layers) {
    const base = snakeCase(layer.className);
    const n = perClass.get(base);
    perClass.set(base, n === undefined ? 0 : n + 1);
    const key = `layers/${n === undefined ? base : `${base}_${n + 1}`}`;
    used.add(key);
    const paths = variableGroups(layer, key).flatMap((g) => datasets(file, g));
    const targets = [...layer.stateDict()];
    if (paths.length !== targets.length) {
      throw new Error(`${op}: layer '${layer.name}' (${layer.className}) has ${targets.length} weights (${targets.map(([k]) => k).join(', ') || 'none'}); ` +
        `${where} has ${paths.length} at ${key} (${paths.join(', ') || 'none'}). Is the model built as the one saved, layer for layer?`);
    }
    targets.forEach(([name, target], i) => {
      const found = file.float32(paths[i])!;
      if (found.shape.join(',') !== target.shape.join(',')) {
        throw new Error(`${op}: ${where}: ${paths[i]} is [${found.shape.join(', ')}], layer '${layer.name}' (${layer.className}) expects ${name} [${target.shape.join(', ')}]`);
      }
      state.set(`${layer.name}.${name}`, fromTypedArray(found.values, found.shape));
    });
  }
  const extra = (file.members('layers') ?? []).map((m) => `layers/${m}`).filter((k) => !used.has(k));
  if (extra.length > 0) throw new Error(`${op}: ${where} has layers the model has not: ${extra.join(', ')}`);
  model.loadStateDict(state);
}

async function withHdf5<T>(bytes: Uint8Array, where: string, op: string, options: KerasLoadOptions, use: (file: Hdf5Reader) => T): Promise<T> {
  const file = await openHdf5(bytes, where, op, options.h5wasm);
  try {
    return use(file);
  } finally {
    file.close();
  }
}

/** model.weights.h5 from a .keras archive, refused naming the archive if it has none. */
async function weightsOfArchive(bytes: Uint8Array, where: string, op: string): Promise<Uint8Array> {
  const weights = await readZipFile(bytes, 'model.weights.h5', where);
  if (weights === null) throw new Error(`${op}: ${where} has no model.weights.h5 (a .keras file saved with weights_format 'npz' is not read)`);
  return weights;
}

/**
 * Loads Keras 3 weights (`.weights.h5`, or the weights inside a `.keras` archive) into `model`, which must
 * be built as the saved one, layer for layer. `source`: a path or URL, bytes, a Blob/File, or an IO handler.
 */
export async function loadKerasWeights(model: Sequential, source: FileSource, options: KerasLoadOptions = {}): Promise<void> {
  const op = 'loadKerasWeights';
  if (!model.built) throw new Error(`${op}: model '${model.name}' is not built yet; give its first layer an inputShape`);
  const { bytes, where } = await readWholeFile(source, op);
  const h5 = isZip(bytes) ? await weightsOfArchive(bytes, where, op) : bytes;
  await withHdf5(h5, where, op, options, (file) => loadVariables(model, file, where, op));
}

interface KerasModelConfig { class_name?: string; config?: { name?: string; layers?: KerasLayerEntry[] } }

/** The Sequential model a .keras archive's config.json describes, with its weights. */
export async function loadKerasModel(source: FileSource, options: KerasLoadOptions = {}): Promise<Sequential> {
  const op = 'loadKerasModel';
  const { bytes, where } = await readWholeFile(source, op);
  if (!isZip(bytes)) throw new Error(`${op}: ${where} is not a .keras archive (a zip file); for a .weights.h5 build the model and use loadKerasWeights`);
  const configBytes = await readZipFile(bytes, 'config.json', where);
  if (configBytes === null) throw new Error(`${op}: ${where} has no config.json`);
  let config: KerasModelConfig;
  try {
    config = JSON.parse(new TextDecoder().decode(configBytes));
  } catch (error) {
    throw new Error(`${op}: ${where}/config.json is not JSON: ${(error as Error).message}`);
  }
  if (config.class_name !== 'Sequential' || !Array.isArray(config.config?.layers)) {
    throw new Error(`${op}: ${where} holds a ${String(config.class_name)} model; gradlab loads Sequential models`);
  }
  const entries = config.config!.layers!;
  const input = entries[0]?.class_name === 'InputLayer' ? entries[0] : undefined;
  const layers = entries.slice(input ? 1 : 0).map((entry, i) => {
    if (typeof entry?.class_name !== 'string' || typeof entry.config !== 'object') throw new Error(`${op}: ${where}/config.json: layer #${i} has no class_name and config`);
    return gradlabLayerConfig(entry, `layer #${i} '${String(entry.config.name)}' (${entry.class_name})`, op, 'keras3');
  });
  const batchShape = (input?.config.batch_shape ?? input?.config.batch_input_shape) as unknown[] | undefined;
  if (batchShape && layers.length > 0 && layers[0].config.inputShape === undefined) layers[0].config.inputShape = batchShape.slice(1);
  const model = layerFromConfig({ className: 'Sequential', config: { name: config.config!.name, layers } }) as Sequential;
  if (!model.built) throw new Error(`${op}: ${where} gives no input shape (no InputLayer with batch_shape), so the weights cannot be placed`);
  const h5 = await weightsOfArchive(bytes, where, op);
  await withHdf5(h5, `${where}/model.weights.h5`, op, options, (file) => loadVariables(model, file, `${where}/model.weights.h5`, op));
  return model;
}
