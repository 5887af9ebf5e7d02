/**
 * One batch of Model's training or evaluation (model.ts): the forward pass and its loss (weighted by the
 * examples' weights when given), the metrics' counts, and the numbers read back from the device. fit's
 * training step is here (trainStep); evaluate runs the same lossAndOutput and resultTensors in
 * inference mode (model-loop.ts), so train and evaluate agree on the same batch.
 */
import { asVariable } from '@gradlab/autograd';
import type { Variable } from '@gradlab/autograd';
import type { Tensor } from '@gradlab/tensor';
import { layerError } from '../layer.js';
import type { Layer } from '../layer.js';
import type { Loss } from '../losses.js';
import type { MetricCount, WeightedCount } from '../metrics.js';
import type { ModelBatch, Ordered } from './fit-data.js';
import type { Model } from './model.js';
import type { ModelInternals } from './model-internals.js';
import { metricLogNames } from './outputs.js';
import { recycledStep, releaseGradients, releaseReplacedWeights } from './recycle.js';
import { Totals } from './totals.js';
import type { BatchResult } from './totals.js';

/** A batch's forward pass: the loss, each output's loss (several outputs only), and what the metrics look at. */
export interface Forward { loss: Variable; parts: Variable[]; preds: Tensor[]; fromLogits: boolean[] }

/** One batch's results as tensors, before they are read back. */
export interface ResultTensors { loss: Variable; parts: Variable[]; counts: Array<MetricCount | WeightedCount> }

/**
 * Forward for training or evaluation: the loss (each output's weighted by its `weights` when given:
 * Σ wᵢ·lossᵢ / n, Keras's sum over batch size), and what the metrics should look at.
 */
export function lossAndOutput(m: ModelInternals, batch: ModelBatch, weights: Array<Tensor | null> | null, training: boolean): Forward {
  const { model } = m;
  const x = Array.isArray(batch.x) ? batch.x.map((t) => asVariable(t)) : asVariable(batch.x);
  const options = { training, mask: batch.mask ?? null };
  if (!model.heads) {
    const { pred, loss } = m.forwardForLoss(x, options);
    return { loss: weightedLoss(model, loss, pred, batch.y as Tensor, weights?.[0] ?? null), parts: [], preds: [pred.data], fromLogits: [loss.fromLogits] };
  }
  // Several outputs: Keras's total, Σ weightᵢ · lossᵢ, each lossᵢ weighted by that output's sampleWeight.
  const heads = model.heads;
  const ys = batch.y as Tensor[];
  const outs = m.forwardForLosses(x, options, heads.map((h) => h.loss));
  const parts = outs.map(({ pred, loss }, i) => weightedLoss(model, loss, pred, ys[i], weights?.[i] ?? null));
  const total = parts.map((p, i) => p.mul(heads[i].weight)).reduce((sum, term) => sum.add(term));
  return { loss: total, parts, preds: outs.map((o) => o.pred.data), fromLogits: outs.map((o) => o.loss.fromLogits) };
}

/**
 * One output's loss, weighted by example when `weights` are given: each example's loss (the mean over
 * its other axes) times its weight, summed and divided by the batch's rows (Keras's sum over batch size).
 */
function weightedLoss(model: Layer, loss: Loss, pred: Variable, y: Tensor, weights: Tensor | null): Variable {
  if (weights === null) return loss.call(pred, y);
  if (!loss.unreduced) throw layerError(model, 'sampleWeight and classWeight need a named loss (a loss function given to compile cannot be weighted)');
  const losses = loss.unreduced(pred, y);
  const rows = losses.shape[0];
  const perExample = losses.rank === 1 ? losses : losses.reshape([rows, losses.size / rows]).mean(-1);
  return perExample.mul(weights.astype(perExample.dtype)).sum().div(rows);
}

/** Totals logged under Keras's names: 'loss' and each metric, or with several outputs also '<output>_loss' and '<output>_<metric>' (metricLogNames). */
export function newTotals(model: Model): Totals {
  if (!model.heads) return new Totals([], metricLogNames([{ prefix: '', metrics: model.metrics, weightedMetrics: model.weightedMetrics }]));
  return new Totals(model.heads.map((h) => `${h.name}_loss`), metricLogNames(model.heads.map((h) => ({ prefix: `${h.name}_`, ...h }))));
}

/**
 * A batch's loss, each output's loss and each metric's counts, as tensors (computed where the
 * predictions are): the plain metrics, then the weighted ones by each output's example weights (the
 * order of newTotals' names).
 */
export function resultTensors(model: Model, forward: Forward, y: Ordered, weights: Array<Tensor | null> | null): ResultTensors {
  const ys = Array.isArray(y) ? y : [y];
  const { preds, fromLogits } = forward;
  const heads = model.heads ?? [{ metrics: model.metrics, weightedMetrics: model.weightedMetrics }];
  const counts: Array<MetricCount | WeightedCount> = [
    ...heads.flatMap((h, i) => h.metrics.map((m) => m.compute(ys[i], preds[i], fromLogits[i]))),
    ...heads.flatMap((h, i) => h.weightedMetrics.map((m) => m.computeWeighted(ys[i], preds[i], fromLogits[i], weights?.[i] ?? null))),
  ];
  return { loss: forward.loss, parts: forward.parts, counts };
}

/** The tensors of a batch's results, kept past the step's recycling. */
export function* resultTensorList(r: ResultTensors): Iterable<Variable | Tensor> {
  yield r.loss; yield* r.parts;
  for (const c of r.counts) { yield c.correct; if (typeof c.count !== 'number') yield c.count; }
}

/** A batch's results read back (awaited: they may be pending on a device). */
export async function readResult(r: ResultTensors): Promise<BatchResult> {
  const value = async (v: Variable): Promise<number> => (await v.data.data())[0];
  return {
    loss: await value(r.loss),
    parts: await Promise.all(r.parts.map(value)),
    counts: await Promise.all(r.counts.map(async (c) => ({
      correct: (await c.correct.data())[0], count: typeof c.count === 'number' ? c.count : (await c.count.data())[0],
    }))),
  };
}

/**
 * One optimizer step on one batch: zeroGrad, forward, backward, step. Resolves to the loss and metric
 * counts. The values are read with `await …data()`, never `item()`: on an asynchronous device (GPU.js's
 * async contract) the ops above return at once and the loss is still being computed here. The memory
 * the step allocated is recycled when its synchronous part ends (recycle.ts).
 */
export async function trainStep(m: ModelInternals, batch: ModelBatch, weights: Array<Tensor | null> | null): Promise<BatchResult> {
  const { optimizer } = m.requireCompiled();
  const result = recycledStep(m.model, 'training step', optimizer, () => {
    releaseGradients(m.model, optimizer);
    const forward = lossAndOutput(m, batch, weights, true);
    optimizer.zeroGrad();
    forward.loss.backward();
    const weightsBefore = optimizer.params.map((p) => p.data);
    optimizer.step();
    releaseReplacedWeights(m.model, optimizer, weightsBefore);
    return resultTensors(m.model, forward, batch.y!, weights);
  }, resultTensorList);
  return readResult(result);
}
