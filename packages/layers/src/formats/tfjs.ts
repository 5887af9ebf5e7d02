/**
 * TensorFlow.js's Layers format: model.json (the Keras topology and a weights manifest) and weight
 * shards, as `model.save()` writes them in TF.js and `tf.loadLayersModel()` reads them.
 *
 * The artifacts here are TF.js's own `ModelArtifacts` object ({ modelTopology, weightSpecs, weightData }),
 * which `tf.io.fromMemory(artifacts)` loads and `tf.io.withSaveHandler` receives. For files:
 * `tfjsModelJson(artifacts, 'model.weights.bin')` gives model.json's text, weightData the bin file.
 *
 * Layers: Dense, Activation, Flatten, Dropout, Conv2D, MaxPooling2D, AveragePooling2D,
 * BatchNormalization, LSTM and Embedding. Weights are in the same layout in both libraries (a Dense
 * kernel [in, out], a Conv2D kernel [kh, kw, in, out], LSTM gates i, f, c, o), so they are copied as
 * they are, matched by name (layer/weight). An LSTM's recurrentActivation, TF.js's default 'hardSigmoid'
 * (written 'hard_sigmoid' in model.json) or 'sigmoid', travels both ways; any other is refused.
 */
import { allocate, fromTypedArray, sizeOf } from '@gradlab/tensor';
import type { DType } from '@gradlab/tensor';
import type { Layer } from '../layer.js';
import { layerFromConfig } from '../layers/registry.js';
import type { Sequential } from '../models/sequential.js';
import { gradlabLayerConfig } from './keras-config.js';

export interface TfjsWeightSpec { name: string; shape: number[]; dtype: 'float32' | 'int32' }
export interface TfjsArtifacts { modelTopology: Record<string, unknown>; weightSpecs: TfjsWeightSpec[]; weightData: ArrayBuffer; format?: string; generatedBy?: string }

const snake = (key: string): string => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
const pair = (v: unknown): unknown => (typeof v === 'number' ? [v, v] : v);

/** gradlab's weight names and TF.js's (the part after "layer/"). */
const WEIGHT_NAMES: Record<string, string> = {
  kernel: 'kernel', bias: 'bias', recurrentKernel: 'recurrent_kernel', gamma: 'gamma', beta: 'beta',
  movingMean: 'moving_mean', movingVariance: 'moving_variance', embeddings: 'embeddings',
};


/** Each class's config keys that differ from a plain camelCase → snake_case rename, and the fixed ones TF.js expects. */
function kerasConfig(layer: Layer): Record<string, unknown> {
  const { inputShape, ...config } = layer.getConfig();
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (typeof value === 'string' && /Initializer$/.test(key)) continue; // initialisers do not matter to a trained model
    out[snake(key)] = ['kernelSize', 'strides', 'poolSize'].includes(key) ? pair(value) : value;
  }
  if (inputShape) out.batch_input_shape = [null, ...(inputShape as unknown[])];
  out.trainable = true;
  out.dtype = 'float32';
  switch (layer.className) {
    case 'Conv2D': return { ...out, data_format: 'channels_last', dilation_rate: [1, 1] };
    case 'MaxPooling2D': case 'AveragePooling2D': return { ...out, strides: out.strides ?? out.pool_size, data_format: 'channels_last' };
    case 'BatchNormalization': { const { fused: _fused, ...bn } = out; return { ...bn, axis: -1 }; }
    case 'LSTM': {
      const recurrent = (layer as unknown as { recurrentActivation: string }).recurrentActivation;
      return { ...out, activation: 'tanh', recurrent_activation: recurrent === 'hardSigmoid' ? 'hard_sigmoid' : recurrent, use_bias: true };
    }
    default: return out;
  }
}

