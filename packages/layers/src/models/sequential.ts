/**
 * Sequential: a stack of layers, each feeding the next, with Keras's training loop on top
 * (compile → fit → evaluate → predict). It is itself a Layer (a Module), holding its layers as
 * children named by their layer names, so `model.parameters()` and `model.stateDict()` ("dense.kernel",
 * "batch_normalization.moving_mean", …) reach every weight.
 *
 * When the last layer ends in a softmax (or a sigmoid) and the loss is the matching crossentropy on
 * probabilities, training takes that layer's pre-activation output (the logits) and uses the loss's
 * fused, stable fromLogits form, as Keras does; predict() still returns probabilities.
 */
import { Variable, asVariable, noGrad } from '@gradlab/autograd';
import { Tensor, Random, concat, formatShape, fromTypedArray, gather, globalRandom } from '@gradlab/tensor';
import { Layer, formatSymbolicShape, layerError } from '../layer.js';
import type { CallOptions, LayerArgs, SymbolicShape } from '../layer.js';
import { getLoss, isRegressionLoss, lossFromName } from '../losses.js';
import type { Loss, LossName, LossSpec } from '../losses.js';
import { getMetric } from '../metrics.js';
import { checkHostBatch } from './check-batch.js';
import { Embedding } from '../layers/embedding.js';
import type { Metric, MetricCount } from '../metrics.js';
import { Adam, Optimizer, RMSprop, SGD, getOptimizer } from '../optimizers/index.js';
import { History, TerminateOnNaN } from '../callbacks.js';
import type { Callback, Logs } from '../callbacks.js';
import { ProgressLogger } from './progress.js';
import type { ProgressOutput } from './progress.js';
import { formatSummary } from './summary.js';
import { layerFromConfig, registerLayer } from '../layers/registry.js';
import { loadWeights, saveModel } from './save.js';
import type { IOHandler } from './io.js';
import { lookup } from '../lookup.js';

export interface CompileArgs {
  /** 'adam', 'sgd', 'rmsprop' (Keras defaults) or an optimizer, made with or without parameters. */
  optimizer: string | Optimizer;
  /** 'sparse_categorical_crossentropy', 'categorical_crossentropy', 'binary_crossentropy', 'mse', a Loss or a function. */
  loss: LossSpec;
  /** e.g. ['accuracy']. */
  metrics?: string[];
}

/** What save() writes about compile(), so that load() can compile the model again. */
export interface TrainingConfig {
  loss: { name: LossName; fromLogits: boolean };
  metrics: string[];
  optimizer: { className: string; config: Record<string, unknown> };
}

export interface FitOptions {
  epochs?: number;
  /** Default 32. */
  batchSize?: number;
  /** Shuffle the training examples before each epoch. Default true. */
  shuffle?: boolean;
  /** Seed of the shuffling (default: the global generator, see setSeed). */
  seed?: number;
  /** Hold out this last fraction of x and y (taken before shuffling, as Keras) for validation. */
  validationSplit?: number;
  validationData?: [Tensor, Tensor];
  callbacks?: Callback[];
  /** 0 silent, 1 progress bar, 2 one line per epoch; 'auto' (default): 1 on a terminal, else 2. */
  verbose?: 0 | 1 | 2 | 'auto';
  /** Where progress goes (default process.stdout, or the console where there is none, as in a browser). */
  output?: ProgressOutput;
}

const OPTIMIZERS: Record<string, new (options: Record<string, unknown>) => Optimizer> = { SGD, Adam, RMSprop };

/** The function giving a layer's pre-activation output, if it has one (Dense, Conv2D and Activation do). */
function logitsOf(layer: Layer): ((x: Variable) => Variable) | null {
  const l = layer as Layer & { preActivation?: (x: Variable) => Variable };
  return typeof l.preActivation === 'function' ? (x) => l.preActivation!(x) : null;
}

/** Rows of a whole-dataset tensor, as a batch. */
function takeRows(t: Tensor, rows: Int32Array): Tensor { return gather(t, fromTypedArray(rows, [rows.length]), 0); }

/** The row numbers start, start+1, …, end−1. */
function range(start: number, end: number): Int32Array { return Int32Array.from({ length: end - start }, (_, i) => start + i); }

/**
 * The [start, end) rows of each training batch. A last batch of a single example joins the batch
 * before it (33 examples at batch size 32 train as one batch of 33): BatchNormalization cannot
 * normalise one example in training, and Keras users expect such an epoch to complete.
 */
