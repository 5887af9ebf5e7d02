/**
 * Model's loops over batches (model.ts): fit's epochs (trainLoop), with the callbacks called at Keras's
 * points and validation after each epoch, and evaluate's pass over batches (evaluateBatches), which
 * fit's validation uses too. One batch's work is model-step.ts's; a dataset's batches are checked as
 * they come (model-checks.ts).
 */
import { noGrad } from '@gradlab/autograd';
import { layerError } from '../layer.js';
import { History, TerminateOnNaN } from '../callbacks.js';
import type { Callback } from '../callbacks.js';
import { examplesOf, limited } from './fit-data.js';
import type { EpochSource, GivenBatch, ModelBatch } from './fit-data.js';
import { batchWeights } from './fit-inputs.js';
import { checkBatch } from './model-checks.js';
import type { ModelInternals } from './model-internals.js';
import type { FitOptions } from './model-options.js';
import { lossAndOutput, newTotals, readResult, resultTensorList, resultTensors, trainStep } from './model-step.js';
import { ProgressLogger } from './progress.js';
import { recycledStep } from './recycle.js';
import type { Totals } from './totals.js';

/** The one training loop: epochs of batches, callbacks at Keras's points, validation after each epoch. */
export async function trainLoop(
  m: ModelInternals, train: EpochSource, validation: (() => AsyncIterable<GivenBatch> | Iterable<GivenBatch>) | null,
  options: FitOptions & { epochs: number; initialEpoch: number; callbacks: Callback[]; checkEach: boolean },
): Promise<History> {
  const { model } = m;
  const { epochs, callbacks } = options;
  const stopsOnNaN = callbacks.some((cb) => cb instanceof TerminateOnNaN);
  let warnedNaN = false;
  const progress = new ProgressLogger(options.verbose ?? 'auto', epochs, train.steps, options.output);
  const history = new History();
  history.params = { epochs, steps: train.steps, verbose: options.verbose ?? 'auto' };
  model.stopTraining = false;
  model.resumeEpoch = undefined;
  m.requireCompiled(); // a model built by the data's checks hands its weights to the optimizer now
  for (const cb of callbacks) cb.setModel?.(model);
  for (const cb of callbacks) await cb.onTrainBegin?.({});
  // BackupAndRestore may have put back an interrupted run's weights and set the epoch to go on from.
  const first = Math.max(options.initialEpoch, model.resumeEpoch ?? 0);
  for (let epoch = first; epoch < epochs && !model.stopTraining; epoch++) {
    for (const cb of callbacks) await cb.onEpochBegin?.(epoch, {});
    progress.epochBegin(epoch);
    const totals = newTotals(model);
    const batches = train.batches();
    let b = 0; // batches done this epoch
    for (;;) {
      const r = await batches.next();
      if (r.done) break;
      // Tensors were checked and ordered where they entered; a dataset's batch is, as it comes.
      const batch = options.checkEach ? checkBatch(m, `fit (batch ${b})`, r.value, true) : r.value as ModelBatch;
      const size = examplesOf(batch.x);
      for (const cb of callbacks) await cb.onBatchBegin?.(b, { size });
      const weights = batchWeights(`fit (batch ${b})`, batch, options.classWeight);
      const result = await trainStep(m, batch, weights);
      const { loss } = result;
      totals.add(result, size);
      const logs = totals.logs();
      progress.batchEnd(b + 1, logs);
      if (!Number.isFinite(loss) && !warnedNaN && !stopsOnNaN) {
        warnedNaN = true;
        console.warn(`${model.name} (${model.className}): fit: the loss is ${loss} at epoch ${epoch + 1}, batch ${b + 1}, so the weights are ` +
          'no longer numbers; training goes on, as in Keras. Lower the learning rate or look for NaN in the data; ' +
          'callbacks: [new callbacks.TerminateOnNaN()] stops at the first such batch');
      }
      for (const cb of callbacks) await cb.onBatchEnd?.(b, logs);
      b++;
      if (model.stopTraining) {
        await batches.return?.(); // close the dataset's generators (prefetch, shuffle) before leaving them
        break; // as Keras: a callback may stop mid-epoch (TerminateOnNaN); the epoch still ends
      }
    }
    if (b === 0 && !train.ranOut) throw layerError(model, `fit: epoch ${epoch + 1} has no batches (an empty dataset?)`);
    if (train.steps === null) progress.setSteps(b); // learnt from the first pass over a dataset of unknown size
    if (train.ranOut) {
      console.warn(`${model.name} (${model.className}): fit: the dataset ran out of batches in epoch ${epoch + 1} after ${b} of ${train.steps} steps; ` +
        'training stops. Add .repeat() to the dataset, or lower stepsPerEpoch');
      model.stopTraining = true;
      if (b === 0) break;
    }
    const logs = totals.logs();
    for (const cb of callbacks) await cb.onEpochTrainEnd?.(epoch, logs);
    if (validation) Object.assign(logs, (await evaluateBatches(m, 'fit (validation', validation(), options.validationSteps)).logs('val_'));
    progress.epochEnd(logs);
    for (const cb of callbacks) await cb.onEpochEnd?.(epoch, logs);
    history.record(epoch, logs); // after the callbacks, as Keras's History: it keeps what they add (learning_rate)
  }
  for (const cb of callbacks) await cb.onTrainEnd?.(history.lastLogs());
  return history;
}

/**
 * Loss and metrics over batches, in inference mode, without recording a graph. Each batch's forward
 * pass runs inside noGrad (which is synchronous); its values are awaited after it. Batches from a
 * dataset are checked as they come (op names them). A batch's sampleWeight weighs its loss exactly as
 * a training step's (lossAndOutput), so train and evaluate agree on the same batch; classWeight is for
 * training only, as Keras.
 */
export async function evaluateBatches(m: ModelInternals, op: string, batches: AsyncIterable<GivenBatch> | Iterable<GivenBatch>, steps?: number, checkEach = true): Promise<Totals> {
  const { model } = m;
  const totals = newTotals(model);
  let b = 0;
  for await (const given of limited(batches, steps)) {
    const where = op.endsWith('(validation') ? `${op} batch ${b})` : `${op} (batch ${b})`;
    const batch = checkEach ? checkBatch(m, where, given, false) : given as ModelBatch;
    const weights = batchWeights(where, batch, undefined);
    const result = recycledStep(model, 'evaluation step', null,
      () => noGrad(() => resultTensors(model, lossAndOutput(m, batch, weights, false), batch.y!, weights)), resultTensorList);
    totals.add(await readResult(result), examplesOf(batch.x));
    b++;
  }
  if (b === 0) throw layerError(model, `${op.replace(/ \($|\($/, '')}: no batches to evaluate (an empty dataset?)`);
  return totals;
}
