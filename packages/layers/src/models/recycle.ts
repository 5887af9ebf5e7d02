/**
 * The steps a model runs (train, evaluate, predict) recycle the memory they allocated when they end
 * (@gradlab/tensor's recycling.ts says why: fresh pages cost more than the arithmetic). This file says
 * what outlives a step: the model's state, the optimizer's state, and the step's own results.
 */
import type { Variable } from '@gradlab/autograd';
import { bufferRecycling, recycleAfter } from '@gradlab/tensor';
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

/** Why a gradient from an earlier step reads as disposed (the error says it). */
const REPLACED_GRADIENT = 'a gradient lives until the next training step replaces it; copy its values with toTypedArray() to keep them longer';

/**
 * Give back the gradients the last training step left on the optimizer's parameters, at the start of
 * the step whose backward replaces them. Kept through the step after the one that made them (a callback
 * may read `p.grad` in onBatchEnd), then freed: without this every step's gradients are fresh memory,
 * and for the image model's [12544, 128] Dense kernel that was ~1,570 page faults, ~18 ms a step on the
 * development machine (issue 13). A gradient whose array is also a weight's, a buffer's or an optimizer
 * slot's is left alone. Reading a freed gradient afterwards throws, saying why.
 */
export function releaseGradients(model: Module, optimizer: Optimizer): void {
  if (!bufferRecycling()) return;
  const grads = new Set<Tensor>();
  for (const p of optimizer.params) if (p.grad && cpuBuffer(p.grad) !== null) grads.add(p.grad);
  if (grads.size === 0) return;
  const others = new Set<unknown>();
  for (const t of persistentTensors(model, optimizer)) if (t && !grads.has(t)) others.add(cpuBuffer(t));
  for (const g of grads) if (!others.has(cpuBuffer(g))) g.storage.dispose(REPLACED_GRADIENT);
}

/** The ArrayBuffer behind a CPU tensor's values; null on a device (whose memory recycling leaves to the GC). */
function cpuBuffer(t: Tensor): unknown {
  const storage = t.storage as { unsafeArray?: () => { buffer: unknown } };
  return storage.unsafeArray ? storage.unsafeArray().buffer : null;
}

/** Why a weight from before an optimizer step reads as disposed (the error says it). */
const REPLACED_WEIGHT = 'the optimizer replaced this weight in a training step; a weight taken from stateDict() or read with dataSync() keeps its values, a tensor taken from a layer directly does not: copy it with toTypedArray() or clone() to keep it';

/**
 * Give back the weights the optimizer step just replaced: without this every step's new weights are
 * fresh memory, and the image model's [12544, 128] Dense kernel cost ~1,570 page faults (~18 ms) a step
 * (issue 13). Skipped for a weight handed to user code (pinned: stateDict(), dataSync()), and for one
 * whose array is still another persistent tensor's. `before` is each parameter's tensor before the step.
 */
export function releaseReplacedWeights(model: Module, optimizer: Optimizer, before: Tensor[]): void {
  if (!bufferRecycling()) return;
  const live = new Set<unknown>();
  for (const t of persistentTensors(model, optimizer)) if (t) live.add(cpuBuffer(t));
  optimizer.params.forEach((p, i) => {
    const old = before[i];
    if (old === p.data || cpuBuffer(old) === null || live.has(cpuBuffer(old))) return;
    old.storage.dispose(REPLACED_WEIGHT);
  });
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