export function batchBounds(count: number, batchSize: number): Array<[number, number]> {
  const bounds: Array<[number, number]> = [];
  for (let start = 0; start < count; start += batchSize) bounds.push([start, Math.min(count, start + batchSize)]);
  const last = bounds[bounds.length - 1];
  if (bounds.length > 1 && batchSize > 1 && last[1] - last[0] === 1) {
    bounds.pop();
    bounds[bounds.length - 1][1] = count;
  }
  return bounds;
}

/** Running sums over an epoch: the loss weighted by batch size (Keras's mean), and each metric's counts. */
class Totals {
  private loss = 0;
  private n = 0;
  private readonly counts: { correct: number; count: number }[];
  constructor(private readonly metrics: Metric[]) { this.counts = metrics.map(() => ({ correct: 0, count: 0 })); }
  add(loss: number, size: number, counts: { correct: number; count: number }[]): void {
    this.loss += loss * size;
    this.n += size;
    counts.forEach((c, i) => { this.counts[i].correct += c.correct; this.counts[i].count += c.count; });
  }
  logs(prefix = ''): Logs {
    const logs: Logs = { [`${prefix}loss`]: this.loss / this.n };
    this.metrics.forEach((m, i) => { logs[`${prefix}${m.name}`] = this.counts[i].correct / this.counts[i].count; });
    return logs;
  }
}

export class Sequential extends Layer {
  /** The name saved files record (a minifier renames the class itself). */
  static readonly className = 'Sequential';
  readonly layers: Layer[] = [];
  /** Set by a callback (EarlyStopping) to end fit() after the current epoch. */
  stopTraining = false;
  optimizer?: Optimizer;
  loss?: Loss;
  metrics: Metric[] = [];
  /** Each layer's output shape (batch axis null), known once the model is built. */
  private outputShapes: SymbolicShape[] = [];

  constructor(layers: Layer[] = [], args: LayerArgs = {}) {
    super(args);
    for (const layer of layers) this.add(layer);
  }

  /** Append a layer. If the model knows its input shape (the first layer's inputShape), it builds at once. */
  add(layer: Layer): this {
    if (!(layer instanceof Layer)) throw new Error(`${this.name} (Sequential): add() expects a layer, got ${String(layer)}`);
    if (this.layers.some((l) => l.name === layer.name)) {
      throw layerError(this, `all layers must have unique names; '${layer.name}' is already in the model`);
    }
    this.layers.push(layer);
    this.addChild(layer.name, layer);
    if (this.layers.length === 1 && layer.batchInputShape) this.build(layer.batchInputShape);
    else if (this.built) this.buildLayer(layer, this.outputShapes[this.outputShapes.length - 1] ?? this.builtInputShape!);
    return this;
  }

  private buildLayer(layer: Layer, inputShape: SymbolicShape): void {
    if (!layer.built) layer.build(inputShape);
    this.outputShapes.push(layer.computeOutputShape(inputShape));
  }

  /** Build every layer in turn, each for the previous one's output shape. */
  override build(inputShape: SymbolicShape): void {
    this.outputShapes = [];
    let shape = inputShape;
    for (const layer of this.layers) {
      this.buildLayer(layer, shape);
      shape = this.outputShapes[this.outputShapes.length - 1];
    }
    super.build(inputShape);
  }

  override computeOutputShape(inputShape: SymbolicShape): SymbolicShape {
    return this.layers.reduce((shape, layer) => layer.computeOutputShape(shape), inputShape);
  }

  /** Run the first `count` layers, passing each its predecessor's mask (mask = layer.computeMask(input, mask)). */
  private runLayers(x: Variable, options: CallOptions, count = this.layers.length): Variable {
    if (this.layers.length === 0) throw layerError(this, 'the model has no layers; add() some first');
    if (!this.built) this.build([null, ...x.shape.slice(1)]);
    let out = x;
    let mask = options.mask ?? null;
    for (const layer of this.layers.slice(0, count)) {
      const input = out;
      out = layer.apply(input, { training: options.training, mask });
      mask = layer.computeMask(input, mask);
    }
    return out;
  }

  call(x: Variable, options: CallOptions = {}): Variable { return this.runLayers(asVariable(x), options); }

  // ---- compile and the loss ----------------------------------------------------------------------

