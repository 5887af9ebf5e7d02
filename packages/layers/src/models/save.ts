/**
 * Saving and loading models: two artifacts, stored where an IO handler (io.ts) puts them, by default
 * a folder with two files.
 *
 *   model.json        the topology (each layer's className and getConfig(), in order), the training
 *                     configuration (loss, metrics, optimizer), a manifest of the weights (for each one
 *                     its layer, name, shape, dtype, byte offset and length, and a CRC-32 checksum), the
 *                     name of the weights file, and a checksum of model.json's own content;
 *   weights-<id>.bin  every weight's values back to back, little-endian, in manifest order, then the
 *                     optimizer's slots when it is saved too (saved-optimizer.ts). (Files saved
 *                     before saves became atomic call it weights.bin; model.json names it either way.)
 *
 * In a folder, a save commits with one rename, of model.json, so a crash leaves the old model or the
 * new one (files.ts says how); saves into one folder run one at a time. In IndexedDB it is one
 * transaction (browser-io.ts).
 *
 * Loading trusts nothing it reads (model-file.ts checks every field). In a folder it reads only regular
 * files inside the folder; everywhere it checks a size before taking the bytes, builds the layers under a memory budget set by the weights file's size, matches
 * every weight's name, shape and dtype against the built model, and only then reads and checksums the
 * weights. So a bad folder fails fast, with an error that starts "models.load:" and names the file,
 * the layer, the weight and the shapes, and it leaves a model given to loadWeights untouched.
 *
 * Layers are rebuilt through the layer registry (layers/registry.ts, className → fromConfig): each layer
 * module calls registerLayer for its classes, and every layer must be constructible from its own getConfig().
 */
import { formatShape, withAllocationBudget } from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import type { Layer } from '../layer.js';
import { layerFromConfig } from '../layers/registry.js';
import { Model } from './model.js';
import { FORMAT, FORMAT_VERSION, MAX_MODEL_FILE_BYTES, MODEL_FILE, crc32, describeEntry, freshId, parseModelFile, sealModelFile, tensorFromBytes } from './model-file.js';
import { optimizerSection, restoreOptimizer } from './saved-optimizer.js';
import type { ModelFile, SavedLayer, WeightEntry } from './model-file.js';
import { resolveHandler } from './io.js';
import type { IOHandler } from './io.js';
// The registry lived here before layers/registry.ts; these names stay importable from this module.
export { registerLayer, registeredLayers, layerFromConfig } from '../layers/registry.js';
export type { LayerFactory } from '../layers/registry.js';

export { MODEL_FILE, crc32, contentChecksum, sealModelFile } from './model-file.js';
export type { ModelFile, WeightEntry } from './model-file.js';
export type { IOHandler, ModelArtifacts } from './io.js';
export { browserFiles, http, memory } from './browser-io.js';
export type { HttpOptions, MemoryHandler } from './browser-io.js';
export { postProgress } from './worker.js';

// ---- saving --------------------------------------------------------------------------------------

/** Every layer's weights (parameters, then buffers such as BatchNorm's moving statistics), in model order. */
function weightsOf(model: Model): Array<{ layer: Layer; index: number; name: string; value: Tensor }> {
  return model.layers.flatMap((layer, index) => [...layer.stateDict()].map(([name, value]) => ({ layer, index, name, value })));
}

export interface SaveOptions {
  /**
   * Save the optimizer's state (step count, Adam's moments, …) with the model, so that fit on the loaded
   * model resumes exactly (Keras's include_optimizer). Default true; false saves the weights and the
   * training configuration only, and a loaded model's optimizer starts afresh.
   */
  includeOptimizer?: boolean;
}

/** Refuse an option of save or loadWeights gradlab does not know, naming it (a misspelt includeOptimizer would be ignored). */
function checkSaveOptions(op: string, options: SaveOptions): void {
  if (typeof options !== 'object' || options === null) throw new Error(`${op}: options must be an object such as { includeOptimizer: false }, got ${String(options)}`);
  const unknown = Object.keys(options).filter((k) => k !== 'includeOptimizer');
  if (unknown.length) throw new Error(`${op}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} (known: includeOptimizer)`);
  if (options.includeOptimizer !== undefined && typeof options.includeOptimizer !== 'boolean') {
    throw new Error(`${op}: includeOptimizer must be true or false, got ${String(options.includeOptimizer)}`);
  }
}

// Saves to one destination run one after another in the order they were called, so the last call wins:
// the queue is joined before the first await, since awaits (reading weights, importing the file handler,
// creating the folder) finish in no fixed order. files.ts's lock then keeps other processes out.
const pendingSaves = new Map<string, Promise<void>>();

