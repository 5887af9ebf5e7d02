/**
 * The steps a model runs (train, evaluate, predict) recycle the memory they allocated when they end
 * (@gradlab/tensor's recycling.ts says why: fresh pages cost more than the arithmetic). This file says
 * what outlives a step: the model's state, the optimizer's state, and the step's own results.
 */
import type { Variable } from '@gradlab/autograd';
import { recycleAfter } from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import type { Module } from '../module.js';
import type { Optimizer } from '../optimizers/index.js';

/** The tensors that live from step to step: weights, their gradients (callbacks may read them), buffers such as BatchNorm's moving statistics, and the optimizer's slots. */
export function* persistentTensors(model: Module, optimizer: Optimizer | null): Iterable<Tensor | null> {
  for (const p of model.parameters()) { yield p.data; yield p.grad; }
  for (const [, buffer] of model.namedBuffers()) yield buffer;
  if (optimizer) for (const p of optimizer.params) { yield p.data; yield p.grad; }
  if (optimizer) for (const { value } of optimizer.state().slots) yield value;
}

/**
 * Run one synchronous step of `model`, then recycle what it allocated except the persistent tensors
 * and those `results` lists (the step's outputs). `what` names the step in errors.
 */
export function recycledStep<T>(model: Module & { name: string }, what: string, optimizer: Optimizer | null,
  step: () => T, results: (result: T) => Iterable<Tensor | Variable | null>): T {
  return recycleAfter(`${model.name}'s ${what}`, step, function* (result) {
    yield* persistentTensors(model, optimizer);
    for (const r of results(result)) yield r === null ? null : 'storage' in r ? r : r.data;
  });
}