/** The model as TF.js's ModelArtifacts: tf.loadLayersModel(tf.io.fromMemory(artifacts)) rebuilds it. */
export async function toTfjsArtifacts(model: Sequential): Promise<TfjsArtifacts> {
  if (!model.built) throw new Error(`toTfjsArtifacts: model '${model.name}' is not built yet; give the first layer an inputShape`);
  const layers = model.layers.map((layer) => ({ class_name: layer.className, config: kerasConfig(layer) }));
  const weightSpecs: TfjsWeightSpec[] = [];
  const chunks: Uint8Array[] = [];
  for (const layer of model.layers) {
    for (const [name, value] of layer.stateDict()) {
      if (value.dtype === 'float64') throw new Error(`toTfjsArtifacts: ${layer.name}/${name} is float64; TF.js holds float32 and int32 only`);
      weightSpecs.push({ name: `${layer.name}/${WEIGHT_NAMES[name] ?? snake(name)}`, shape: [...value.shape], dtype: value.dtype as 'float32' | 'int32' });
      const data = (await value.contiguous().data()).slice();
      chunks.push(new Uint8Array(data.buffer));
    }
  }
  const weightData = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  chunks.reduce((at, c) => { weightData.set(c, at); return at + c.byteLength; }, 0);
  return {
    modelTopology: { class_name: 'Sequential', config: { name: model.name, layers }, keras_version: 'tfjs-layers 4.22.0', backend: 'tensor_flow.js' },
    weightSpecs, weightData: weightData.buffer, format: 'layers-model', generatedBy: 'gradlab',
  };
}

/** model.json's text for artifacts whose weightData is saved beside it as `weightsFile`. */
export function tfjsModelJson(artifacts: TfjsArtifacts, weightsFile: string): string {
  return JSON.stringify({
    format: 'layers-model', generatedBy: artifacts.generatedBy ?? 'gradlab', convertedBy: null, modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: [weightsFile], weights: artifacts.weightSpecs }],
  });
}

/** A gradlab Sequential from TF.js's ModelArtifacts (tf.io.withSaveHandler gives them; or model.json's fields and its weight shards joined). */
export function fromTfjsArtifacts(artifacts: TfjsArtifacts): Sequential {
  const topology = (artifacts.modelTopology.model_config ?? artifacts.modelTopology) as { class_name?: string; config?: { name?: string; layers?: Array<{ class_name: string; config: Record<string, unknown> }> } };
  if (topology.class_name !== 'Sequential' || !Array.isArray(topology.config?.layers)) {
    throw new Error(`fromTfjsArtifacts: the topology is a ${String(topology.class_name)}; gradlab loads Sequential models`);
  }
  const saved = topology.config!.layers!.map((l, i) => gradlabLayerConfig(l, `layer #${i} '${String(l.config.name)}' (${l.class_name})`, 'fromTfjsArtifacts', 'tfjs'));
  const model = layerFromConfig({ className: 'Sequential', config: { name: topology.config!.name, layers: saved } }) as Sequential;
  if (!model.built) throw new Error('fromTfjsArtifacts: the first layer has no batch_input_shape, so the weights cannot be placed');
  let offset = 0;
  const byName = new Map<string, { spec: TfjsWeightSpec; offset: number }>();
  for (const spec of artifacts.weightSpecs) {
    const bytes = sizeOf(spec.shape) * 4;
    if (spec.dtype !== 'float32' && spec.dtype !== 'int32') throw new Error(`fromTfjsArtifacts: weight '${spec.name}' is ${String(spec.dtype)}; gradlab reads float32 and int32`);
    if (offset + bytes > artifacts.weightData.byteLength) throw new Error(`fromTfjsArtifacts: weight '${spec.name}' needs bytes ${offset}–${offset + bytes}, the weight data has ${artifacts.weightData.byteLength}`);
    byName.set(spec.name, { spec, offset });
    offset += bytes;
  }
  const state = new Map<string, ReturnType<typeof fromTypedArray>>();
  for (const layer of model.layers) {
    for (const [name, target] of layer.stateDict()) {
      const tfName = `${layer.name}/${WEIGHT_NAMES[name] ?? snake(name)}`;
      const found = byName.get(tfName) ?? [...byName.entries()].find(([n]) => n.endsWith(`/${tfName}`))?.[1]; // TF.js may prefix a scope
      if (!found) throw new Error(`fromTfjsArtifacts: no weight '${tfName}' for layer '${layer.name}' (${layer.className}); the file has ${[...byName.keys()].join(', ')}`);
      const { spec } = found;
      if (spec.shape.join(',') !== target.shape.join(',')) throw new Error(`fromTfjsArtifacts: weight '${spec.name}' is [${spec.shape.join(', ')}], layer '${layer.name}' expects [${target.shape.join(', ')}]`);
      const values = allocate(spec.dtype as DType, sizeOf(spec.shape));
      new Uint8Array(values.buffer).set(new Uint8Array(artifacts.weightData, found.offset, values.byteLength));
      state.set(`${layer.name}.${name}`, fromTypedArray(values, spec.shape));
    }
  }
  model.loadStateDict(state);
  return model;
}


