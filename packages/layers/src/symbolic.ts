/**
 * Symbolic tensors: what Keras's functional API passes between layers before any data exists. A
 * symbolic tensor has a shape (batch axis null) and remembers the layer call that made it and that
 * call's inputs, so a model made from inputs and outputs (models/functional.ts) can walk the graph back.
 *
 *   const x = layers.Input({ shape: [784] });              // a SymbolicTensor, made by an InputLayer
 *   const h = layers.Dense(64, { activation: 'relu' }).apply(x);
 *   const y = layers.Dense(10, { activation: 'softmax' }).apply(layers.add([h, layers.Dense(64).apply(h)]));
 *   const model = models.model({ inputs: x, outputs: y });
 *
 * Applying a layer to a symbolic tensor builds the layer for its shape (so its weights exist at once)
 * and computes the output shape; nothing is computed on values.
 */
import type { Layer, SymbolicShape } from './layer.js';

export class SymbolicTensor {
  constructor(
    /** The shape of a batch, the batch axis null. */
    readonly shape: SymbolicShape,
    /** The layer whose call made this tensor (an InputLayer for a model input). */
    readonly layer: Layer,
    /** That call's inputs: none for an input, one for most layers, several for merge layers (Add, Concatenate). */
    readonly inputs: readonly SymbolicTensor[],
  ) {}

  get rank(): number { return this.shape.length; }

  toString(): string { return `SymbolicTensor(${this.layer.name}, [${this.shape.map((d) => (d === null ? 'null' : d)).join(', ')}])`; }
}

export function isSymbolic(x: unknown): x is SymbolicTensor { return x instanceof SymbolicTensor; }
