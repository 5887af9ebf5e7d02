// The same three models in TensorFlow.js (tf.layers), layer for layer as models-gradlab.mjs builds them,
// with the same parameter counts. Only this benchmark imports TensorFlow.js; no gradlab package does.
import { createRequire } from 'node:module';
import path from 'node:path';
import { MODELS, makeBatch } from './models-gradlab.mjs';

const require = createRequire(import.meta.url);

/**
 * Load TensorFlow.js and switch to `backend`: 'tfjs-cpu' (the pure-JS kernels) or 'tfjs-wasm' (XNNPACK
 * compiled to WebAssembly, SIMD on, one thread; the .wasm files are read from the package's dist folder).
 */
export async function loadTfjs(backend) {
  const tf = require('@tensorflow/tfjs');
  require('@tensorflow/tfjs-backend-cpu');
  if (backend === 'tfjs-wasm') {
    const wasm = require('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')) + '/dist/');
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    tf.env().set('WASM_HAS_SIMD_SUPPORT', true);
    if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: the wasm backend failed to initialise');
  } else if (backend === 'tfjs-cpu') {
    if (!(await tf.setBackend('cpu'))) throw new Error('tfjs: the cpu backend failed to initialise');
  } else {
    throw new Error(`loadTfjs: unknown backend '${backend}' (tfjs-cpu, tfjs-wasm)`);
  }
  await tf.ready();
  return tf;
}

export function buildTfjsModel(tf, name) {
  const L = tf.layers;
  const model = tf.sequential();
  if (name === 'image') {
    model.add(L.conv2d({ filters: 32, kernelSize: [3, 3], activation: 'relu', inputShape: [64, 64, 3] }));
    model.add(L.batchNormalization());
    model.add(L.maxPooling2d({ poolSize: [2, 2] }));
    model.add(L.conv2d({ filters: 64, kernelSize: [3, 3], activation: 'relu' }));
    model.add(L.batchNormalization());
    model.add(L.maxPooling2d({ poolSize: [2, 2] }));
    model.add(L.flatten());
    model.add(L.dense({ units: 128, activation: 'relu' }));
    model.add(L.batchNormalization());
    model.add(L.dense({ units: 10, activation: 'softmax' }));
  } else if (name === 'speech') {
    model.add(L.lstm({ units: 128, returnSequences: true, inputShape: [null, 40] }));
    model.add(L.batchNormalization());
    model.add(L.lstm({ units: 64 }));
    model.add(L.batchNormalization());
    model.add(L.dense({ units: 10, activation: 'softmax' }));
  } else if (name === 'text') {
    model.add(L.bidirectional({ layer: L.lstm({ units: 128, returnSequences: true }), inputShape: [null, 300] }));
    model.add(L.batchNormalization());
    model.add(L.bidirectional({ layer: L.lstm({ units: 64 }) }));
    model.add(L.batchNormalization());
    model.add(L.dense({ units: 1, activation: 'sigmoid' }));
  } else {
    throw new Error(`buildTfjsModel: unknown model '${name}' (image, speech, text)`);
  }
  const loss = MODELS[name].loss === 'binary_crossentropy' ? 'binaryCrossentropy' : 'sparseCategoricalCrossentropy';
  model.compile({ optimizer: tf.train.adam(1e-3, 0.9, 0.999, 1e-7), loss, metrics: ['accuracy'] });
  const total = model.countParams();
  if (total !== MODELS[name].params) throw new Error(`${name}: tfjs built ${total} parameters, Keras has ${MODELS[name].params}`);
  return model;
}

/** The shared batch as tfjs tensors; labels as float32 [batch, 1], which both of its losses accept. */
export function tfjsBatch(tf, name, batch, steps = null) {
  const { x, xShape, labels } = makeBatch(name, batch, 1, steps);
  return { x: tf.tensor(x, xShape, 'float32'), y: tf.tensor(Float32Array.from(labels), [batch, 1], 'float32') };
}
