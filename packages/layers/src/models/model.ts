/**
 * Model: Keras's training machinery (compile → fit → evaluate → predict, save) for any model, the one
 * training loop of the repository. Two kinds of model use it:
 *   - Sequential (sequential.ts): a stack of layers;
 *   - a subclassed model (Keras's subclassing API, PyTorch's nn.Module with forward): a class that
 *     extends Model, creates its layers with this.track(layer) and writes call(x, options).
 *
 *   class TwoTowers extends models.Model {
 *     private readonly hidden = this.track(layers.Dense(16, { activation: 'relu' }));
 *     private readonly out = this.track(layers.Dense(3, { activation: 'softmax' }));
 *     call(x: Variable, options: CallOptions): Variable { return this.out.apply(this.hidden.apply(x, options), options); }
 *   }
 *
 * A model is itself a Layer (a Module) holding its layers as children named by their layer names, so
 * `model.parameters()` and `model.stateDict()` ("dense.kernel", …) reach every weight.
 *
 * This file is where to start reading: the class, the hooks its subclasses override, and compile,
 * trainOnBatch, fit, evaluate, predict, summary and save as a user calls them. What they hand on lives in:
 *   - model-options.ts: the arguments of compile, fit, evaluate, trainOnBatch and predict (re-exported here);
 *   - model-checks.ts: the checks of those arguments and of the data (x against y, a dataset's batch,
 *     sampleWeight, validationData), made where they enter;
 *   - model-step.ts: one batch: its loss, its metrics' counts, the results read back; the training step;
 *   - model-loop.ts: fit's loop over epochs and batches with the callbacks, and evaluate's over batches;
 *   - model-internals.ts: the protected hooks those files call, bound to the model (internals() below);
 *   - fit-data.ts and fit-inputs.ts (batches; x, y and sampleWeight in the model's order), outputs.ts
 *     (several outputs), recycle.ts (each step's memory), summary.ts, training-config.ts, save.ts.
 */
import { Variable, asVariable, noGrad } from '@gradlab/autograd';
import { Tensor, concat, formatShape, zeros } from '@gradlab/tensor';
import { Layer, formatSymbolicShape, layerError } from '../layer.js';
import type { CallOptions, LayerArgs, SymbolicShape } from '../layer.js';
import { getLoss } from '../losses.js';
import type { Loss, LossSpec } from '../losses.js';
import { getMetric } from '../metrics.js';
import type { Metric } from '../metrics.js';
import { Optimizer, getOptimizer } from '../optimizers/index.js';
import type { History } from '../callbacks.js';
import { Dataset } from '../data/dataset.js';
import type { BatchExpectations } from './check-batch.js';
import { datasetEpochs, examplesOf, limited, range, takeRowsOf, tensorBatches, tensorEpochs } from './fit-data.js';
import type { EpochSource, GivenBatch, ModelBatch, ModelX, ModelY, Ordered } from './fit-data.js';
import { batchWeights, checkClassWeight, orderedX, orderedY } from './fit-inputs.js';
import type { ModelNames } from './fit-inputs.js';
import { compileHeads } from './outputs.js';
import type { OutputHead } from './outputs.js';
import { EVALUATE_OPTIONS, FIT_OPTIONS, PREDICT_OPTIONS, TRAIN_ON_BATCH_OPTIONS } from './model-options.js';
import type { CompileArgs, EvaluateOptions, FitOptions, PredictOptions, TrainOnBatchOptions } from './model-options.js';
import { checkBatchSize, checkModelData, checkOptions, sampleWeightFor, tensorData, validationBatches } from './model-checks.js';
import { trainStep } from './model-step.js';
import { evaluateBatches, trainLoop } from './model-loop.js';
import type { ModelInternals } from './model-internals.js';
import { recycledStep } from './recycle.js';
import { formatSummary } from './summary.js';
import { compileArgsFrom, trainingConfigOf } from './training-config.js';
import type { TrainingConfig } from './training-config.js';
import { loadWeights, saveModel } from './save.js';
import type { SaveOptions } from './save.js';
import type { IOHandler } from './io.js';

export type { TrainingConfig } from './training-config.js';
export type { CompileArgs, EvaluateOptions, FitOptions, PredictOptions, SampleWeight, TrainOnBatchOptions } from './model-options.js';

export { batchBounds } from './fit-data.js';

