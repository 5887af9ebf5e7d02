/** Activation functions by their Keras names, applied to Variables (all differentiable). */
import type { Variable } from '@gradlab/autograd';
import { lookup } from './lookup.js';

export type ActivationName = 'linear' | 'relu' | 'sigmoid' | 'tanh' | 'softmax' | 'softplus';
export type ActivationFn = (x: Variable) => Variable;

const ACTIVATIONS: Record<ActivationName, ActivationFn> = {
  linear: (x) => x,
  relu: (x) => x.relu(),
  sigmoid: (x) => x.sigmoid(),
  tanh: (x) => x.tanh(),
  /** softmax over the last axis, as Keras's default. */
  softmax: (x) => x.softmax(-1),
  softplus: (x) => x.softplus(),
};

export function getActivation(name: ActivationName | undefined | null, layer: string): ActivationFn {
  const fn = lookup(ACTIVATIONS, name ?? 'linear');
  if (!fn) throw new Error(`${layer}: unknown activation '${name}' (known: ${Object.keys(ACTIVATIONS).join(', ')})`);
  return fn;
}
