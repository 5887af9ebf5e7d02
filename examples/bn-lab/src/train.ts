/**
 * The lab's training loop, written out (it is the object of study): forward through the layers, the
 * last Dense's logits into the fused softmax cross-entropy, backward, one optimizer step. Plus what the
 * experiments measure along the way: test accuracy in inference mode or with batch statistics, and the
 * distribution of one sigmoid input.
 */
import { asVariable, losses, noGrad } from 'gradlab';
import type { Dense, Layer, Tensor, Variable, models, optimizers } from 'gradlab';
import type { Digits } from './mnist.js';
import { batchOf } from './mnist.js';

type Sequential = models.Sequential;

/** Run the layers before `stop` (default: all but the last), then the last Dense's logits if stop is the end. */
export function logits(model: Sequential, x: Tensor, training: boolean): Variable {
  const hidden = runLayers(model, x, training, model.layers.length - 1);
  return (model.layers[model.layers.length - 1] as Dense).preActivation(hidden);
}

/** The output of the first `count` layers. */
export function runLayers(model: Sequential, x: Tensor, training: boolean, count: number): Variable {
  let out = asVariable(x);
  for (const layer of model.layers.slice(0, count)) out = (layer as Layer).apply(out, { training });
  return out;
}

/** One SGD/Adam step on a batch; returns the batch's loss before the update. */
export function trainStep(model: Sequential, optimizer: optimizers.Optimizer, x: Tensor, y: Tensor): number {
  if (optimizer.params.length === 0) optimizer.params = model.parameters();
  const loss = losses.sparseCategoricalCrossentropy(logits(model, x, true), y, { fromLogits: true });
  optimizer.zeroGrad();
  loss.backward();
  optimizer.step();
  return loss.item();
}

/** How many rows of logits [N, C] pick the label (argmax; the first maximum wins, as NumPy's). */
export function countCorrect(logitsT: Tensor, labels: Tensor): number {
  const z = logitsT.dataSync(), y = labels.dataSync();
  const C = logitsT.shape[1];
  let correct = 0;
  for (let r = 0; r < logitsT.shape[0]; r++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (z[r * C + c] > z[r * C + best]) best = c;
    if (best === y[r]) correct++;
  }
  return correct;
}

/**
 * Run `fn` and then put every parameter and buffer back as it was: a forward in training mode updates
 * BatchNorm's moving averages, which an evaluation must not do.
 */
export function keepingState<T>(model: Sequential, fn: () => T): T {
  const saved = model.stateDict();
  try { return fn(); } finally { model.loadStateDict(saved); }
}

export interface EvalOptions {
  /** Inference mode (false, the default: BN uses its moving statistics) or batch statistics (true). */
  batchStatistics?: boolean;
  batchSize?: number;
  /** The rows to evaluate, in this order (default: all, in file order). Batches are cut from it. */
  rows?: Int32Array;
}

/** Accuracy on `set`. With batchStatistics each batch is normalised with its own mean and variance. */
export function accuracy(model: Sequential, set: Digits, options: EvalOptions = {}): number {
  const rows = options.rows ?? Int32Array.from({ length: set.count }, (_, i) => i);
  const size = options.batchSize ?? 1000;
  const training = options.batchStatistics ?? false;
  let correct = 0;
  let counted = 0;
  const run = (): void => noGrad(() => {
    for (let start = 0; start + (training ? 2 : 1) <= rows.length; start += size) {
      const batch = batchOf(set, rows.subarray(start, Math.min(rows.length, start + size)));
      if (training && batch.y.size < 2) break; // batch statistics need two examples
      correct += countCorrect(logits(model, batch.x, training).data, batch.y);
      counted += batch.y.size;
    }
  });
  if (training) keepingState(model, run);
  else run();
  return correct / Math.max(1, counted);
}

/**
 * The values of unit `unit` of layer `layerIndex`'s input over a probe batch, as the network computes
 * it while training (BN with the probe's batch statistics; moving averages left untouched).
 */
export function unitInput(model: Sequential, x: Tensor, layerIndex: number, unit = 0): Float64Array {
  const values = keepingState(model, () => noGrad(() => runLayers(model, x, true, layerIndex).data));
  const width = values.shape[1];
  const v = values.dataSync();
  return Float64Array.from({ length: values.shape[0] }, (_, r) => v[r * width + unit]);
}

/** The p-th percentiles (0–100) of the values, linearly interpolated between order statistics (NumPy's default). */
export function percentiles(values: ArrayLike<number>, ps: readonly number[]): number[] {
  const sorted = Float64Array.from(values).sort();
  return ps.map((p) => {
    const pos = (p / 100) * (sorted.length - 1);
    const lo = Math.floor(pos), hi = Math.ceil(pos);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
  });
}

/** Loss that counts as diverged: NaN/Infinity, or more than 100× chance level's ln 10. */
export const isDiverged = (loss: number): boolean => !Number.isFinite(loss) || loss > 100 * Math.log(10);

export interface RunOptions {
  steps: number;
  /** Call `onCheckpoint(step)` at step 0 (before training) and after every `every` steps. */
  every?: number;
  onCheckpoint?: (step: number) => void;
  /** Stop at the first diverged loss (NaN, ∞ or absurdly large); the run is marked diverged. Default true. */
  stopOnDivergence?: boolean;
}

export interface RunLog {
  /** The loss of every step taken (before that step's update). */
  losses: number[];
  /** The step at which the loss diverged, or null. */
  divergedAt: number | null;
}

/** Train for `steps` steps on the stream's batches, with checkpoints. */
export function trainFor(model: Sequential, optimizer: optimizers.Optimizer, stream: { next(): { x: Tensor; y: Tensor } }, options: RunOptions): RunLog {
  const losses: number[] = [];
  const every = options.every ?? 0;
  options.onCheckpoint?.(0);
  for (let step = 1; step <= options.steps; step++) {
    const batch = stream.next();
    const loss = trainStep(model, optimizer, batch.x, batch.y);
    losses.push(loss);
    if (isDiverged(loss) && (options.stopOnDivergence ?? true)) return { losses, divergedAt: step };
    if (every > 0 && step % every === 0) options.onCheckpoint?.(step);
  }
  return { losses, divergedAt: null };
}

/** Mean of the last `n` values (the training loss at the end of a run, smoothed). */
export function tailMean(values: readonly number[], n: number): number {
  const tail = values.slice(-n);
  return tail.reduce((s, v) => s + v, 0) / Math.max(1, tail.length);
}
