/**
 * The functional API's own layers: InputLayer (where a model's input enters; `Input({ shape })` makes
 * its symbolic tensor) and the merge layers, which take a list of inputs:
 *
 *   Add          the inputs summed elementwise (a residual connection: x + f(x)); all of one shape
 *   Concatenate  the inputs side by side along `axis` (default −1, the features); the other axes agree
 *
 * Masks: a merge layer passes a mask on when all its inputs carry the same one (two branches of one
 * masked sequence), and none otherwise.
 */
import { Variable, F } from '@gradlab/autograd';
import type { Tensor } from '@gradlab/tensor';
import { Layer, checkLayerArgs, formatSymbolicShape, layerError, shapesCompatible } from '../layer.js';
import type { CallOptions, LayerArgs, SymbolicShape } from '../layer.js';
import { SymbolicTensor } from '../symbolic.js';
import { registerLayer } from './registry.js';

export interface InputArgs {
  /** The shape of one example, without the batch axis (null for a variable size, such as time). */
  shape: ReadonlyArray<number | null>;
  name?: string;
}

/** Where a functional model's input enters: the identity, holding the input's shape. */
export class InputLayer extends Layer {
  /** The name saved files record (a minifier renames the class itself). */
  static readonly className = 'InputLayer';
  readonly batchShape: SymbolicShape;
  constructor(args: { batchShape: SymbolicShape; name?: string }) {
    super({ name: args.name });
    const shape = args.batchShape;
    if (!Array.isArray(shape) || shape.length < 2 || shape[0] !== null || !shape.slice(1).every((d) => d === null || (Number.isInteger(d) && (d as number) > 0))) {
      throw layerError(this, `shape must list positive integers (or null) for each axis of one example, got ${JSON.stringify(shape?.slice?.(1) ?? shape)}`);
    }
    this.batchShape = shape;
    this.supportsMasking = true;
    this.build(shape);
  }
  call(x: Variable): Variable { return x; }
  override getConfig(): Record<string, unknown> { return { name: this.name, batchShape: this.batchShape }; }
}

/** Keras's keras.Input / TF.js's tf.input: the symbolic tensor a functional model starts from. */
export function Input(args: InputArgs): SymbolicTensor {
  if (typeof args !== 'object' || args === null || !Array.isArray(args.shape)) {
    throw new Error(`Input: expected { shape: [...] } (the shape of one example, without the batch axis), got ${JSON.stringify(args)}`);
  }
  const unknown = Object.keys(args).filter((k) => k !== 'shape' && k !== 'name');
  if (unknown.length) throw new Error(`Input: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} (known: shape, name)`);
  const layer = new InputLayer({ batchShape: [null, ...args.shape], name: args.name ?? undefined });
  return new SymbolicTensor(layer.batchShape, layer, []);
}

/** What the merge layers share: a list of at least two inputs, and the mask rule above. */
abstract class Merge extends Layer {
  override readonly takesList = true;
  constructor(args: LayerArgs, known: readonly string[] = []) {
    super(args);
    checkLayerArgs(this, args, known);
    this.supportsMasking = true;
  }

  protected abstract merge(xs: Variable[]): Variable;
  protected abstract mergedShape(shapes: SymbolicShape[]): SymbolicShape;

  override computeOutputShapeList(shapes: SymbolicShape[]): SymbolicShape {
    if (shapes.length < 2) throw layerError(this, `needs at least 2 inputs, got ${shapes.length}`);
    return this.mergedShape(shapes);
  }

  override callList(xs: Variable[], options: CallOptions): Variable {
    void options;
    this.computeOutputShapeList(xs.map((x) => x.shape)); // the same checks as when the model was made
    return this.merge(xs);
  }

  call(x: Variable): Variable { void x; throw layerError(this, 'takes a list of inputs (e.g. [a, b])'); }

  /** The mask every input carries when they all carry the same one, else none. */
  static mergedMask(masks: ReadonlyArray<Tensor | null>): Tensor | null {
    return masks.every((m) => m !== null && m === masks[0]) ? masks[0] : null;
  }

  protected describeShapes(shapes: SymbolicShape[]): string { return shapes.map(formatSymbolicShape).join(', '); }
}

/** Add: the inputs summed elementwise; every input has the same shape. */
export class Add extends Merge {
  /** The name saved files record (a minifier renames the class itself). */
  static readonly className = 'Add';
  constructor(args: LayerArgs = {}) { super(args); }
  protected mergedShape(shapes: SymbolicShape[]): SymbolicShape {
    if (!shapes.every((s) => shapesCompatible(s, shapes[0]))) throw layerError(this, `inputs must all have one shape, got ${this.describeShapes(shapes)}`);
    return shapes[0].map((d, i) => d ?? shapes.find((s) => s[i] !== null)?.[i] ?? null);
  }
  protected merge(xs: Variable[]): Variable { return xs.slice(1).reduce((sum, x) => sum.add(x), xs[0]); }
}

export interface ConcatenateArgs extends LayerArgs {
  /** The axis to join along (negative counts from the end; default −1, the features). Not the batch axis. */
  axis?: number;
}

/** Concatenate: the inputs side by side along `axis`; the other axes agree. */
export class Concatenate extends Merge {
  /** The name saved files record (a minifier renames the class itself). */
  static readonly className = 'Concatenate';
  readonly axis: number;
  constructor(args: ConcatenateArgs = {}) {
    super(args, ['axis']);
    this.axis = args.axis ?? -1;
    if (!Number.isInteger(this.axis)) throw layerError(this, `axis must be an integer, got ${this.axis}`);
  }
  private resolvedAxis(rank: number): number {
    const axis = this.axis < 0 ? rank + this.axis : this.axis;
    if (axis < 1 || axis >= rank) throw layerError(this, `axis ${this.axis} is outside axes 1…${rank - 1} of inputs of rank ${rank} (axis 0 is the batch)`);
    return axis;
  }
  protected mergedShape(shapes: SymbolicShape[]): SymbolicShape {
    const rank = shapes[0].length;
    const axis = this.resolvedAxis(rank);
    const agree = shapes.every((s) => s.length === rank && s.every((d, i) => i === axis || d === null || shapes[0][i] === null || d === shapes[0][i]));
    if (!agree) throw layerError(this, `inputs must agree on every axis but ${this.axis}, got ${this.describeShapes(shapes)}`);
    const joined = shapes.some((s) => s[axis] === null) ? null : shapes.reduce((n, s) => n + (s[axis] as number), 0);
    return shapes[0].map((d, i) => (i === axis ? joined : d));
  }
  protected merge(xs: Variable[]): Variable { return F.concat(xs, this.resolvedAxis(xs[0].rank)); }
  override getConfig(): Record<string, unknown> { return { ...super.getConfig(), axis: this.axis }; }
}

export { Merge };

registerLayer('InputLayer', (c) => new InputLayer(c as { batchShape: SymbolicShape; name?: string }));
registerLayer('Add', (c) => new Add(c as LayerArgs));
registerLayer('Concatenate', (c) => new Concatenate(c as ConcatenateArgs));
