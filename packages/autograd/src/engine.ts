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

/**
 * An op with several outputs, e.g. BatchNorm's y with the batch's mean and variance: one kernel call
 * computes them together, so they come out of one node. backward receives one gradient per output,
 * null for an output nothing downstream used (the statistics, usually).
 */
export interface MultiOutputOpDefinition<A> {
  forward(ctx: Context, inputs: Tensor[], attrs: A): Tensor[];
  backward(ctx: Context, dys: (Tensor | null)[], attrs: A): (Tensor | null)[];
}

type AnyDefinition = OpDefinition<unknown> | MultiOutputOpDefinition<unknown>;

/** A recorded application of an op: the graph's interior nodes. */
export class Node {
  /** Set once backward has freed the saved tensors: a second pass must fail loudly, not silently. */
  released = false;
  constructor(
    readonly op: string,
    readonly inputs: readonly Variable[],
    readonly ctx: Context,
    readonly definition: AnyDefinition,
    readonly attrs: unknown,
    /** How many outputs the op returned; null for a one-output op (its backward takes a single dy). */
    readonly outputCount: number | null = null,
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
let makeVariable: (data: Tensor, gradFn: Node | null, requiresGrad: boolean, outputIndex: number) => Variable;
export function setVariableFactory(factory: typeof makeVariable): void { makeVariable = factory; }

/**
 * Turn an OpDefinition into a function on Variables. The forward runs on the inputs' tensors; if
 * any input requires grad (and grad is enabled) the result remembers a Node for backward. A forward
 * that returns several tensors (MultiOutputOpDefinition) gives one Variable per output, all made by
 * the same Node.
 */
export function defineOp<A = undefined>(name: string, definition: OpDefinition<A>): (inputs: Variable[], attrs: A) => Variable;
export function defineOp<A = undefined>(name: string, definition: MultiOutputOpDefinition<A>): (inputs: Variable[], attrs: A) => Variable[];
export function defineOp<A>(name: string, definition: OpDefinition<A> | MultiOutputOpDefinition<A>) {
  return (inputs: Variable[], attrs: A): Variable | Variable[] => {
    const needs = inputs.map((v) => v.requiresGrad);
    const record = gradEnabled && needs.some(Boolean);
    const ctx = new Context(needs, inputs.map((v) => v.shape));
    const output = definition.forward(ctx, inputs.map((v) => v.data), attrs);
    const outputs = Array.isArray(output) ? output : [output];
    const node = record
      ? new Node(name, inputs, ctx, definition as AnyDefinition, attrs, Array.isArray(output) ? output.length : null)
      : null;
    const variables = outputs.map((t, k) => makeVariable(t, node, record, k));
    return Array.isArray(output) ? variables : variables[0];
  };
}

export interface BackwardOptions {
  /** Keep the saved tensors so that backward can run through this graph again. */
  retainGraph?: boolean;
}

/**
 * Reverse-mode sweep from `root`. `gradient` is ∂L/∂root; it may be omitted only for a scalar root
 * (it is then 1, i.e. L = root).
 *
 * The sweep visits op nodes, each after every node that consumed its outputs, so that when a node's
 * backward runs the gradients of all of its outputs are complete (an op with several outputs gets them
 * together). Gradients wait in `pending`, one slot per output of each node, and are freed as soon as
 * the node has used them.
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
  gradient = gradient.reshape(root.shape);
  const leafGrads = new Map<Variable, Tensor>();
  const pending = new Map<Node, (Tensor | undefined)[]>();
  /** Add g to what flows into v: a leaf collects it, an op's output waits in its node's slot. */
  const accumulate = (v: Variable, g: Tensor) => {
    if (v.retainsGrad && v.gradFn !== null) v.grad = v.grad === null ? g : v.grad.add(g);
    if (v.gradFn === null) {
      const previous = leafGrads.get(v);
      leafGrads.set(v, previous === undefined ? g : previous.add(g));
      return;
    }
    let slots = pending.get(v.gradFn);
    if (!slots) pending.set(v.gradFn, (slots = []));
    const previous = slots[v.outputIndex];
    slots[v.outputIndex] = previous === undefined ? g : previous.add(g);
  };
  accumulate(root, gradient);
  const order = root.gradFn ? nodeOrder(root.gradFn) : [];
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i];
    const slots = pending.get(node);
    if (slots === undefined) continue; // nothing flowed here (e.g. the branch was cut by detach)
    pending.delete(node); // free intermediate gradients as soon as they are used
    if (node.released) {
      throw new Error(`backward: the graph through '${node.op}' was already freed by an earlier backward; ` +
        'call backward({ retainGraph: true }) the first time if you need to go through it twice');
    }
    const inputGrads = node.outputCount === null
      ? (node.definition as OpDefinition<unknown>).backward(node.ctx, slots[0]!, node.attrs)
      : (node.definition as MultiOutputOpDefinition<unknown>).backward(node.ctx,
        Array.from({ length: node.outputCount }, (_, k) => slots[k] ?? null), node.attrs);
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
      accumulate(input, g);
    });
    if (!options.retainGraph) {
      node.ctx.saved = [];
      node.released = true;
    }
  }
  for (const [leaf, g] of leafGrads) leaf.grad = leaf.grad === null ? g : leaf.grad.add(g);
}

/**
 * Everything reachable from `root` through `children`, each item after all of its children (a
 * topological order of the reversed edges), found by an iterative depth-first search: an explicit
 * stack instead of recursion, so a chain of 10,000 ops cannot overflow the call stack.
 */
function postOrder<T>(root: T, children: (item: T) => readonly T[]): T[] {
  const order: T[] = [];
  const visited = new Set<T>([root]);
  const stack: Array<[T, readonly T[], number]> = [[root, children(root), 0]]; // (item, its children, the next to visit)
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [item, kids, next] = top;
    if (next < kids.length) {
      top[2] = next + 1;
      const child = kids[next];
      if (!visited.has(child)) {
        visited.add(child);
        stack.push([child, children(child), 0]);
      }
    } else {
      stack.pop();
      order.push(item);
    }
  }
  return order;
}

/** The op nodes reachable from `root`, each after the nodes that made its inputs. */
function nodeOrder(root: Node): Node[] {
  return postOrder(root, (node) => node.inputs.flatMap((v) => (v.requiresGrad && v.gradFn !== null ? [v.gradFn] : [])));
}

/** Variables reachable from `root`, each after all of its inputs (a topological order). */
export function topologicalOrder(root: Variable): Variable[] {
  return postOrder(root, (v) => (v.gradFn?.inputs ?? []).filter((input) => input.requiresGrad));
}
