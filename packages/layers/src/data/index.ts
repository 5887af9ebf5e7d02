/** `data`: datasets (tf.data's semantics) that fit, evaluate and predict read batch by batch. */
export { Dataset } from './dataset.js';
export type { GeneratorSource } from './dataset.js';
export { stackExamples } from './batching.js';
export type { Batch, BatchOf, BatchOptions, Example, Leaf, StructuredBatch, StructuredExample } from './batching.js';
export type { Nest } from './structure.js';