export class Model extends Layer {
  /** The layers this model tracks: Sequential's stack, or those a subclass registered with track(). */
  readonly layers: Layer[] = [];
  /** Set by a callback (EarlyStopping) to end fit() after the current epoch. */
  stopTraining = false;
  /** Set by a callback in onTrainBegin (BackupAndRestore) to start fit() at this epoch. */
  resumeEpoch?: number;
  optimizer?: Optimizer;
  /** The compiled loss of a model with one output (undefined for several: see heads). */
  loss?: Loss;
  metrics: Metric[] = [];
  /** The weighted metrics of a model with one output (compile's weightedMetrics). */
  weightedMetrics: Metric[] = [];
  /** A model with several outputs: each output's loss, weight and metrics (outputs.ts); null for one output. */
  heads: OutputHead[] | null = null;

  /** What `new Model({ inputs, outputs })` makes: a functional model (functional.ts sets it when it loads). */
  static makeFunctional?: (args: { inputs: unknown; outputs: unknown; name?: string }) => Model;

  /**
   * `new Model()` in a subclass (the subclassing API); `new Model({ inputs, outputs })` gives a
   * functional model, as Keras's keras.Model(inputs=…, outputs=…) does.
   */
  constructor(args: LayerArgs & { inputs?: unknown; outputs?: unknown } = {}) {
    super(args);
    this.supportsMasking = true;
    if (new.target === Model && args && (args.inputs !== undefined || args.outputs !== undefined)) {
      if (!Model.makeFunctional) throw new Error('new Model({ inputs, outputs }): the functional API is not loaded (import models from @gradlab/layers)');
      return Model.makeFunctional(args as { inputs: unknown; outputs: unknown; name?: string });
    }
  }

  /**
   * Register a layer of a subclassed model (Keras tracks attributes; JavaScript cannot see them, so the
   * model is told): its weights join the model's, and save/load find it by position.
   */
  protected track<L extends Layer>(layer: L): L {
    if (!(layer instanceof Layer)) throw layerError(this, `track() expects a layer, got ${String(layer)}`);
    if (this.layers.some((l) => l.name === layer.name)) throw layerError(this, `all layers must have unique names; '${layer.name}' is already in the model`);
    this.layers.push(layer);
    this.addChild(layer.name, layer);
    return layer;
  }

  /** The forward computation: a subclass writes it (Sequential runs its layers in turn). */
  call(x: Variable, options: CallOptions = {}): Variable {
    void x; void options;
    throw layerError(this, 'a subclassed model must define call(x, options), its forward pass');
  }

  /**
   * Build for inputs of this shape (batch axis null): a subclassed model's layers build on their first
   * call, so it is called once on a batch of zeros (inference mode, no graph). Sequential builds layer by layer.
   */
  override build(inputShape: SymbolicShape): void {
    super.build(inputShape);
    const shape = [1, ...inputShape.slice(1).map((d) => d ?? 1)];
    noGrad(() => this.call(asVariable(zeros(shape)), { training: false }));
  }

  /**
   * The trainable weights, as PyTorch's model.parameters(). An unbuilt model has none yet, and an
   * optimizer made from that empty list would train nothing without a word, so this throws instead.
   */
  override parameters(): Variable[] {
    if (!this.built) {
      throw layerError(this, 'parameters(): the model is not built yet, so it has no weights; give the first layer an inputShape ' +
        '(layers.Dense(10, { inputShape: [784] })) or call the model on a batch first (model.call(x))');
    }
    return super.parameters();
  }

  // ---- compile --------------------------------------------------------------------------------

  compile(args: CompileArgs): void {
    // A name every object inherits ('constructor', '__proto__') must not reach getOptimizer's table lookup.
    if (typeof args.optimizer === 'string' && args.optimizer.toLowerCase() in Object.prototype) {
      throw layerError(this, `compile: unknown optimizer '${args.optimizer}'`);
    }
    const names = this.outputNames();
    if (names.length > 1) {
      this.heads = compileHeads(names, args.loss, args.lossWeights, args.metrics, args.weightedMetrics);
      this.optimizer = getOptimizer(args.optimizer);
      this.loss = undefined;
      this.metrics = [];
      this.weightedMetrics = [];
      return;
    }
    if (Array.isArray(args.loss) || (typeof args.loss === 'object' && args.loss !== null && !('call' in args.loss))) {
      throw layerError(this, 'compile: this model has one output, so loss is one loss (a list or an object per output is for several outputs)');
    }
    if (args.lossWeights !== undefined) throw layerError(this, 'compile: lossWeights weigh the losses of several outputs; this model has one');
    for (const what of ['metrics', 'weightedMetrics'] as const) {
      const given = args[what];
      if (given !== undefined && !(Array.isArray(given) && given.every((m) => typeof m === 'string'))) {
        throw layerError(this, `compile: ${what} must be a list of names (e.g. ['accuracy']), got ${JSON.stringify(given)}`);
      }
    }
    this.optimizer = getOptimizer(args.optimizer);
    this.loss = getLoss(args.loss as LossSpec);
    this.metrics = ((args.metrics as string[] | undefined) ?? []).map((name) => getMetric(name));
    this.weightedMetrics = ((args.weightedMetrics as string[] | undefined) ?? []).map((name) => getMetric(name));
    this.heads = null;
  }

