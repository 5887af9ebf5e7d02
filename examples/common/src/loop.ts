/**
 * The examples' training loop: Keras's fit(), written out over batches that are made on demand.
 *
 * Why not model.fit(x, y)? fit() takes whole-dataset tensors. The examples need three things that Keras
 * gets from tf.data or a keras.utils.Sequence instead:
 *  - images resized per batch (60,000 Fashion-MNIST images at 64×64×3 would take 2.9 GB at once);
 *  - sequences padded per batch, to the longest in the batch rather than the longest in the set (most
 *    of an LSTM's time goes on time steps; padding to 200 words for a 120-word batch wastes 40%);
 *  - masks passed with the features (speech), so that padding stays out of the LSTM and BatchNorm.
 *
 * So a data set here is a BatchSource, and one step is what Sequential does inside fit(), in the open:
 *
 *   forward    run the layers, each passing the next its mask; the last layer stops at its logits
 *              (softmax and sigmoid are folded into the crossentropy, the stable fused form Keras uses)
 *   loss       model.loss with fromLogits
 *   backward   optimizer.zeroGrad(); loss.backward(); optimizer.step()
 *
 * It uses the model's compile() settings (optimizer, loss, metrics), so the example code reads as the
 * article's Keras code does.
 */
import { Variable, asVariable, losses, metrics as metricsModule, noGrad, Random } from 'gradlab';
import type { Layer, Tensor, models } from 'gradlab';
import { ProgressBar } from './progress.js';
import type { EpochRecord } from './results.js';

type Sequential = models.Sequential;

export interface Batch {
  x: Tensor;
  y: Tensor;
  /** [batch, time]: 1 for real steps, 0 for padding; given to the first layer. */
  mask?: Tensor | null;
}

export interface BatchSource {
  /** Number of examples. */
  readonly size: number;
  /** The examples with these row numbers, as tensors. */
  batch(rows: Int32Array): Batch;
  /** The order of one training epoch (default: a shuffle). Sequences use bucketedOrder to pad less. */
  epochOrder?(rng: Random, batchSize: number): Int32Array;
}

/**
 * A shuffled order in which each batch holds sequences of similar length ("bucketing"): shuffle, cut
 * into pools of 50 batches, sort each pool by length, cut it into batches, then shuffle the batches.
 * Every example is still seen once an epoch and batches still differ from epoch to epoch, but a batch
 * pads to a length close to its sequences' own, not to the longest review of the set.
 */
export function bucketedOrder(lengths: ArrayLike<number>, batchSize: number, rng: Random): Int32Array {
  const order = Int32Array.from({ length: lengths.length }, (_, i) => i);
  rng.shuffle(order);
  const pool = 50 * batchSize;
  const batches: Int32Array[] = [];
  for (let start = 0; start < order.length; start += pool) {
    const chunk = order.slice(start, Math.min(order.length, start + pool)).sort((a, b) => lengths[a] - lengths[b]);
    for (let b = 0; b < chunk.length; b += batchSize) batches.push(chunk.slice(b, Math.min(chunk.length, b + batchSize)));
  }
  const picks = Int32Array.from({ length: batches.length }, (_, i) => i);
  rng.shuffle(picks);
  const out = new Int32Array(order.length);
  let at = 0;
  for (const p of picks) { out.set(batches[p], at); at += batches[p].length; }
  return out;
}

/** The last layer's function from its input to its logits, when it ends in softmax or sigmoid. */
function logitsFunction(model: Sequential): ((x: Variable) => Variable) | null {
  const last = model.layers[model.layers.length - 1] as Layer & { preActivation?: (x: Variable) => Variable; activationName?: string };
  if (typeof last.preActivation !== 'function') return null;
  return last.activationName === 'softmax' || last.activationName === 'sigmoid' ? (x) => last.preActivation!(x) : null;
}

interface StepOutput { loss: Variable; output: Tensor; fromLogits: boolean }

/** The forward pass of one batch: layers in turn with their masks, then the loss. */
export function forward(model: Sequential, batch: Batch, training: boolean): StepOutput {
  const lossSpec = model.loss;
  if (!lossSpec || lossSpec.kind === null) throw new Error(`${model.name}: compile() the model with a named loss first`);
  const toLogits = lossSpec.kind !== 'mean_squared_error' ? logitsFunction(model) : null;
  const layers = toLogits ? model.layers.slice(0, -1) : model.layers;
  let out = asVariable(batch.x);
  let mask = batch.mask ?? null;
  for (const layer of layers) {
    const input = out;
    out = layer.apply(input, { training, mask });
    mask = layer.computeMask(input, mask);
  }
  if (toLogits) {
    const logits = toLogits(out);
    return { loss: losses.lossFromName(lossSpec.kind, { fromLogits: true }).call(logits, batch.y), output: logits.data, fromLogits: true };
  }
  return { loss: lossSpec.call(out, batch.y), output: out.data, fromLogits: lossSpec.fromLogits };
}

/** Running means over an epoch, weighted by batch size. */
class Tally {
  loss = 0; correct = 0; count = 0; examples = 0;
  add(model: Sequential, batch: Batch, step: StepOutput): void {
    const n = batch.y.shape[0];
    this.loss += step.loss.item() * n;
    this.examples += n;
    const metric = model.metrics[0] ?? metricsModule.getMetric('accuracy');
    const c = metric.compute(batch.y, step.output, step.fromLogits);
    this.correct += c.correct.item();
    this.count += c.count;
  }
  get meanLoss(): number { return this.loss / Math.max(1, this.examples); }
  get accuracy(): number { return this.correct / Math.max(1, this.count); }
}