  compile(args: CompileArgs): void {
    this.optimizer = getOptimizer(args.optimizer);
    this.loss = getLoss(args.loss);
    this.metrics = (args.metrics ?? []).map((name) => getMetric(name));
  }

  /** The loss with fromLogits when the last layer's softmax/sigmoid can be folded into it; else null. */
  private fusedLoss(loss: Loss): Loss | null {
    const last = this.layers[this.layers.length - 1] as Layer & { activationName?: string };
    if (loss.fromLogits || loss.kind === null || !last || !logitsOf(last)) return null;
    const wanted = loss.kind === 'binary_crossentropy' ? 'sigmoid' : isRegressionLoss(loss.kind) ? null : 'softmax';
    return wanted !== null && last.activationName === wanted ? lossFromName(loss.kind, { fromLogits: true }) : null;
  }

  /** Forward for training or evaluation: the loss, and what the metrics should look at. */
  private lossAndOutput(xb: Tensor, yb: Tensor, training: boolean): { loss: Variable; pred: Tensor; fromLogits: boolean } {
    const loss = this.requireCompiled().loss;
    const fused = this.fusedLoss(loss);
    if (!fused) {
      const pred = this.call(asVariable(xb), { training });
      return { loss: loss.call(pred, yb), pred: pred.data, fromLogits: loss.fromLogits };
    }
    const hidden = this.runLayers(asVariable(xb), { training }, this.layers.length - 1);
    const last = this.layers[this.layers.length - 1];
    if (!last.built) last.build([null, ...hidden.shape.slice(1)]);
    const logits = logitsOf(last)!(hidden);
    return { loss: fused.call(logits, yb), pred: logits.data, fromLogits: true };
  }

  private requireCompiled(): { loss: Loss; optimizer: Optimizer } {
    if (!this.loss || !this.optimizer) throw layerError(this, 'the model must be compiled first: model.compile({ optimizer, loss })');
    if (this.optimizer.params.length === 0) this.optimizer.params = this.parameters();
    return { loss: this.loss, optimizer: this.optimizer };
  }

  /** batchSize 0 or −1 would never advance through the rows, and 1.5 or NaN would lose some. */
  private checkBatchSize(op: string, batchSize: number): void {
    if (!(Number.isInteger(batchSize) && batchSize > 0)) throw layerError(this, `${op}: batchSize must be a positive integer, got ${batchSize}`);
  }

  /** Shapes, then the values that must hold on every backend (models/check-batch.ts), once where the data enters. */
  private checkData(op: string, x: Tensor, y: Tensor): void {
    if (x.rank === 0 || y.rank === 0 || x.shape[0] !== y.shape[0]) {
      throw layerError(this, `${op}: x ${formatShape(x.shape)} and y ${formatShape(y.shape)} must have the same number of examples (first axis)`);
    }
    const first = this.layers[0];
    if (!this.built && first) this.build([null, ...x.shape.slice(1)]);
    const out = this.outputShapes[this.outputShapes.length - 1];
    const classes = out ? out[out.length - 1] : null;
    checkHostBatch(op, x, y, {
      model: this.name,
      classes: this.loss?.kind === 'sparse_categorical_crossentropy' && typeof classes === 'number' ? classes : null,
      embedding: first instanceof Embedding ? { name: first.name, inputDim: first.inputDim } : null,
    });
  }

  /**
   * One optimizer step on one batch: zeroGrad, forward, backward, step. Resolves to the loss and metric
   * counts. The values are read with `await …data()`, never `item()`: on an asynchronous device (GPU.js's
   * async contract) the ops above return at once and the loss is still being computed here.
   */
  private async step(xb: Tensor, yb: Tensor): Promise<{ loss: number; counts: { correct: number; count: number }[] }> {
    const { optimizer } = this.requireCompiled();
    const { loss, pred, fromLogits } = this.lossAndOutput(xb, yb, true);
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    return { loss: (await loss.data.data())[0], counts: await this.metricCounts(yb, pred, fromLogits) };
  }

  /** Each metric on one batch, computed where the predictions are; only the counts are read (awaited: they may be pending). */
  private async metricCounts(yb: Tensor, pred: Tensor, fromLogits: boolean): Promise<{ correct: number; count: number }[]> {
    const counts: MetricCount[] = this.metrics.map((m) => m.compute(yb, pred, fromLogits));
    return Promise.all(counts.map(async (c) => ({ correct: (await c.correct.data())[0], count: c.count })));
  }

