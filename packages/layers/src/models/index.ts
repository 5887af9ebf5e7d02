/** `models`: Sequential, saving and loading models, and the layer registry that loading rebuilds layers from. */
export * from './sequential.js';
export * from './save.js';
export { Functional, model } from './functional.js';
export type { FunctionalArgs } from './functional.js';
export { registerLayer, registeredLayers, layerFromConfig } from '../layers/registry.js';
export type { LayerFactory } from '../layers/registry.js';
export { persistentTensors } from './recycle.js';
