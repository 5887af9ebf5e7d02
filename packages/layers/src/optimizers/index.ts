/**
 * Optimizers, one file per rule in the order a learner meets them: the base class (slots, clipping,
 * the step) in optimizer.ts, then sgd.ts, adam.ts, adamw.ts and rmsprop.ts. Each rule's update is a backend
 * kernel, so the same class trains parameters on any backend.
 */
import { Optimizer } from './optimizer.js';
import type { OptimizerOptions } from './optimizer.js';
import { SGD } from './sgd.js';
import { Adam } from './adam.js';
import { RMSprop } from './rmsprop.js';
import { AdamW } from './adamw.js';

export { Optimizer, clipGradNorm } from './optimizer.js';
export type { OptimizerOptions, OptimizerState } from './optimizer.js';
export { SGD } from './sgd.js';
export type { SGDOptions } from './sgd.js';
export { Adam } from './adam.js';
export type { AdamOptions } from './adam.js';
export { RMSprop } from './rmsprop.js';
export type { RMSpropOptions } from './rmsprop.js';
export { AdamW } from './adamw.js';
export type { AdamWOptions } from './adamw.js';

const BY_NAME = new Map<string, new (options: OptimizerOptions) => Optimizer>([['sgd', SGD], ['adam', Adam], ['adamw', AdamW], ['rmsprop', RMSprop]]);
export type OptimizerName = 'sgd' | 'adam' | 'adamw' | 'rmsprop';

/** An optimizer from its Keras name ('adam', 'sgd', 'rmsprop'; any case) with default options. */
export function getOptimizer(spec: string | Optimizer, options: OptimizerOptions = {}): Optimizer {
  if (spec instanceof Optimizer) return spec;
  const Ctor = typeof spec === 'string' ? BY_NAME.get(spec.toLowerCase()) : undefined;
  if (!Ctor) throw new Error(`optimizer: unknown optimizer '${String(spec)}' (known: ${[...BY_NAME.keys()].join(', ')})`);
  return new Ctor(options);
}