  /** Train on one batch; resolves to its loss (before the update). */
  async trainOnBatch(x: Tensor, y: Tensor): Promise<number> {
    this.checkData('trainOnBatch', x, y);
    return (await this.step(x, y)).loss;
  }

  // ---- fit, evaluate, predict --------------------------------------------------------------------

  async fit(x: Tensor, y: Tensor, options: FitOptions = {}): Promise<History> {
    this.checkData('fit', x, y);
    this.requireCompiled();
    const { epochs = 1, batchSize = 32, shuffle = true, validationSplit = 0, callbacks = [] } = options;
    this.checkBatchSize('fit', batchSize);
    if (!(Number.isInteger(epochs) && epochs >= 0)) throw layerError(this, `fit: epochs must be a non-negative integer, got ${epochs}`);
    if (!(validationSplit >= 0 && validationSplit < 1)) throw layerError(this, `fit: validationSplit must be in [0, 1), got ${validationSplit}`);
    const n = x.shape[0];
    // Keras takes the validation rows from the end, before any shuffling.
    const trainCount = validationSplit > 0 ? Math.floor(n * (1 - validationSplit)) : n;
    if (trainCount === 0) throw layerError(this, `fit: validationSplit ${validationSplit} leaves no training examples out of ${n}`);
    let validation: { x: Tensor; y: Tensor; rows: Int32Array } | null = null;
    if (options.validationData) {
      const [vx, vy] = options.validationData;
      this.checkData('fit (validationData)', vx, vy);
      validation = { x: vx, y: vy, rows: range(0, vx.shape[0]) };
    } else if (trainCount < n) validation = { x, y, rows: range(trainCount, n) };

    const rng = options.seed !== undefined ? new Random(options.seed) : globalRandom;
    const batches = batchBounds(trainCount, batchSize);
    const steps = batches.length;
    const stopsOnNaN = callbacks.some((cb) => cb instanceof TerminateOnNaN);
    let warnedNaN = false;
    const progress = new ProgressLogger(options.verbose ?? 'auto', epochs, steps, options.output);
    const history = new History();
    this.stopTraining = false;
    for (const cb of callbacks) cb.setModel?.(this);
    for (const cb of callbacks) await cb.onTrainBegin?.({});
    const order = range(0, trainCount);
    for (let epoch = 0; epoch < epochs && !this.stopTraining; epoch++) {
      for (const cb of callbacks) await cb.onEpochBegin?.(epoch, {});
      progress.epochBegin(epoch);
      if (shuffle) rng.shuffle(order);
      const totals = new Totals(this.metrics);
      for (let b = 0; b < steps; b++) {
        const rows = order.slice(...batches[b]);
        for (const cb of callbacks) await cb.onBatchBegin?.(b, { size: rows.length });
        const { loss, counts } = await this.step(takeRows(x, rows), takeRows(y, rows));
        totals.add(loss, rows.length, counts);
        const logs = totals.logs();
        progress.batchEnd(b + 1, logs);
        if (!Number.isFinite(loss) && !warnedNaN && !stopsOnNaN) {
          warnedNaN = true;
          console.warn(`${this.name} (Sequential): fit: the loss is ${loss} at epoch ${epoch + 1}, batch ${b + 1}, so the weights are ` +
            'no longer numbers; training goes on, as in Keras. Lower the learning rate or look for NaN in the data; ' +
            'callbacks: [new callbacks.TerminateOnNaN()] stops at the first such batch');
        }
        for (const cb of callbacks) await cb.onBatchEnd?.(b, logs);
        if (this.stopTraining) break; // as Keras: a callback may stop mid-epoch (TerminateOnNaN); the epoch still ends
      }
      const logs = totals.logs();
      if (validation) Object.assign(logs, (await this.evaluateRows(validation.x, validation.y, validation.rows, batchSize)).logs('val_'));
      progress.epochEnd(logs);
      history.record(epoch, logs);
      for (const cb of callbacks) await cb.onEpochEnd?.(epoch, logs);
    }
    for (const cb of callbacks) await cb.onTrainEnd?.(history.epoch.length ? Object.fromEntries(Object.entries(history.history).map(([k, v]) => [k, v[v.length - 1]])) : {});
    return history;
  }

