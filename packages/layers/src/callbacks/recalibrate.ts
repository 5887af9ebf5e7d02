/**
 * Re-estimate every BatchNormalization's moving mean and variance as the plain average of their batch
 * values over N training batches (PyTorch's momentum=None), without changing any weight.
 *
 * Why: Keras's moving averages keep 99% of their old value per step, so they need a few hundred steps
 * to forget where they started (mean 0, variance 1); 0.99^100 ≈ 0.37. A short run ends well before that,
 * and its inference-mode accuracy then says more about those stale statistics than about what the
 * network learned — the test-time-statistics weakness of BatchNorm the article lists. Setting momentum
 * k/(k+1) for the k-th batch (k = 0, 1, …) makes the update an exact running mean.
 *
 * As a callback it runs after each epoch's training batches and before its validation
 * (onEpochTrainEnd), so the validation figures are those of the recalibrated model.
 */
import { asVariable, noGrad } from '@gradlab/autograd';
import type { Callback, CallbackModel } from '../callbacks.js';
import type { Module } from '../module.js';
import type { Batch } from '../data/batching.js';

type Norm = Module & { momentum: number };

/** Every BatchNormalization under a module (inside wrappers too). */
function batchNorms(root: Module): Norm[] {
  const found: Norm[] = [];
  const visit = (m: Module): void => {
    if ((m as Module & { className?: string }).className === 'BatchNormalization') found.push(m as Norm);
    for (const [, child] of m.children()) visit(child);
  };
  visit(root);
  return found;
}

/** Run `batches` (at most `count` of them) through the model in training mode, averaging BN's statistics. */
export async function recalibrateBatchNorm(model: CallbackModel & Module, batches: AsyncIterable<Batch> | Iterable<Batch>, count: number): Promise<number> {
  if (!model.call) throw new Error('recalibrateBatchNorm: the model has no call method');
  const norms = batchNorms(model);
  if (norms.length === 0 || count === 0) return 0;
  const saved = norms.map((l) => l.momentum);
  let k = 0;
  try {
    for await (const batch of batches) {
      // momentum is readonly in the layer's type (a hyperparameter); changed here for the pass only.
      for (const l of norms) l.momentum = k / (k + 1);
      noGrad(() => model.call!(asVariable(batch.x), { training: true, mask: batch.mask ?? null }));
      if (++k >= count) break;
    }
  } finally {
    norms.forEach((l, i) => { l.momentum = saved[i]; });
  }
  return k;
}

/** The callback form: after each epoch's training, recalibrate over the first `batches` batches of `data`. */
export class BatchNormRecalibration implements Callback {
  private model?: CallbackModel & Module;

  constructor(private readonly data: AsyncIterable<Batch>, readonly batches: number) {
    if (!(Number.isInteger(batches) && batches >= 0)) throw new Error(`BatchNormRecalibration: batches must be a non-negative integer, got ${batches}`);
    if (!data || typeof (data as AsyncIterable<Batch>)[Symbol.asyncIterator] !== 'function') {
      throw new Error('BatchNormRecalibration: data must be a Dataset of batches (e.g. the training dataset)');
    }
  }

  setModel(model: CallbackModel): void { this.model = model as CallbackModel & Module; }

  async onEpochTrainEnd(): Promise<void> {
    if (!this.model) throw new Error('BatchNormRecalibration: no model (fit() calls setModel before training)');
    await recalibrateBatchNorm(this.model, this.data, this.batches);
  }
}
