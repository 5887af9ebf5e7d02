/**
 * The reverse-mode engine. Every differentiable op records a Node: which op, which inputs, and the
 * tensors its backward needs (saved in a Context). `backward()` walks the recorded graph from the
 * output back to the leaves in reverse topological order, applying the chain rule at each node:
 *
 *     ∂L/∂input_i  +=  (∂output/∂input_i)ᵀ · ∂L/∂output          (the op's backward computes this)
 *
 * Gradients from several uses of one Variable add up ("accumulate"); leaves that require grad keep
 * theirs in `.grad`. The walk is iterative, so a chain of 10,000 ops cannot overflow the stack.
 */
import { Tensor, onesLike, formatShape, shapesEqual } from '@gradlab/tensor';
import type { Variable } from './variable.js';

/** What an op's forward leaves for its backward. */
export class Context {
  /** Tensors saved by forward (inputs or outputs it needs to compute gradients). */
  saved: Tensor[] = [];
  constructor(
    /** needsInputGrad[i]: whether input i wants a gradient (backward may skip the others). */
    readonly needsInputGrad: readonly boolean[],
    /** The inputs' shapes: what each gradient must come back as (e.g. to undo a broadcast). */
    readonly inputShapes: readonly (readonly number[])[] = [],
  ) {}
  /** Whether input i wants a gradient: `ctx.needs(1) ? dy.mul(a) : null` skips work nobody uses. */
  needs(i: number): boolean { return this.needsInputGrad[i]; }
  /** Keep tensors for backward; returns the first, so `return ctx.save(y)` reads naturally. */
  save(...tensors: Tensor[]): Tensor {
    this.saved.push(...tensors);
    return tensors[0];
  }
}

/** forward and backward of one op, side by side. `A` is the op's non-tensor arguments (axes, shapes…). */
export interface OpDefinition<A> {
  forward(ctx: Context, inputs: Tensor[], attrs: A): Tensor;
  /** One gradient per input, shaped like that input (null where none flows, e.g. integer indices). */
  backward(ctx: Context, dy: Tensor, attrs: A): (Tensor | null)[];
}

/** A recorded application of an op: the graph's interior nodes. */
export class Node {
  /** Set once backward has freed the saved tensors: a second pass must fail loudly, not silently. */
  released = false;
  constructor(
    readonly op: string,
    readonly inputs: readonly Variable[],
    readonly ctx: Context,
    readonly definition: OpDefinition<unknown>,
    readonly attrs: unknown,
  ) {}
}

let gradEnabled = true;

/** Whether ops currently record the graph (false inside noGrad). */
export function isGradEnabled(): boolean { return gradEnabled; }

/**
 * Run `fn` without recording: no graph is kept, so no memory is held for backward. Use it for
 * inference, optimizer updates and metrics.
 */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try { return fn(); } finally { gradEnabled = previous; }
}

/** The Variable class registers its constructor here (it imports this file, not the reverse). */
let makeVariable: (data: Tensor, gradFn: Node | null, requiresGrad: boolean) => Variable;
export function setVariableFactory(factory: typeof makeVariable): void { makeVariable = factory; }

/**
 * Turn an OpDefinition into a function on Variables. The forward runs on the inputs' tensors; if
 * any input requires grad (and grad is enabled) the result remembers a Node for backward.
 */
export function defineOp<A = undefined>(name: string, definition: OpDefinition<A>): (inputs: Variable[], attrs: A) => Variable {
  return (inputs: Variable[], attrs: A): Variable => {
    const needs = inputs.map((v) => v.requiresGrad);
    const record = gradEnabled && needs.some(Boolean);
    const ctx = new Context(needs, inputs.map((v) => v.shape));
    const output = definition.forward(ctx, inputs.map((v) => v.data), attrs);
    if (!record) return makeVariable(output, null, false);
    const node = new Node(name, inputs, ctx, definition as OpDefinition<unknown>, attrs);
    return makeVariable(output, node, true);
  };
}

export interface BackwardOptions {
  /** Keep the saved tensors so that backward can run through this graph again. */
  retainGraph?: boolean;
}

/**
 * Reverse-mode sweep from `root`. `gradient` is ∂L/∂root; it may be omitted only for a scalar root
 * (it is then 1, i.e. L = root).
 */
export function backward(root: Variable, gradient?: Tensor, options: BackwardOptions = {}): void {
  if (!root.requiresGrad) {
    throw new Error('backward: this Variable does not require grad (no input of the graph has requiresGrad: true)');
  }
  if (gradient === undefined) {
    if (root.data.size !== 1) {
      throw new Error(`backward: output of shape ${formatShape(root.shape)} is not a scalar; ` +
        'pass the gradient of the loss with respect to it, e.g. y.backward(dy)');
    }
    gradient = onesLike(root.data);
  } else if (gradient.size !== root.data.size) {
    throw new Error(`backward: gradient of shape ${formatShape(gradient.shape)} does not match output of shape ${formatShape(root.shape)}`);
  } else if (gradient.dtype !== root.dtype) {
    gradient = gradient.astype(root.dtype);
  }
  const order = topologicalOrder(root);
  const grads = new Map<Variable, Tensor>([[root, gradient.reshape(root.shape)]]);
  for (let i = order.length - 1; i >= 0; i--) {
    const v = order[i];
    const dy = grads.get(v);
    if (dy === undefined) continue; // nothing flowed here (e.g. the branch was cut by detach)
    grads.delete(v); // free intermediate gradients as soon as they are used
    const node = v.gradFn;
    if (node === null) {
      v.grad = v.grad === null ? dy : v.grad.add(dy);
      continue;
    }
    if (v.retainsGrad) v.grad = v.grad === null ? dy : v.grad.add(dy);
    if (node.released) {
      throw new Error(`backward: the graph through '${node.op}' was already freed by an earlier backward; ` +
        'call backward({ retainGraph: true }) the first time if you need to go through it twice');
    }
    const inputGrads = node.definition.backward(node.ctx, dy, node.attrs);
    node.inputs.forEach((input, k) => {
      let g = inputGrads[k];
      if (!input.requiresGrad || g === null || g === undefined) return;
      // A gradient is exactly its input's shape (a wrong one is a bug in the op: say which) ...
      if (!shapesEqual(g.shape, input.shape)) {
        throw new Error(`backward: op '${node.op}' returned a gradient of shape ${formatShape(g.shape)} ` +
          `for input ${k} of shape ${formatShape(input.shape)}`);
      }
      // ... and its dtype: a float64 constant mixed into a float32 graph must not turn the
      // float32 parameters' gradients into float64.
      if (g.dtype !== input.dtype) g = g.astype(input.dtype);
      const previous = grads.get(input);
      grads.set(input, previous === undefined ? g : previous.add(g));
    });
    if (!options.retainGraph) {
      node.ctx.saved = [];
      node.released = true;
    }
  }
}

/**
 * Variables reachable from `root`, each after all of its inputs (a topological order), found by an
 * iterative depth-first search: an explicit stack instead of recursion.
 */
export function topologicalOrder(root: Variable): Variable[] {
  const order: Variable[] = [];
  const visited = new Set<Variable>();
  const stack: Array<[Variable, number]> = [[root, 0]]; // (variable, index of the next input to visit)
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [v, next] = top;
    const inputs = v.gradFn?.inputs ?? [];
    if (next < inputs.length) {
      top[1] = next + 1;
      const child = inputs[next];
      if (child.requiresGrad && !visited.has(child)) {
        visited.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(v);
    }
  }
  return order;
}
