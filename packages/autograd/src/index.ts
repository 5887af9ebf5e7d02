/**
 * @gradlab/autograd: reverse-mode automatic differentiation over @gradlab/tensor.
 *
 * The main API is the Variable class, whose methods mirror Tensor's (x.mul(w).add(b).relu()), plus
 * the namespace F holding the same differentiable ops as free functions (F.matmul(x, w), F.conv2d(…),
 * F.softmax(x, -1)). F is a namespace so that its names (add, matmul, softmax, …) do not collide with
 * the tensor package's free functions of the same names when `gradlab` re-exports both.
 */
export { Variable, asVariable, variable } from './variable.js';
export type { VariableOptions } from './variable.js';
export { defineOp, backward, noGrad, isGradEnabled, topologicalOrder, Context, Node } from './engine.js';
export type { OpDefinition, MultiOutputOpDefinition, BackwardOptions } from './engine.js';
export * as F from './ops/index.js';
export type { Operand } from './ops/index.js';
export { gradcheck, checkGradients } from './gradcheck.js';
export type { GradcheckOptions, GradcheckReport, GradcheckElement } from './gradcheck.js';
export { toDot } from './dot.js';
export type { DotOptions } from './dot.js';