/** Rows start … end−1 of an order. */
const rowsOf = (order: Int32Array, start: number, end: number): Int32Array => order.slice(start, Math.min(end, order.length));

/** Loss and accuracy over a whole source, in inference mode (BatchNorm's moving statistics), without a graph. */
export function evaluateSource(model: Sequential, source: BatchSource, batchSize: number, label = ''): { loss: number; accuracy: number } {
  const tally = new Tally();
  const order = Int32Array.from({ length: source.size }, (_, i) => i);
  const bar = label ? new ProgressBar(label, Math.ceil(source.size / batchSize)) : null;
  noGrad(() => {
    for (let start = 0; start < source.size; start += batchSize) {
      const batch = source.batch(rowsOf(order, start, start + batchSize));
      tally.add(model, batch, forward(model, batch, false));
      bar?.tick();
    }
  });
  bar?.done(`loss ${tally.meanLoss.toFixed(4)} - accuracy ${tally.accuracy.toFixed(4)}`);
  return { loss: tally.meanLoss, accuracy: tally.accuracy };
}

/**
 * Re-estimate every BatchNormalization's moving mean and variance as the plain average of their batch
 * values over `batches` training batches (PyTorch's momentum=None), without changing any weight.
 *
 * Why: Keras's moving averages keep 99% of their old value per step, so they need a few hundred steps
 * to forget where they started (mean 0, variance 1); 0.99^100 ≈ 0.37. A run of a minute (--quick) ends
 * well before that, and its inference-mode accuracy then says more about those stale statistics than
 * about what the network learned — the test-time-statistics weakness of BatchNorm the article lists.
 * Setting momentum k/(k+1) for the k-th batch (k = 0, 1, …) makes the update an exact running mean.
 */
export function recalibrateBatchNorm(model: Sequential, source: BatchSource, batchSize: number, batches: number, seed: number): void {
  const norms = model.layers.filter((l) => l.className === 'BatchNormalization') as Array<Layer & { momentum: number }>;
  if (norms.length === 0) return;
  const saved = norms.map((l) => l.momentum);
  const order = Int32Array.from({ length: source.size }, (_, i) => i);
  new Random(seed).shuffle(order);
  const count = Math.min(batches, Math.floor(source.size / batchSize));
  try {
    noGrad(() => {
      for (let k = 0; k < count; k++) {
        // momentum is readonly in the layer's type (a hyperparameter); changed here for the pass only.
        for (const l of norms) l.momentum = k / (k + 1);
        forward(model, source.batch(rowsOf(order, k * batchSize, (k + 1) * batchSize)), true);
      }
    });
  } finally {
    norms.forEach((l, i) => { l.momentum = saved[i]; });
  }
}

export interface FitOptions {
  epochs: number;
  batchSize: number;
  seed: number;
  validation?: BatchSource;
  /** After each epoch's training pass, recalibrateBatchNorm over this many batches (0 or absent: never). */
  recalibrateBatches?: number;
  /**
   * The learning rate of each epoch (1-based), set on the optimizer before the epoch starts: Keras's
   * LearningRateScheduler. Absent: the compiled optimizer's rate throughout.
   */
  learningRate?: (epoch: number) => number;
  /** Called after each epoch with its record (to save results as the run goes). */
  onEpochEnd?: (record: EpochRecord) => void;
}

/** Train for `epochs` passes over `train`, shuffled each epoch; one record per epoch. */
export async function fitSource(model: Sequential, train: BatchSource, options: FitOptions): Promise<EpochRecord[]> {
  const optimizer = model.optimizer;
  if (!optimizer) throw new Error(`${model.name}: compile() the model first`);
  if (optimizer.params.length === 0) optimizer.params = model.parameters();
  const rng = new Random(options.seed);
  let order: Int32Array = Int32Array.from({ length: train.size }, (_, i) => i);
  const steps = Math.ceil(train.size / options.batchSize);
  const records: EpochRecord[] = [];
  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    if (options.learningRate) optimizer.lr = options.learningRate(epoch);
    console.log(`Epoch ${epoch}/${options.epochs}` + (options.learningRate ? ` - learning rate ${optimizer.lr.toPrecision(3)}` : ''));
    if (train.epochOrder) order = train.epochOrder(rng, options.batchSize);
    else rng.shuffle(order);
    const tally = new Tally();
    const bar = new ProgressBar('train', steps);
    const start = Date.now();
    const cpuStart = process.cpuUsage();
    for (let s = 0; s < steps; s++) {
      const batch = train.batch(rowsOf(order, s * options.batchSize, (s + 1) * options.batchSize));
      const step = forward(model, batch, true);
      optimizer.zeroGrad();
      step.loss.backward();
      optimizer.step();
      tally.add(model, batch, step);
      bar.tick(1, `loss ${tally.meanLoss.toFixed(4)} - accuracy ${tally.accuracy.toFixed(4)}`);
    }
    const seconds = (Date.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    bar.done(`loss ${tally.meanLoss.toFixed(4)} - accuracy ${tally.accuracy.toFixed(4)} - ${(1000 * seconds / steps).toFixed(0)}ms/step (${(1000 * cpuSeconds / steps).toFixed(0)}ms CPU)`);
    const record: EpochRecord = { epoch, loss: tally.meanLoss, accuracy: tally.accuracy, seconds, cpuSeconds, learningRate: optimizer.lr };
    if (options.recalibrateBatches) recalibrateBatchNorm(model, train, options.batchSize, options.recalibrateBatches, options.seed + epoch);
    if (options.validation) {
      const v = evaluateSource(model, options.validation, options.batchSize, 'validate');
      record.valLoss = v.loss;
      record.valAccuracy = v.accuracy;
    }
    records.push(record);
    options.onEpochEnd?.(record);
  }
  return records;
}