  // ---- what subclasses override or call: names, shapes, forward passes, the data's checks ---------

  /** The outputs' names, as the logs use them: one for most models (its own name); a functional model's output layers. */
  protected outputNames(): string[] { return [this.name]; }

  /** The inputs' names, which x keyed by name uses: a functional model's Input layers; null for other models. */
  protected inputNames(): string[] | null { return null; }

  /** The outputs' shapes when known (batch axis null), for the checks of several y; null when not known. */
  protected outputShapeList(): SymbolicShape[] | null { return null; }

  /**
   * The forward pass the loss is computed on, and the loss to use. Default: call(), and the compiled
   * loss. Sequential overrides it to stop at the last layer's logits when the loss can take them.
   */
  protected forwardForLoss(x: Variable | Variable[], options: CallOptions): { pred: Variable; loss: Loss } {
    return { pred: this.forward(x, options), loss: this.requireCompiled().loss };
  }

  /**
   * Every output of the forward pass, for predict and a model with several outputs (Functional overrides
   * it); one output for other models.
   */
  protected forwardOutputs(x: Variable | Variable[], options: CallOptions): Variable[] { return [this.forward(x, options)]; }

  /** Each output's prediction and the loss to apply to it (several outputs): by default forwardOutputs and the compiled losses. */
  protected forwardForLosses(x: Variable | Variable[], options: CallOptions, losses: Loss[]): Array<{ pred: Variable; loss: Loss }> {
    return this.forwardOutputs(x, options).map((pred, i) => ({ pred, loss: losses[i] }));
  }

  /**
   * The forward pass the default loss uses: apply() on one x. A functional model with
   * several inputs takes a list (one per input); any other model is refused one (checkInputs).
   */
  protected forward(x: Variable | Variable[], options: CallOptions): Variable {
    if (Array.isArray(x)) throw layerError(this, `takes one input x, got a list of ${x.length}`);
    return this.apply(x, options);
  }

  /**
   * Check an x given as a list of tensors: only a functional model with that many inputs takes one
   * (it overrides this to check the count and each shape).
   */
  protected checkInputs(op: string, x: Tensor[]): void {
    throw layerError(this, `${op}: x is a list of ${x.length} tensors [${x.map((t) => (t instanceof Tensor ? formatShape(t.shape) : String(t))).join(', ')}], but this model takes one input`);
  }

  /** The optimizer, and the loss of a model with one output (with several, the first output's: lossAndOutput, model-step.ts, reads heads instead). */
  protected requireCompiled(): { loss: Loss; optimizer: Optimizer } {
    const loss = this.loss ?? this.heads?.[0].loss;
    if (!loss || !this.optimizer) throw layerError(this, 'the model must be compiled first: model.compile({ optimizer, loss })');
    // An unbuilt model has no weights yet: the optimizer gets them once the first batch has built it.
    if (this.optimizer.params.length === 0 && this.built) this.optimizer.params = this.parameters();
    return { loss, optimizer: this.optimizer };
  }

  /**
   * What the data must satisfy for this model (building it for x's shape if it is not built yet): the
   * number of classes of a sparse crossentropy, and the first layer's vocabulary when it is an
   * Embedding. Default: build, and nothing known. Sequential knows both from its layers.
   */
  protected dataExpectations(x: Tensor): Omit<BatchExpectations, 'model'> {
    if (!this.built) this.build([null, ...x.shape.slice(1)]);
    return { classes: null, embedding: null };
  }

