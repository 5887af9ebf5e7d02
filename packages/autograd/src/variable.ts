/**
 * Variable: a Tensor plus what autograd needs to differentiate through it. Leaves are made by the
 * user (parameters, inputs); every op on Variables returns a new Variable whose `gradFn` records how
 * it was made. The methods mirror Tensor's and are all differentiable (ops/*.ts).
 */
import { Tensor, formatShape } from '@gradlab/tensor';
import type { DType } from '@gradlab/tensor';
import { backward as runBackward, setVariableFactory } from './engine.js';
import type { BackwardOptions, Node } from './engine.js';

export interface VariableOptions {
  requiresGrad?: boolean;
  /** Shown by toDot and in error messages (parameters get their layer's name). */
  name?: string;
}

export class Variable {
  /** The values. Writable so that optimizers and loadStateDict can replace a parameter's tensor. */
  data: Tensor;
  /** ∂L/∂this after backward (leaves, and non-leaves that called retainGrad()). */
  grad: Tensor | null = null;
  /** The op that produced this Variable; null for a leaf. */
  readonly gradFn: Node | null;
  readonly requiresGrad: boolean;
  name?: string;
  /** @internal set by retainGrad() */
  retainsGrad = false;

  constructor(data: Tensor, options: VariableOptions = {}, gradFn: Node | null = null) {
    if (!(data instanceof Tensor)) throw new Error('Variable: expected a Tensor');
    this.data = data;
    this.gradFn = gradFn;
    this.requiresGrad = gradFn !== null || (options.requiresGrad ?? false);
    if (options.requiresGrad && data.dtype === 'int32') {
      throw new Error(`Variable: an int32 tensor ${formatShape(data.shape)} cannot require grad (gradients need floats)`);
    }
    this.name = options.name;
  }

  get shape(): readonly number[] { return this.data.shape; }
  get dtype(): DType { return this.data.dtype; }
  get rank(): number { return this.data.rank; }
  get size(): number { return this.data.size; }
  get isLeaf(): boolean { return this.gradFn === null; }

  /** Back-propagate from this Variable; see engine.ts. */
  backward(gradient?: Tensor, options?: BackwardOptions): void { runBackward(this, gradient, options); }

  /** Keep `.grad` on this interior Variable too (by default only leaves keep theirs). */
  retainGrad(): this { this.retainsGrad = true; return this; }

  /** The same values, cut off from the graph: gradients do not flow through it. */
  detach(): Variable { return new Variable(this.data); }

  /** Forget the accumulated gradient. */
  zeroGrad(): void { this.grad = null; }

  item(): number { return this.data.item(); }
  toArray(): unknown { return this.data.toArray(); }

  toString(): string {
    return `Variable(${formatShape(this.shape)}, ${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''}` +
      `${this.gradFn ? `, gradFn=${this.gradFn.op}` : ''})`;
  }
}

setVariableFactory((data, gradFn, requiresGrad) => new Variable(data, { requiresGrad }, gradFn));

/** Wrap a Tensor (or pass a Variable through): how ops accept either. */
export function asVariable(x: Variable | Tensor): Variable {
  return x instanceof Variable ? x : new Variable(x);
}
