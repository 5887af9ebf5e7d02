/**
 * Layer: a Module with Keras's life cycle. A layer is created with its configuration only; its
 * weights are made by `build(inputShape)` the first time it sees an input (or when a model knows the
 * input shape up front), so `Dense(128)` need not be told how many inputs it has.
 *
 * Shapes here are symbolic: the batch axis (and a variable time axis) is `null`, as Keras prints None.
 */
import { Variable, asVariable } from '@gradlab/autograd';
import type { Tensor } from '@gradlab/tensor';
import { Module } from './module.js';
import { SymbolicTensor } from './symbolic.js';

export type SymbolicShape = ReadonlyArray<number | null>;

export interface CallOptions {
  /** Training mode for this call (Dropout, BatchNorm); defaults to the layer's `training` flag. */
  training?: boolean;
  /** [batch, time] mask, 1 for real steps and 0 for padding, as made by Embedding({ maskZero }). */
  mask?: Tensor | null;
}

export interface LayerArgs {
  /** Name shown by summary() and used in saved files; default: the class in snake_case plus a counter. */
  name?: string;
  /** Shape of one example (no batch axis) for the first layer of a Sequential model. */
  inputShape?: ReadonlyArray<number | null>;
}

const nameCounters = new Map<string, number>();

/** Keras's automatic names: dense, dense_1, dense_2, … per class. */
export function uniqueLayerName(base: string): string {
  const n = nameCounters.get(base) ?? 0;
  nameCounters.set(base, n + 1);
  return n === 0 ? base : `${base}_${n}`;
}
/** Start automatic names from scratch (tests, and scripts that build several models). */
export function resetLayerNames(): void { nameCounters.clear(); }

/** Keras's class-name-to-layer-name rule: Conv2D → conv2d, BatchNormalization → batch_normalization. */
/** An object's class name as saved: its class's own static `className` if it declares one, else constructor.name. */
export function classNameOf(object: object): string {
  const ctor = object.constructor as { className?: unknown; name: string };
  return Object.prototype.hasOwnProperty.call(ctor, 'className') && typeof ctor.className === 'string' ? ctor.className : ctor.name;
}

export function snakeCase(className: string): string {
  return className.replace(/([a-z])([A-Z])/g, '$1_$2').replace(/([A-Z])([A-Z][a-z])/g, '$1_$2').toLowerCase();
}

export abstract class Layer extends Module {
  readonly name: string;
  /** The `inputShape` given at construction, with the batch axis: [null, ...inputShape]. */
  readonly batchInputShape?: SymbolicShape;
  built = false;
  /** Input shape the layer was built for (batch axis null). */
  builtInputShape?: SymbolicShape;
  /** Whether the layer accepts a mask and passes it on (Keras's supports_masking). */
  supportsMasking = false;

  constructor(args: LayerArgs = {}) {
    super();
    this.name = args.name ?? uniqueLayerName(snakeCase(classNameOf(this)));
    if (args.inputShape) this.batchInputShape = [null, ...args.inputShape];
  }

  /** The Keras class name ('Dense'), used by summary() and by save/load. */
  /** The class's own static className (which minifiers leave alone), else the constructor's name (a user's class, unminified). */
  get className(): string { return classNameOf(this); }

  /** Create weights for inputs of this shape. Subclasses with weights override it and call super. */
  build(inputShape: SymbolicShape): void {
    this.builtInputShape = inputShape;
    this.built = true;
  }

  /** The forward computation on a batch. */
  abstract call(x: Variable, options: CallOptions): Variable;

  /** Output shape for an input shape (batch axis null). Default: unchanged. */
  computeOutputShape(inputShape: SymbolicShape): SymbolicShape { return inputShape; }

  /**
   * The mask the next layer receives, given this layer's input and the mask it got. Default: passed
   * through if the layer supports masking (Embedding makes one; an LSTM without returnSequences ends it).
   */
  computeMask(input: Variable, mask: Tensor | null): Tensor | null { return this.supportsMasking ? mask : null; }

  /** Whether the layer takes a list of inputs (merge layers: Add, Concatenate) rather than one. */
  readonly takesList: boolean = false;

  /** A merge layer's forward computation on its list of inputs (layers that take one input never get a list). */
  callList(xs: Variable[], options: CallOptions): Variable {
    void xs; void options;
    throw layerError(this, 'this layer takes one input, not a list');
  }

  /** A merge layer's output shape for its inputs' shapes. */
  computeOutputShapeList(shapes: SymbolicShape[]): SymbolicShape {
    void shapes;
    throw layerError(this, 'this layer takes one input, not a list');
  }