  /** Shapes, then the values that must hold on every backend (models/check-batch.ts), once where the data enters (model-checks.ts). */
  protected checkData(op: string, x: Ordered, y: Ordered): void { checkModelData(this.internals(), op, x, y); }

  /** The inputs' and outputs' names together, as fit-inputs.ts takes them. */
  private names(): ModelNames { return { inputs: this.inputNames(), outputs: this.outputNames() }; }

  /** This model's protected hooks, bound to it, for the parts of Model in files of their own (model-internals.ts says why). */
  private internals(): ModelInternals {
    return {
      model: this,
      names: () => this.names(),
      outputShapeList: () => this.outputShapeList(),
      checkInputs: (op, x) => this.checkInputs(op, x),
      dataExpectations: (x) => this.dataExpectations(x),
      checkData: (op, x, y) => this.checkData(op, x, y),
      forwardForLoss: (x, options) => this.forwardForLoss(x, options),
      forwardForLosses: (x, options, losses) => this.forwardForLosses(x, options, losses),
      requireCompiled: () => this.requireCompiled(),
    };
  }

  // ---- trainOnBatch, fit, evaluate, predict ------------------------------------------------------

  /**
   * Train on one batch; resolves to its loss (before the update). sampleWeight and classWeight weigh it
   * as fit's do (Keras's train_on_batch(x, y, sample_weight, class_weight)).
   */
  async trainOnBatch(x: ModelX, y: ModelY, options?: TrainOnBatchOptions): Promise<number> {
    const op = 'trainOnBatch';
    checkOptions(this, op, options, TRAIN_ON_BATCH_OPTIONS);
    const { sampleWeight, classWeight } = options ?? {};
    const batch: ModelBatch = { x: orderedX(this, op, x, this.names()), y: orderedY(this, op, y, this.names()) };
    this.checkData(op, batch.x, batch.y!);
    checkClassWeight(this, op, classWeight, this.names());
    batch.sampleWeight = sampleWeightFor(this.internals(), op, sampleWeight, examplesOf(batch.x));
    return (await trainStep(this.internals(), batch, batchWeights(op, batch, classWeight))).loss;
  }

  /**
   * Train, Keras's way: `fit(x, y, options)` on whole-dataset tensors, or `fit(dataset, options)` on a
   * Dataset of batches ({ x, y, mask?, sampleWeight? }). Tensors are checked once where they enter;
   * a dataset's batches are checked one by one as they are produced, before their step. x, y and
   * sampleWeight may be lists or objects keyed by name for several inputs or outputs (fit-inputs.ts).
   */
  fit(x: ModelX, y: ModelY, options?: FitOptions): Promise<History>;
  fit(dataset: Dataset<GivenBatch>, options?: FitOptions): Promise<History>;
  async fit(x: ModelX | Dataset<GivenBatch>, yOrOptions?: ModelY | FitOptions, maybeOptions?: FitOptions): Promise<History> {
    const fromDataset = x instanceof Dataset;
    const given = fromDataset && !(yOrOptions instanceof Tensor || Array.isArray(yOrOptions)) ? yOrOptions : maybeOptions;
    checkOptions(this, 'fit', given, FIT_OPTIONS);
    const options = (given as FitOptions | undefined) ?? {};
    const { epochs = 1, batchSize = 32, shuffle = true, validationSplit = 0, callbacks = [], initialEpoch = 0 } = options;
    this.requireCompiled();
    checkBatchSize(this, 'fit', batchSize);
    if (!(Number.isInteger(epochs) && epochs >= 0)) throw layerError(this, `fit: epochs must be a non-negative integer, got ${epochs}`);
    if (!(Number.isInteger(initialEpoch) && initialEpoch >= 0)) throw layerError(this, `fit: initialEpoch must be a non-negative integer, got ${initialEpoch}`);
    for (const name of ['stepsPerEpoch', 'validationSteps'] as const) {
      const v = options[name];
      if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw layerError(this, `fit: ${name} must be a positive integer, got ${v}`);
    }
    if (!(validationSplit >= 0 && validationSplit < 1)) throw layerError(this, `fit: validationSplit must be in [0, 1), got ${validationSplit}`);
    checkClassWeight(this, 'fit', options.classWeight, this.names());
    let train: EpochSource;
    let validation: (() => AsyncIterable<GivenBatch> | Iterable<GivenBatch>) | null = null;
    if (fromDataset) {
      if (validationSplit > 0) throw layerError(this, 'fit: validationSplit needs tensors (a dataset cannot be split without reading it); pass validationData instead, as Keras');
      if (options.sampleWeight) throw layerError(this, 'fit: sampleWeight goes into the dataset\'s batches ({ x, y, sampleWeight }) when fitting a dataset');
      if (!(typeof yOrOptions === 'object' || yOrOptions === undefined) || yOrOptions instanceof Tensor) {
        throw layerError(this, 'fit: a dataset holds its own labels; call fit(dataset, options)');
      }
      train = datasetEpochs(x, options.stepsPerEpoch);
    } else {
      const { x: xs, y } = tensorData(this.internals(), 'fit', x, yOrOptions);
      const n = examplesOf(xs);
      const sampleWeight = sampleWeightFor(this.internals(), 'fit', options.sampleWeight, n);
      // Keras takes the validation rows from the end, before any shuffling, with their sampleWeight (not classWeight).
      const trainCount = validationSplit > 0 ? Math.floor(n * (1 - validationSplit)) : n;
      if (trainCount === 0) throw layerError(this, `fit: validationSplit ${validationSplit} leaves no training examples out of ${n}`);
      train = tensorEpochs({ x: xs, y, sampleWeight, rows: range(0, trainCount) }, batchSize, shuffle, options.seed, options.stepsPerEpoch);
      if (trainCount < n) validation = () => tensorBatches({ x: xs, y, sampleWeight, rows: range(trainCount, n) }, batchSize);
    }
    if (options.validationData) validation = validationBatches(this.internals(), options.validationData, batchSize);
    const checkEach = fromDataset;
    return trainLoop(this.internals(), train, validation, { ...options, epochs, initialEpoch, callbacks, checkEach });
  }

