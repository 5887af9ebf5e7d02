/**
 * @gradlab/layers: Keras-style layers over gradlab's autograd engine, with the PyTorch-style Module
 * system underneath, losses, optimizers, metrics and models.
 *
 *   import { layers, models, optimizers, losses } from 'gradlab';
 *   const model = new models.Sequential();
 *   model.add(layers.Dense(10, { activation: 'softmax', inputShape: [784] }));
 */
import { Dense, Activation, Flatten, Dropout } from './layers/core.js';
import type { DenseArgs, DropoutArgs } from './layers/core.js';
import { Conv2D, MaxPooling2D, AveragePooling2D } from './layers/conv.js';
import type { Conv2DArgs, Pooling2DArgs } from './layers/conv.js';
import { Embedding } from './layers/embedding.js';
import type { EmbeddingArgs } from './layers/embedding.js';
import { BatchNormalization, LayerNormalization } from './layers/normalization.js';
import type { BatchNormalizationArgs, LayerNormalizationArgs } from './layers/normalization.js';
import { GroupNormalization } from './layers/group-normalization.js';
import type { GroupNormalizationArgs } from './layers/group-normalization.js';
import { LSTM } from './layers/recurrent.js';
import type { LSTMArgs, LSTMResult, LSTMRunOptions } from './layers/recurrent.js';
import { Bidirectional } from './layers/wrappers.js';
import type { BidirectionalArgs, BidirectionalResult, MergeMode } from './layers/wrappers.js';
import { Add, Concatenate, Input, InputLayer } from './layers/merge.js';
import type { ConcatenateArgs, InputArgs } from './layers/merge.js';
import type { SymbolicTensor } from './symbolic.js';
import type { ActivationName } from './activations.js';
import type { LayerArgs } from './layer.js';

export { Module } from './module.js';
export { Layer, resetLayerNames, formatSymbolicShape } from './layer.js';
export type { LayerArgs, CallOptions, SymbolicShape } from './layer.js';
export { Dense, Activation, Flatten, Dropout, Conv2D, MaxPooling2D, AveragePooling2D, Embedding, BatchNormalization, LayerNormalization, GroupNormalization, LSTM, Bidirectional };
export { Add, Concatenate, InputLayer };
export { SymbolicTensor } from './symbolic.js';
export type { ConcatenateArgs, InputArgs };
export type { LSTMArgs, LSTMResult, LSTMRunOptions, BidirectionalArgs, BidirectionalResult, MergeMode };
export type { DenseArgs, DropoutArgs, Conv2DArgs, Pooling2DArgs, EmbeddingArgs, BatchNormalizationArgs, LayerNormalizationArgs, GroupNormalizationArgs, ActivationName };
export * as initializers from './initializers.js';

/** Keras-style factories: `layers.Dense(128, { activation: 'relu' })` makes a `Dense`. */
export const layers = {
  Dense: (units: number, args?: DenseArgs) => new Dense(units, args),
  Activation: (activation: ActivationName, args?: LayerArgs) => new Activation(activation, args),
  Flatten: (args?: LayerArgs) => new Flatten(args),
  Dropout: (rate: number, args?: DropoutArgs) => new Dropout(rate, args),
  Conv2D: (filters: number, kernelSize: number | readonly [number, number], args?: Conv2DArgs) => new Conv2D(filters, kernelSize, args),
  MaxPooling2D: (args?: Pooling2DArgs) => new MaxPooling2D(args),
  AveragePooling2D: (args?: Pooling2DArgs) => new AveragePooling2D(args),
  Embedding: (inputDim: number, outputDim: number, args?: EmbeddingArgs) => new Embedding(inputDim, outputDim, args),
  BatchNormalization: (args?: BatchNormalizationArgs) => new BatchNormalization(args),
  LayerNormalization: (args?: LayerNormalizationArgs) => new LayerNormalization(args),
  GroupNormalization: (args?: GroupNormalizationArgs) => new GroupNormalization(args),
  LSTM: (units: number, args?: LSTMArgs) => new LSTM(units, args),
  Bidirectional: (layer: LSTM, args?: BidirectionalArgs) => new Bidirectional(layer, args),
  // The functional API (models/functional.ts): an input, and the merge layers with Keras's helpers.
  Input: (args: InputArgs) => Input(args),
  input: (args: InputArgs) => Input(args),
  Add: (args?: LayerArgs) => new Add(args),
  Concatenate: (args?: ConcatenateArgs) => new Concatenate(args),
  /** Keras's keras.layers.add([a, b]): an Add layer applied to the list. */
  add: (inputs: SymbolicTensor[], args?: LayerArgs): SymbolicTensor => new Add(args).apply(inputs),
  /** Keras's keras.layers.concatenate([a, b], axis): a Concatenate layer applied to the list. */
  concatenate: (inputs: SymbolicTensor[], args?: ConcatenateArgs): SymbolicTensor => new Concatenate(args).apply(inputs),
};

export * as models from './models/index.js';
export * as optimizers from './optimizers/index.js';
export * as losses from './losses.js';
export * as metrics from './metrics.js';
export * as callbacks from './callbacks.js';
/** safetensors: a state dict to and from Hugging Face's file format (formats/safetensors.ts). */
export { encodeSafetensors, decodeSafetensors } from './formats/safetensors.js';
/** TensorFlow.js's Layers format (formats/tfjs.ts). */
export { toTfjsArtifacts, fromTfjsArtifacts, tfjsModelJson } from './formats/tfjs.js';
export type { TfjsArtifacts, TfjsWeightSpec } from './formats/tfjs.js';
/** TF.js's model.json and weight shards, from and to files, URLs and IO handlers (formats/tfjs-files.ts). */
export { loadTfjsModel, saveTfjsModel } from './formats/tfjs-files.js';
/** Keras 3's .keras and .weights.h5 (formats/keras.ts; HDF5 through the optional h5wasm package). */
export { loadKerasModel, loadKerasWeights } from './formats/keras.js';
export type { KerasLoadOptions } from './formats/keras.js';
export type { H5wasmModule } from './formats/hdf5.js';
export type { FileSource } from './formats/read-file.js';
/** ONNX export of a Sequential model's inference graph (formats/onnx.ts; also model.exportOnnx(path)). */
export { exportOnnx } from './formats/onnx.js';
export * as data from './data/index.js';
export { Dataset } from './data/dataset.js';