  /**
   * Loss and metrics over the given rows, in inference mode, without recording a graph. Each batch's
   * forward pass runs inside noGrad (which is synchronous); its values are awaited after it.
   */
  private async evaluateRows(x: Tensor, y: Tensor, rows: Int32Array, batchSize: number): Promise<Totals> {
    const totals = new Totals(this.metrics);
    for (let start = 0; start < rows.length; start += batchSize) {
      const batch = rows.subarray(start, Math.min(rows.length, start + batchSize)).slice();
      const yb = takeRows(y, batch);
      const { loss, pred, fromLogits } = noGrad(() => this.lossAndOutput(takeRows(x, batch), yb, false));
      totals.add((await loss.data.data())[0], batch.length, await this.metricCounts(yb, pred, fromLogits));
    }
    return totals;
  }

  /** [loss, ...metrics] over the whole of x and y (in inference mode, batch by batch). */
  async evaluate(x: Tensor, y: Tensor, options: { batchSize?: number } = {}): Promise<number[]> {
    this.checkData('evaluate', x, y);
    this.requireCompiled();
    const batchSize = options.batchSize ?? 32;
    this.checkBatchSize('evaluate', batchSize);
    return Object.values((await this.evaluateRows(x, y, range(0, x.shape[0]), batchSize)).logs());
  }

  /** The model's outputs for every row of x, computed in batches, in inference mode, without a graph. */
  async predict(x: Tensor | Variable, options: { batchSize?: number } = {}): Promise<Tensor> {
    const data = x instanceof Variable ? x.data : x;
    const batchSize = options.batchSize ?? 32;
    this.checkBatchSize('predict', batchSize);
    if (data.rank === 0 || data.shape[0] === 0) throw layerError(this, `predict: x ${formatShape(data.shape)} has no examples`);
    const outputs: Tensor[] = noGrad(() => {
      const out: Tensor[] = [];
      for (let start = 0; start < data.shape[0]; start += batchSize) {
        const rows = range(start, Math.min(data.shape[0], start + batchSize));
        out.push(this.call(asVariable(takeRows(data, rows)), { training: false }).data);
      }
      return out;
    });
    return outputs.length === 1 ? outputs[0] : concat(outputs, 0);
  }

  // ---- summary, config, save ---------------------------------------------------------------------

  /** Print Keras's summary table (through printFn, default console.log) and return it as a string. */
  summary(options: { printFn?: (line: string) => void } = {}): string {
    if (!this.built) {
      throw layerError(this, 'this model has not yet been built; give the first layer an inputShape, or call the model on a batch of data');
    }
    const rows = this.layers.map((layer, i) => ({
      layer: `${layer.name} (${layer.className})`,
      outputShape: formatSymbolicShape(this.outputShapes[i]),
      params: layer.countParams().total,
    }));
    const text = formatSummary(this.name, rows, this.countParams()).join('\n');
    (options.printFn ?? console.log)(text);
    return text;
  }

  override getConfig(): Record<string, unknown> {
    return { name: this.name, layers: this.layers.map((l) => ({ className: l.className, config: l.getConfig() })) };
  }

  /** The compile() arguments as JSON, or null when they cannot be saved (a loss given as a function). */
  trainingConfig(): TrainingConfig | null {
    if (!this.loss || !this.optimizer || this.loss.kind === null) return null;
    return {
      loss: { name: this.loss.kind, fromLogits: this.loss.fromLogits },
      metrics: this.metrics.map((m) => m.name),
      optimizer: { className: this.optimizer.className, config: this.optimizer.getConfig() },
    };
  }

  compileFromConfig(config: TrainingConfig): void {
    const Ctor = lookup(OPTIMIZERS, config.optimizer.className);
    if (!Ctor) throw layerError(this, `cannot restore optimizer '${config.optimizer.className}' (known: ${Object.keys(OPTIMIZERS).join(', ')})`);
    this.compile({ optimizer: new Ctor(config.optimizer.config), loss: lossFromName(config.loss.name, config.loss), metrics: config.metrics });
  }

  /** Write model.json (topology, training config, weights manifest) and the weights: into a folder, 'indexeddb://name', … (models/io.ts). */
  save(destination: string | IOHandler): Promise<void> { return saveModel(this, destination); }
  /** Load weights saved by save() into this model (same architecture). */
  loadWeights(from: string | IOHandler): Promise<void> { return loadWeights(this, from); }
}

registerLayer('Sequential', (config) => {
  const saved = (config.layers as Array<{ className: string; config: Record<string, unknown> }> | undefined) ?? [];
  return new Sequential(saved.map((s) => layerFromConfig(s)), { name: config.name as string | undefined });
});