  /** [loss, ...metrics] over tensors or a dataset (in inference mode, batch by batch), as Keras's evaluate. */
  evaluate(x: ModelX, y: ModelY, options?: EvaluateOptions): Promise<number[]>;
  evaluate(dataset: Dataset<GivenBatch>, options?: EvaluateOptions): Promise<number[]>;
  async evaluate(x: ModelX | Dataset<GivenBatch>, yOrOptions?: ModelY | EvaluateOptions, maybeOptions?: EvaluateOptions): Promise<number[]> {
    this.requireCompiled();
    if (x instanceof Dataset) {
      checkOptions(this, 'evaluate', yOrOptions, EVALUATE_OPTIONS);
      const options = (yOrOptions as EvaluateOptions | undefined) ?? {};
      if (options.sampleWeight) throw layerError(this, 'evaluate: sampleWeight goes into the dataset\'s batches ({ x, y, sampleWeight }) when evaluating a dataset');
      return Object.values((await evaluateBatches(this.internals(), 'evaluate', x, options.steps)).logs());
    }
    checkOptions(this, 'evaluate', maybeOptions, EVALUATE_OPTIONS);
    const options = maybeOptions ?? {};
    const { x: xs, y } = tensorData(this.internals(), 'evaluate', x, yOrOptions);
    const batchSize = options.batchSize ?? 32;
    checkBatchSize(this, 'evaluate', batchSize);
    const n = examplesOf(xs);
    const sampleWeight = sampleWeightFor(this.internals(), 'evaluate', options.sampleWeight, n);
    const batches = tensorBatches({ x: xs, y, sampleWeight, rows: range(0, n) }, batchSize);
    return Object.values((await evaluateBatches(this.internals(), 'evaluate', batches, options.steps, false)).logs());
  }