/** Write model.json and its weights where `destination` says (a folder, created if needed, 'indexeddb://…'), as one atomic step. */
export function saveModel(model: Model, destination: string | IOHandler, options: SaveOptions = {}): Promise<void> {
  try { checkSaveOptions('save', options); } catch (error) { return Promise.reject(error); } // save() reports by its promise, always
  if (typeof destination !== 'string') return writeModel(model, destination, options);
  const previous = pendingSaves.get(destination) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(() => writeModel(model, destination, options));
  pendingSaves.set(destination, run);
  const forget = (): void => { if (pendingSaves.get(destination) === run) pendingSaves.delete(destination); };
  run.then(forget, forget);
  return run;
}

async function writeModel(model: Model, destination: string | IOHandler, options: SaveOptions): Promise<void> {
  if (!model.built) {
    throw new Error(`save: model '${model.name}' is not built yet (no weights); give the first layer an inputShape or call the model on data first`);
  }
  const entries: WeightEntry[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const { layer, index, name, value } of weightsOf(model)) {
    const data = await value.data(); // awaited: under an asynchronous device the last step may still be running
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    entries.push({ layer: layer.name, layerClass: layer.className, layerIndex: index, name, shape: [...value.shape],
      dtype: value.dtype, offset, byteLength: bytes.byteLength, crc32: crc32(bytes) });
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  const optimizer = (options.includeOptimizer ?? true) ? await optimizerSection(model, offset) : null;
  for (const bytes of optimizer?.bytes ?? []) { chunks.push(bytes); offset += bytes.byteLength; }
  const weights = new Uint8Array(offset);
  let at = 0;
  for (const chunk of chunks) { weights.set(chunk, at); at += chunk.byteLength; }
  const handler = await resolveHandler(destination, 'save');
  const weightsFile = handler.weightsFileName?.() ?? `weights-${freshId()}.bin`;
  const file = sealModelFile({
    format: FORMAT,
    formatVersion: FORMAT_VERSION,
    model: { className: model.className, config: model.getConfig(), buildInputShape: model.builtInputShape ?? null },
    trainingConfig: model.trainingConfig(),
    weights: { file: weightsFile, byteLength: offset, entries },
    ...(optimizer ? { optimizer: optimizer.section } : {}),
  });
  await handler.save!({ modelJson: `${JSON.stringify(file, null, 1)}\n`, weightsFile, weights }, `save (model '${model.name}')`);
}

// ---- loading -------------------------------------------------------------------------------------

async function readModelFile(source: IOHandler): Promise<ModelFile> {
  return parseModelFile(await source.readModelJson!(MAX_MODEL_FILE_BYTES), source.where(MODEL_FILE));
}

/**
 * Build `make()`'s model allowing it as much new memory as the weights it will receive need, several
 * times over (initialisers draw temporaries), so that a model.json declaring layers far larger than
 * its weights file fails here, before the memory is taken. Any error is reported as a load error.
 */
function buildWithin<T>(file: ModelFile, source: string, make: () => T): T {
  const budget = 16 * file.weights.byteLength + (64 << 20);
  try {
    return withAllocationBudget(budget, `models.load: building the model of ${source}`, make);
  } catch (error) {
    const message = (error as Error).message;
    throw new Error(message.startsWith('models.load') ? message : `models.load: ${source}: cannot build the model it describes: ${message}`);
  }
}

/**
 * Match the manifest against `model` layer by layer (class, weight names, shapes, dtypes), before any
 * weight is read. Layers are matched by position, as Keras's load_weights does, so a rebuilt model
 * whose automatic names differ (dense_3 instead of dense) still loads. Returns each entry's state name.
 */
function matchManifest(model: Model, file: ModelFile, source: string): string[] {
  const fail = (message: string): never => { throw new Error(`models.load: ${source} does not fit model '${model.name}': ${message}`); };
  const savedLayers = (file.model.config.layers as SavedLayer[] | undefined) ?? [];
  if (savedLayers.length !== model.layers.length) {
    fail(`the file holds ${savedLayers.length} layers (${savedLayers.map((l) => l.className).join(', ')}), ` +
      `the model ${model.layers.length} (${model.layers.map((l) => l.className).join(', ')})`);
  }
  const seen = new Set<string>();
  const names = file.weights.entries.map((e) => {
    const layer = model.layers[e.layerIndex];
    if (!layer) fail(`${describeEntry(e)} is for layer #${e.layerIndex}, the model has ${model.layers.length} layers`);
    if (layer.className !== e.layerClass) {
      fail(`layer #${e.layerIndex} is '${layer.name}' (${layer.className}) in the model but '${e.layer}' (${e.layerClass}) in the file`);
    }
    const target = layer.stateDict().get(e.name);
    if (!target) fail(`${describeEntry(e)} has no counterpart in layer '${layer.name}' (${layer.className}), whose weights are ${[...layer.stateDict().keys()].join(', ')}`);
    if (target!.shape.length !== e.shape.length || target!.shape.some((d, i) => d !== e.shape[i])) {
      fail(`${describeEntry(e)} in the file, but layer '${layer.name}' (${layer.className}) expects ${formatShape(target!.shape)} for '${e.name}'`);
    }
    if (target!.dtype !== e.dtype) fail(`${describeEntry(e)} is ${e.dtype} in the file, but layer '${layer.name}' holds ${target!.dtype}`);
    const key = `${e.layerIndex}/${e.name}`;
    if (seen.has(key)) fail(`${describeEntry(e)} appears twice in the manifest`);
    seen.add(key);
    return `${layer.name}.${e.name}`;
  });
  model.layers.forEach((layer, i) => {
    for (const [name, t] of layer.stateDict()) {
      if (!seen.has(`${i}/${name}`)) fail(`the file has no value for layer '${layer.name}' (${layer.className}) weight '${name}' ${formatShape(t.shape)}`);
    }
  });
  return names;
}

/** The weights file's bytes, and its values by manifest entry, after checking its size and every checksum. */
async function readWeights(source: IOHandler, manifest: ModelFile['weights']): Promise<{ buffer: Uint8Array; values: Tensor[] }> {
  const buffer = await source.readWeights!(manifest.file, (size, file) => {
    if (size === manifest.byteLength) return;
    const short = manifest.entries.find((e) => e.offset + e.byteLength > size);
    const what = short ? `; ${describeEntry(short)} needs bytes ${short.offset}–${short.offset + short.byteLength}` : '';
    throw new Error(`models.load: ${file} has ${size} bytes but model.json describes ${manifest.byteLength} ` +
      `(${size < manifest.byteLength ? 'truncated' : 'not the weights of this model.json'})${what}`);
  });
  const file = source.where(manifest.file);
  return { buffer, values: manifest.entries.map((e) => tensorFromBytes(buffer, e, file, describeEntry(e))) };
}

/** Check the saved weights against `model`, read them, and load them all at once. Resolves to the weights file's bytes. */
async function fillWeights(model: Model, file: ModelFile, source: IOHandler): Promise<Uint8Array> {
  const names = matchManifest(model, file, source.where(file.weights.file));
  const { buffer, values } = await readWeights(source, file.weights);
  model.loadStateDict(new Map(names.map((name, k) => [name, values[k]])));
  return buffer;
}

/**
 * Run a load from what `from` names. A handler may ask for one more try (a save into a folder
 * replaced the files while we read). Any error that escaped the checks is still reported as a load error.
 */
async function loading<T>(from: string | IOHandler, attempt: (source: IOHandler) => Promise<T>): Promise<T> {
  const source = await resolveHandler(from, 'load');
  try {
    try {
      return await attempt(source);
    } catch (error) {
      if (!(await source.shouldRetry?.(error))) throw error;
      return await attempt(source);
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw message.startsWith('models.load') ? error : new Error(`models.load: ${source.location}: ${message}`, { cause: error });
  }
}

/**
 * Load the weights saved at `from` (a folder, 'indexeddb://…', a URL, a handler) into a model of the
 * same architecture (Keras's load_weights). With { includeOptimizer: true } the optimizer's state saved
 * with them goes into the model's compiled optimizer too (BackupAndRestore resumes this way).
 */
export function loadWeights(model: Model, from: string | IOHandler, options: SaveOptions = {}): Promise<void> {
  try { checkSaveOptions('loadWeights', options); } catch (error) { return Promise.reject(error); }
  return loading(from, async (source) => {
    const file = await readModelFile(source);
    const shape = file.model.buildInputShape;
    if (!model.built && shape) buildWithin(file, source.where(MODEL_FILE), () => model.build(shape));
    if (options.includeOptimizer && file.optimizer && !model.optimizer) {
      throw new Error(`models.load: ${source.where(MODEL_FILE)}: loadWeights with includeOptimizer needs a compiled model to put the optimizer's state in`);
    }
    const weights = await fillWeights(model, file, source);
    if (options.includeOptimizer && file.optimizer) restoreOptimizer(model, file.optimizer, weights, source.where(file.weights.file));
  });
}

/**
 * Rebuild the model saved at `from`: its layers, its weights and (if it was compiled) its training setup,
 * with the optimizer's state when it was saved with it, so that fit resumes where the saved model stopped.
 */
export function load(from: string | IOHandler): Promise<Model> {
  return loading(from, loadOnce);
}

async function loadOnce(source: IOHandler): Promise<Model> {
  const file = await readModelFile(source);
  const where = source.where(MODEL_FILE);
  const model = buildWithin(file, where, () => {
    const built = layerFromConfig(file.model);
    if (!(built instanceof Model)) throw new Error(`the file describes a ${built.className}, not a model (Sequential or a registered Model subclass)`);
    const shape = file.model.buildInputShape;
    if (!built.built && shape) built.build(shape);
    return built;
  });
  const weights = await fillWeights(model, file, source);
  if (file.trainingConfig) {
    try {
      model.compileFromConfig(file.trainingConfig);
    } catch (error) {
      throw new Error(`models.load: ${where}: cannot restore its training configuration: ${(error as Error).message}`);
    }
  }
  if (file.optimizer) restoreOptimizer(model, file.optimizer, weights, source.where(file.weights.file));
  return model;
}
