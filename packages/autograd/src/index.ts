/** @gradlab/autograd: reverse-mode automatic differentiation over @gradlab/tensor. */
export { Variable, asVariable } from './variable.js';
export type { VariableOptions } from './variable.js';
export { defineOp, backward, noGrad, isGradEnabled, topologicalOrder, Context, Node } from './engine.js';
export type { OpDefinition, BackwardOptions } from './engine.js';