  /**
   * The model's outputs for every row of x (or every batch of a dataset), in inference mode, without a
   * graph: one tensor, or for a model with several outputs a list of them, one per output (as Keras).
   * TypeScript cannot tell which from the model, so the type parameter says it: predict<Tensor[]>(x)
   * (NoInfer: where the result is used must not choose T, so without one it is Tensor).
   */
  async predict<T extends Tensor | Tensor[] = Tensor>(x: ModelX | Variable | Dataset<GivenBatch>, options: PredictOptions = {}): Promise<NoInfer<T>> {
    checkOptions(this, 'predict', options, PREDICT_OPTIONS);
    const batchSize = options.batchSize ?? 32;
    checkBatchSize(this, 'predict', batchSize);
    const batches: Tensor[][] = []; // each batch's outputs
    const keep = (outputs: Variable[]): void => { batches.push(outputs.map((v) => v.data)); };
    if (x instanceof Dataset) {
      for await (const batch of limited(x, options.steps)) {
        const ordered = orderedX(this, 'predict', batch.x, this.names());
        if (Array.isArray(ordered)) this.checkInputs('predict', ordered);
        const x = Array.isArray(ordered) ? ordered.map((t) => asVariable(t)) : asVariable(ordered);
        keep(recycledStep(this, 'prediction step', null,
          () => noGrad(() => this.forwardOutputs(x, { training: false, mask: batch.mask ?? null })), (outputs) => outputs));
      }
      if (batches.length === 0) throw layerError(this, 'predict: the dataset gave no batches');
    } else {
      const data = x instanceof Variable ? x.data : orderedX(this, 'predict', x, this.names());
      if (Array.isArray(data)) this.checkInputs('predict', data);
      const n = examplesOf(data);
      (Array.isArray(data) ? data : [data]).forEach((t, i) => {
        if (t.rank === 0 || t.shape[0] === 0 || t.shape[0] !== n) {
          const which = Array.isArray(data) ? `x[${i}] ${formatShape(t.shape)}` : `x ${formatShape(t.shape)}`;
          throw layerError(this, `predict: ${which} ${t.shape[0] !== n ? `does not have the ${n} examples of x[0]` : 'has no examples'}`);
        }
      });
      for (let start = 0; start < n; start += batchSize) {
        keep(recycledStep(this, 'prediction step', null, () => {
          const rows = takeRowsOf(data, range(start, Math.min(n, start + batchSize)));
          return noGrad(() => this.forwardOutputs(Array.isArray(rows) ? rows.map((t) => asVariable(t)) : asVariable(rows), { training: false }));
        }, (outputs) => outputs));
      }
    }
    const joined = batches[0].map((_, k) => (batches.length === 1 ? batches[0][k] : concat(batches.map((b) => b[k]), 0)));
    return (this.outputNames().length > 1 ? joined : joined[0]) as T;
  }

  // ---- summary, config, save ---------------------------------------------------------------------

  /** Each tracked layer's output shape when the model knows it (Sequential does), else null (per layer: 'multiple'). */
  protected layerOutputShapes(): Array<SymbolicShape | null> | null { return null; }
  /** A functional model's summary column "Connected to": each layer's calls' inputs; null for other models. */
  protected layerConnections(): string[][] | null { return null; }

  /**
   * Print Keras's summary table (through printFn, default console.log) and return it as a string. A
   * subclassed model does not know its layers' output shapes without running them: "multiple", as Keras.
   */
  summary(options: { printFn?: (line: string) => void } = {}): string {
    if (!this.built) {
      throw layerError(this, 'this model has not yet been built; give the first layer an inputShape, or call the model on a batch of data');
    }
    const shapes = this.layerOutputShapes();
    const connections = this.layerConnections();
    const rows = this.layers.map((layer, i) => ({
      layer: `${layer.name} (${layer.className})`,
      outputShape: shapes?.[i] ? formatSymbolicShape(shapes[i]!) : 'multiple',
      params: layer.countParams().total,
      ...(connections ? { connectedTo: connections[i] } : {}),
    }));
    const text = formatSummary(this.name, rows, this.countParams()).join('\n');
    (options.printFn ?? console.log)(text);
    return text;
  }

  override getConfig(): Record<string, unknown> {
    return { name: this.name, layers: this.layers.map((l) => ({ className: l.className, config: l.getConfig() })) };
  }

  /** The compile() arguments as JSON, or null when they cannot be saved (a loss given as a function): training-config.ts. */
  trainingConfig(): TrainingConfig | null { return trainingConfigOf(this); }

  /** compile() again with what trainingConfig() gave (read from a saved file, so checked). */
  compileFromConfig(config: TrainingConfig): void { this.compile(compileArgsFrom(config, (message) => layerError(this, message))); }

  /**
   * Write model.json (topology, training config, weights manifest) and the weights file where
   * `destination` says, with the optimizer's state unless { includeOptimizer: false } (Keras's default).
   */
  save(destination: string | IOHandler, options?: SaveOptions): Promise<void> { return saveModel(this, destination, options); }
  /** Load weights saved by save() into this model (same architecture); { includeOptimizer: true } restores the optimizer's state too. */
  loadWeights(from: string | IOHandler, options?: SaveOptions): Promise<void> { return loadWeights(this, from, options); }
}