  /**
   * Build if needed, then call: how models run a layer. Accepts a Tensor or a Variable; a merge layer
   * a list of them. Given a symbolic tensor (or a merge layer a list of them: the functional API), it
   * builds for its shape and returns the symbolic output, remembering this call (symbolic.ts).
   */
  apply(x: Variable | Tensor | Array<Variable | Tensor>, options?: CallOptions): Variable;
  apply(x: SymbolicTensor | SymbolicTensor[], options?: CallOptions): SymbolicTensor;
  apply(x: Variable | Tensor | SymbolicTensor | Array<Variable | Tensor | SymbolicTensor>, options: CallOptions = {}): Variable | SymbolicTensor {
    const list = Array.isArray(x) ? x : null;
    if (list && !this.takesList) throw layerError(this, `takes one input, got a list of ${list.length}`);
    if (!list && this.takesList) throw layerError(this, 'takes a list of inputs (e.g. [a, b])');
    const symbolic = (list ?? [x]).filter((t) => t instanceof SymbolicTensor);
    if (symbolic.length > 0) {
      if (symbolic.length !== (list ?? [x]).length) throw layerError(this, 'cannot mix symbolic tensors (from layers.Input) with values in one call');
      return this.applySymbolic(symbolic as SymbolicTensor[]);
    }
    if (list) {
      const inputs = list.map((t) => asVariable(t as Variable | Tensor));
      if (!this.built) this.build([null, ...inputs[0].shape.slice(1)]);
      return this.callList(inputs, { training: options.training ?? this.training, mask: options.mask ?? null });
    }
    const input = asVariable(x as Variable | Tensor);
    if (!this.built) this.build([null, ...input.shape.slice(1)]);
    if (options.mask && !this.supportsMasking) {
      throw new Error(`${this.name} (${this.className}): received a mask but this layer does not support masking`);
    }
    return this.call(input, { training: options.training ?? this.training, mask: options.mask ?? null });
  }

  /** The functional API's call: build for the input's shape, and return the output's shape as a symbolic tensor. */
  private applySymbolic(inputs: SymbolicTensor[]): SymbolicTensor {
    const shapes = inputs.map((t) => t.shape);
    if (this.takesList) {
      const shape = this.computeOutputShapeList(shapes); // checks the shapes agree before anything is built
      if (!this.built) this.build(shapes[0]);
      return new SymbolicTensor(shape, this, inputs);
    }
    const [shape] = shapes;
    if (this.built && this.builtInputShape && !shapesCompatible(this.builtInputShape, shape)) {
      throw layerError(this, `was built for inputs ${formatSymbolicShape(this.builtInputShape)} and cannot take ${formatSymbolicShape(shape)} (a shared layer takes one shape)`);
    }
    if (!this.built) this.build(shape);
    return new SymbolicTensor(this.computeOutputShape(shape), this, inputs);
  }

  /** Constructor arguments that rebuild this layer (save/load writes them as JSON). */
  getConfig(): Record<string, unknown> {
    return { name: this.name, ...(this.batchInputShape ? { inputShape: this.batchInputShape.slice(1) } : {}) };
  }

  override describe(): string { return `${this.className}(${this.name})`; }
}

/** Throw an error that names the layer and shows the shape it got and what it expected. */
export function layerError(layer: Layer, message: string): Error {
  return new Error(`${layer.name} (${layer.className}): ${message}`);
}

/** Whether two symbolic shapes can be the same shape (null matches any size). */
export function shapesCompatible(a: SymbolicShape, b: SymbolicShape): boolean {
  return a.length === b.length && a.every((d, i) => d === null || b[i] === null || d === b[i]);
}

/** `[null,28,28,1]` → `(None, 28, 28, 1)`: how Keras prints shapes in summary(). */
export function formatSymbolicShape(shape: SymbolicShape): string {
  const parts = shape.map((d) => (d === null ? 'None' : String(d)));
  return `(${parts.join(', ')}${parts.length === 1 ? ',' : ''})`;
}

/**
 * Refuse an option `layer` does not know, naming it and the known ones: a typo such as 'activaton'
 * would otherwise be ignored, and the layer built with its default. `known`: the class's own options
 * (and its positional arguments, which its saved config repeats).
 */
export function checkLayerArgs(layer: Layer, args: object, known: readonly string[]): void {
  const all = ['name', 'inputShape', ...known];
  const unknown = Object.keys(args).filter((key) => !all.includes(key) && (args as Record<string, unknown>)[key] !== undefined);
  if (unknown.length > 0) {
    throw layerError(layer, `unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} (known: ${all.join(', ')})`);
  }
}
