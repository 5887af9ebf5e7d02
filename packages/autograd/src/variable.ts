/**
 * Variable: a Tensor plus what autograd needs to differentiate through it. Leaves are made by the
 * user (parameters, inputs); every op on Variables returns a new Variable whose `gradFn` records how
 * it was made. The methods mirror Tensor's and are all differentiable (ops/*.ts).
 */
import { Tensor, formatShape, tensor } from '@gradlab/tensor';
import type { DType, NestedArray, SliceSpec, TypedArray } from '@gradlab/tensor';
import { backward as runBackward, setVariableFactory } from './engine.js';
import type { BackwardOptions, Node } from './engine.js';
// The ops import this file too (a cycle): that is safe because neither side uses the other until an
// op is called, long after both modules have loaded.
import * as F from './ops/index.js';
import type { Axes, Operand } from './ops/index.js';

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
  /** Which of its op's outputs this is (0 but for ops with several outputs). */
  readonly outputIndex: number;

  constructor(data: Tensor, options: VariableOptions = {}, gradFn: Node | null = null, outputIndex = 0) {
    if (!(data instanceof Tensor)) throw new Error('Variable: expected a Tensor');
    this.data = data;
    this.gradFn = gradFn;
    this.outputIndex = outputIndex;
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

  // ---- differentiable ops (ops/*.ts): the same names and arguments as Tensor's methods ----------
  add(b: Operand): Variable { return F.add(this, b); }
  sub(b: Operand): Variable { return F.sub(this, b); }
  mul(b: Operand): Variable { return F.mul(this, b); }
  div(b: Operand): Variable { return F.div(this, b); }
  pow(b: Operand): Variable { return F.pow(this, b); }
  maximum(b: Operand): Variable { return F.maximum(this, b); }
  minimum(b: Operand): Variable { return F.minimum(this, b); }
  neg(): Variable { return F.neg(this); }
  exp(): Variable { return F.exp(this); }
  log(): Variable { return F.log(this); }
  sqrt(): Variable { return F.sqrt(this); }
  abs(): Variable { return F.abs(this); }
  tanh(): Variable { return F.tanh(this); }
  sigmoid(): Variable { return F.sigmoid(this); }
  relu(): Variable { return F.relu(this); }
  square(): Variable { return F.square(this); }
  softplus(): Variable { return F.softplus(this); }
  clip(min: number, max: number): Variable { return F.clip(this, min, max); }

  sum(axes?: Axes, keepDims = false): Variable { return F.sum(this, axes, keepDims); }
  mean(axes?: Axes, keepDims = false): Variable { return F.mean(this, axes, keepDims); }
  max(axes?: Axes, keepDims = false): Variable { return F.max(this, axes, keepDims); }
  min(axes?: Axes, keepDims = false): Variable { return F.min(this, axes, keepDims); }
  /** Variance dividing by N − correction (0: the biased/population variance, as BatchNorm uses). */
  variance(axes?: Axes, keepDims = false, correction = 0): Variable { return F.variance(this, axes, keepDims, correction); }
  logSumExp(axes?: Axes, keepDims = false): Variable { return F.logSumExp(this, axes, keepDims); }

  reshape(shape: readonly number[]): Variable { return F.reshape(this, shape); }
  flatten(): Variable { return F.flatten(this); }
  transpose(perm?: readonly number[]): Variable { return F.transpose(this, perm); }
  /** Matrix transpose of the last two axes. */
  get T(): Variable { return F.T(this); }
  slice(specs: readonly SliceSpec[]): Variable { return F.slice(this, specs); }
  squeeze(axes?: number | readonly number[]): Variable { return F.squeeze(this, axes); }
  unsqueeze(axis: number): Variable { return F.unsqueeze(this, axis); }
  broadcastTo(shape: readonly number[]): Variable { return F.broadcastTo(this, shape); }
  expand(shape: readonly number[]): Variable { return F.broadcastTo(this, shape); }
  pad(paddings: readonly (readonly [number, number])[], value = 0): Variable { return F.pad(this, paddings, value); }
  split(sizesOrCount: number | readonly number[], axis = 0): Variable[] { return F.split(this, sizesOrCount, axis); }
  gather(indices: Tensor | Variable, axis = 0): Variable { return F.gather(this, indices, axis); }

  matmul(b: Operand): Variable { return F.matmul(this, b); }
  softmax(axis = -1): Variable { return F.softmax(this, axis); }
  logSoftmax(axis = -1): Variable { return F.logSoftmax(this, axis); }

  toString(): string {
    return `Variable(${formatShape(this.shape)}, ${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''}` +
      `${this.gradFn ? `, gradFn=${this.gradFn.op}` : ''})`;
  }
}

setVariableFactory((data, gradFn, requiresGrad, outputIndex) => new Variable(data, { requiresGrad }, gradFn, outputIndex));

/**
 * A Variable from JavaScript values, as `tensor()` makes a Tensor:
 * `variable([[1, 2], [3, 4]], { requiresGrad: true, name: 'w' })`.
 */
export function variable(values: NestedArray | TypedArray | Tensor, options: VariableOptions & { dtype?: DType } = {}): Variable {
  const { dtype, ...rest } = options;
  const data = values instanceof Tensor ? (dtype ? values.astype(dtype) : values) : tensor(values, { dtype });
  return new Variable(data, rest);
}

/** Wrap a Tensor (or pass a Variable through): how ops accept either. */
export function asVariable(x: Variable | Tensor): Variable {
  return x instanceof Variable ? x : new Variable(x);
}
