/**
 * The functional API (Keras's keras.Model(inputs, outputs), TF.js's tf.model): a model made from the
 * symbolic tensors that layers return when called on an `Input` (symbolic.ts), so a model need not be
 * a stack: a branch that skips layers and is added back (a residual connection), two towers concatenated,
 * one layer applied twice with the same weights (a shared layer).
 *
 *   const x = layers.Input({ shape: [16] });
 *   const h = layers.Dense(32, { activation: 'relu' }).apply(x);
 *   const r = layers.add([h, layers.Dense(32, { activation: 'relu' }).apply(h)]);
 *   const model = models.model({ inputs: x, outputs: layers.Dense(3, { activation: 'softmax' }).apply(r) });
 *
 * The graph is kept as nodes in an order where every node comes after its inputs (node 0 is the input):
 * call() runs them in that order, passing masks along as Sequential does (a merge layer passes on a
 * mask its inputs share). It is the same Model as Sequential's, so compile, fit, evaluate, predict,
 * summary, save and load work unchanged; like Sequential, training folds an output softmax into the loss.
 *
 * Several inputs and outputs, as Keras: models.model({ inputs: [a, b], outputs: [y1, y2] }) takes x as a
 * list of tensors, one per input in that order, y as a list, one per output (fit([xa, xb], [y1, y2])), and
 * predict gives a list, one tensor per output. Each output has its own loss (compile: outputs.ts), named
 * by the layer that made it. x may also be an object keyed by the Input layers' names, and y by the
 * output layers' names (fit-inputs.ts puts them in order).
 */
import { Variable, asVariable } from '@gradlab/autograd';
import { Tensor, formatShape } from '@gradlab/tensor';
import { Layer, formatSymbolicShape, layerError, shapesCompatible } from '../layer.js';
import type { CallOptions, SymbolicShape } from '../layer.js';
import type { Loss } from '../losses.js';
import { Embedding } from '../layers/embedding.js';
import { InputLayer, Merge } from '../layers/merge.js';
import { layerFromConfig, registerLayer } from '../layers/registry.js';
import { SymbolicTensor } from '../symbolic.js';
import type { BatchExpectations } from './check-batch.js';
import { fusedLoss, logitsOf } from './logits.js';
import { Model } from './model.js';

export interface FunctionalArgs {
  /** The model's input: what `layers.Input({ shape })` returned, or a list of them (x is then a list in this order). */
  inputs: SymbolicTensor | SymbolicTensor[];
  /** The model's output: the symbolic tensor of its last layer call, or a list of them (y is then a list in this order). */
  outputs: SymbolicTensor | SymbolicTensor[];
  name?: string;
}

/** One layer call of the graph: the layer (its index in model.layers) and its inputs (indices of earlier nodes). */
interface GraphNode { layer: Layer; inputs: number[]; shape: SymbolicShape }

/** The symbolic tensors of an `inputs`/`outputs` argument, as a list. */
function symbolicList(what: 'inputs' | 'outputs', given: SymbolicTensor | SymbolicTensor[]): SymbolicTensor[] {
  const list = Array.isArray(given) ? given : [given];
  if (list.length === 0) throw new Error(`models.model: ${what} is an empty list`);
  list.forEach((t, i) => {
    if (!(t instanceof SymbolicTensor)) {
      throw new Error(`models.model: ${what}${list.length > 1 ? `[${i}]` : ''} must be a symbolic tensor (from layers.Input, or a layer applied to one), got ${String(t)}`);
    }
  });
  if (new Set(list).size !== list.length) throw new Error(`models.model: ${what} lists the same tensor twice`);
  return list;
}

/**
 * The graph from `inputs` to `outputs`, as nodes each after its inputs: nodes 0 … k−1 are the k inputs in
 * the order given (so x[i] feeds node i). Returns the nodes and each output's node.
 */
function graphOf(inputs: SymbolicTensor[], outputs: SymbolicTensor[]): { nodes: GraphNode[]; outputNodes: number[] } {
  const index = new Map<SymbolicTensor, number>();
  const nodes: GraphNode[] = [];
  for (const input of inputs) {
    if (!(input.layer instanceof InputLayer)) throw new Error(`models.model: inputs must come from layers.Input, got the output of ${input.layer.name} (${input.layer.className})`);
    index.set(input, nodes.length);
    nodes.push({ layer: input.layer, inputs: [], shape: input.shape });
  }
  const used = new Set<SymbolicTensor>();
  const visiting = new Set<SymbolicTensor>();
  const visit = (t: SymbolicTensor): number => {
    const known = index.get(t);
    if (known !== undefined) { used.add(t); return known; }
    if (visiting.has(t)) throw new Error('models.model: the graph has a cycle'); // cannot be built through apply, but a crafted file could try
    visiting.add(t);
    if (t.inputs.length === 0) {
      throw new Error(`models.model: the output depends on the input '${t.layer.name}' ${formatSymbolicShape(t.shape)}, which is not among the model's inputs`);
    }
    const ins = t.inputs.map(visit);
    visiting.delete(t);
    index.set(t, nodes.length);
    nodes.push({ layer: t.layer, inputs: ins, shape: t.shape });
    return nodes.length - 1;
  };
  const outputNodes = outputs.map(visit);
  // An input no output uses would take data that changes nothing: Keras refuses it too.
  const unused = inputs.find((t) => !used.has(t));
  if (unused) throw new Error(`models.model: no output depends on the input '${unused.layer.name}'`);
  return { nodes, outputNodes };
}

export class Functional extends Model {
  /** The name saved files record (a minifier renames the class itself). */
  static readonly className = 'Functional';
  private readonly nodes: GraphNode[];
  /** The node of each output, in the order of `outputs`. */
  private readonly outputNodes: number[];
  /** The shape of each output (batch axis null). */
  readonly outputShapes: SymbolicShape[];
  /** The shape of each of the model's inputs (batch axis null), in the order x lists them. */
  readonly inputShapes: SymbolicShape[];
  /** The first input's shape (the only one, for a model with one input). */
  readonly inputShape: SymbolicShape;
  readonly outputShape: SymbolicShape;

  constructor(args: FunctionalArgs) {
    super({ name: args?.name });
    if (typeof args !== 'object' || args === null) throw new Error(`models.model: expected { inputs, outputs }, got ${String(args)}`);
    const unknown = Object.keys(args).filter((k) => !['inputs', 'outputs', 'name'].includes(k));
    if (unknown.length) throw new Error(`models.model: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} (known: inputs, outputs, name)`);
    const inputs = symbolicList('inputs', args.inputs);
    const outputs = symbolicList('outputs', args.outputs);
    if (outputs.some((t) => inputs.includes(t))) throw new Error('models.model: the output is an input itself; apply at least one layer between them');
    // Outputs are named by their layers (the logs' 'dense_loss'), so two outputs of one layer would share a name.
    const names = outputs.map((t) => t.layer.name);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice) throw new Error(`models.model: two outputs come from layer '${twice}'; each output must come from its own layer (it names the output)`);
    ({ nodes: this.nodes, outputNodes: this.outputNodes } = graphOf(inputs, outputs));
    for (const node of this.nodes) if (!this.layers.includes(node.layer)) this.track(node.layer); // a shared layer once
    this.inputShapes = inputs.map((t) => t.shape);
    this.inputShape = inputs[0].shape;
    this.outputShapes = outputs.map((t) => t.shape);
    this.outputShape = outputs[0].shape;
    this.build(this.inputShape);
  }

  /** The outputs' names: the layers that made them, as Keras names them in the logs. */
  protected override outputNames(): string[] { return this.outputNodes.map((k) => this.nodes[k].layer.name); }

  protected override outputShapeList(): SymbolicShape[] { return this.outputShapes; }

  /** The inputs' names, which x keyed by name uses: the Input layers' (nodes 0 … k−1 are the inputs, in order). */
  protected override inputNames(): string[] { return this.nodes.slice(0, this.inputShapes.length).map((n) => n.layer.name); }

  /** Every layer was built when it was applied to its symbolic input; this records the model's input shape. */
  override build(inputShape: SymbolicShape): void {
    if (!shapesCompatible(inputShape, this.inputShape)) {
      throw layerError(this, `was made for inputs ${formatSymbolicShape(this.inputShape)}, not ${formatSymbolicShape(inputShape)}`);
    }
    this.builtInputShape = this.inputShape;
    this.built = true;
  }

  override computeOutputShape(inputShape: SymbolicShape): SymbolicShape {
    this.build(inputShape);
    return this.outputShape;
  }

  /** What the model expects, in words: "inputs [null, 4]" or "2 inputs [null, 4], [null, 3]". */
  private describeInputs(): string {
    const shapes = this.inputShapes.map(formatSymbolicShape).join(', ');
    return this.inputShapes.length === 1 ? `inputs ${shapes}` : `${this.inputShapes.length} inputs ${shapes}`;
  }

  /** x as a list holds one tensor per input, each of that input's shape. */
  protected override checkInputs(op: string, x: Array<Tensor | Variable>): void {
    const shapes = x.map((t) => (t instanceof Variable || t instanceof Tensor ? formatShape(t.shape) : String(t))).join(', ');
    const fits = x.length === this.inputShapes.length &&
      x.every((t, i) => (t instanceof Variable || t instanceof Tensor) && shapesCompatible(this.inputShapes[i], t.shape));
    if (!fits) throw layerError(this, `${op}: expects ${this.describeInputs()}, got ${x.length} tensor${x.length === 1 ? '' : 's'} ${shapes}`);
  }

  /**
   * Run the nodes in order, each on its inputs' values and masks, and return the outputs' values. Where
   * `logits` gives an output a function, that output's node stops at its layer's pre-activation output
   * (see forwardForLosses). A mask goes to the first input.
   */
  private run(x: Variable | Variable[], options: CallOptions, logits: Array<((x: Variable) => Variable) | null> | null = null): Variable[] {
    const xs = Array.isArray(x) ? x : [x];
    if (!Array.isArray(x) && this.inputShapes.length > 1) {
      throw layerError(this, `expects ${this.describeInputs()} as a list, got one tensor ${formatShape(x.shape)}`);
    }
    if (Array.isArray(x)) this.checkInputs('call', x);
    else if (!shapesCompatible(this.inputShape, x.shape)) throw layerError(this, `expects inputs ${formatSymbolicShape(this.inputShape)}, got ${formatShape(x.shape)}`);
    const values: Variable[] = [...xs];
    const masks: Array<Tensor | null> = xs.map((_, i) => (i === 0 ? options.mask ?? null : null));
    const training = options.training;
    for (let i = xs.length; i < this.nodes.length; i++) {
      const { layer, inputs } = this.nodes[i];
      const ins = inputs.map((k) => values[k]);
      const inMasks = inputs.map((k) => masks[k]);
      if (layer.takesList) {
        values.push(layer.apply(ins, { training }));
        masks.push(Merge.mergedMask(inMasks));
        continue;
      }
      const [value] = ins;
      const [mask] = inMasks;
      const fold = logits?.[this.outputNodes.indexOf(i)] ?? null; // indexOf −1: not an output, undefined
      values.push(fold ? fold(value) : layer.apply(value, { training, mask }));
      masks.push(layer.computeMask(value, mask));
    }
    return this.outputNodes.map((k) => values[k]);
  }

  /** The model's one output; with several, call() refuses (a Layer returns one value): predict gives them all. */
  override call(x: Variable | Variable[], options: CallOptions = {}): Variable {
    const outputs = this.run(Array.isArray(x) ? x.map((t) => asVariable(t)) : asVariable(x), options);
    if (outputs.length > 1) throw layerError(this, `has ${outputs.length} outputs (${this.outputNames().join(', ')}); call() returns one: use predict, which returns a list`);
    return outputs[0];
  }

  /** Every output. A list x (several inputs) bypasses Layer.apply, which gives a list only to merge layers. */
  protected override forwardOutputs(x: Variable | Variable[], options: CallOptions): Variable[] {
    return Array.isArray(x) || this.outputNodes.length > 1 ? this.run(x, options) : [this.apply(x, options)];
  }

  /** Each output's logits and fused loss where its softmax/sigmoid folds into its loss (as Sequential), else null. */
  private fusions(losses: Loss[]): Array<{ logits: (x: Variable) => Variable; loss: Loss } | null> {
    const consumed = new Set(this.nodes.flatMap((n) => n.inputs));
    return this.outputNodes.map((k, i) => {
      const layer = this.nodes[k].layer;
      // An output that another layer reads must stay as it is: only its own loss could take the logits.
      const fused = layer.takesList || consumed.has(k) ? null : fusedLoss(layer, losses[i]);
      return fused ? { logits: logitsOf(layer)!, loss: fused } : null;
    });
  }

  protected override forwardForLosses(x: Variable | Variable[], options: CallOptions, losses: Loss[]): Array<{ pred: Variable; loss: Loss }> {
    const fusions = this.fusions(losses);
    const preds = this.run(x, options, fusions.map((f) => f?.logits ?? null));
    return preds.map((pred, i) => ({ pred, loss: fusions[i]?.loss ?? losses[i] }));
  }

  protected override forwardForLoss(x: Variable | Variable[], options: CallOptions): { pred: Variable; loss: Loss } {
    return this.forwardForLosses(x, options, [this.requireCompiled().loss])[0];
  }

  protected override dataExpectations(x: Tensor): Omit<BatchExpectations, 'model'> {
    this.build([null, ...x.shape.slice(1)]);
    const classes = this.outputShape[this.outputShape.length - 1];
    // The first input's Embedding: checkData hands this the first input (x[0] of a list).
    const embedding = this.nodes.find((n) => n.inputs.includes(0) && n.layer instanceof Embedding)?.layer as Embedding | undefined;
    return {
      classes: this.loss?.kind === 'sparse_categorical_crossentropy' && typeof classes === 'number' ? classes : null,
      embedding: embedding ? { name: embedding.name, inputDim: embedding.inputDim } : null,
    };
  }

  /** Each layer's output shape; null ('multiple', as Keras prints it) for a layer called more than once. */
  protected override layerOutputShapes(): Array<SymbolicShape | null> {
    return this.layers.map((layer) => {
      const calls = this.nodes.filter((n) => n.layer === layer);
      return calls.length === 1 ? calls[0].shape : null;
    });
  }

  /** Keras's 'layer[call][tensor]' for every input of every call of each layer (call: which call of that layer made the input). */
  protected override layerConnections(): string[][] {
    const callOf = this.nodes.map((n, i) => this.nodes.slice(0, i).filter((m) => m.layer === n.layer).length);
    return this.layers.map((layer) => this.nodes.flatMap((n) => (n.layer === layer ? n.inputs.map((k) => `${this.nodes[k].layer.name}[${callOf[k]}][0]`) : [])));
  }

  /** The layers, and the graph as [layer index, [input node indices]] per node (the first nodes, with no inputs: the inputs in order). */
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), nodes: this.nodes.map((n) => [this.layers.indexOf(n.layer), n.inputs]), outputs: this.outputNodes };
  }
}

/** Keras's keras.Model(inputs=…, outputs=…), TF.js's tf.model({ inputs, outputs }). */
export function model(args: FunctionalArgs): Functional { return new Functional(args); }

/**
 * Rebuild a saved functional model. The config comes from a file, so every index is checked: node 0 is
 * the InputLayer and no other node is; each node names a saved layer and only earlier nodes as inputs;
 * every layer is used. The layers are then applied again to symbolic tensors, which rebuilds the graph.
 */
function fromConfig(config: Record<string, unknown>): Functional {
  const fail = (message: string): never => { throw new Error(`a Functional model's config: ${message}`); };
  const saved = (config.layers as Array<{ className: string; config: Record<string, unknown> }> | undefined) ?? [];
  const nodes = config.nodes;
  if (!Array.isArray(nodes) || nodes.length < 2) fail('nodes must be an array of at least 2 [layer, inputs] pairs');
  const list = nodes as unknown[];
  // The model's inputs are the leading nodes without inputs (one in files from before several inputs).
  const inputCount = Math.max(1, list.findIndex((n) => !(Array.isArray(n) && Array.isArray(n[1]) && n[1].length === 0)));
  list.forEach((n, i) => {
    const isInput = i < inputCount;
    const ok = Array.isArray(n) && n.length === 2 && Number.isSafeInteger(n[0]) && n[0] >= 0 && n[0] < saved.length && Array.isArray(n[1]) &&
      (n[1] as unknown[]).every((k) => Number.isSafeInteger(k) && (k as number) >= 0 && (k as number) < i) && isInput === (n[1].length === 0);
    if (!ok) fail(`nodes[${i}] must be [a layer index below ${saved.length}, ${isInput ? 'no inputs' : `input node indices below ${i}`}], got ${JSON.stringify(n)}`);
  });
  if (inputCount >= list.length) fail('every node is an input; the last node must be a layer call (the output)');
  const pairs = list as Array<[number, number[]]>;
  const used = new Set(pairs.map(([l]) => l));
  if (used.size !== saved.length) fail(`${saved.length} layers but the nodes use ${used.size} of them`);
  const layers = saved.map((s) => layerFromConfig(s));
  const tensors: SymbolicTensor[] = pairs.slice(0, inputCount).map(([l], i) => {
    const input = layers[l];
    if (!(input instanceof InputLayer)) return fail(`node ${i} must be an InputLayer (input ${i} of the model), got ${input.className}`);
    return new SymbolicTensor(input.batchShape, input, []);
  });
  if (pairs.slice(inputCount).some(([l]) => layers[l] instanceof InputLayer)) fail(`only the first ${inputCount} node(s), the inputs, may be InputLayers`);
  for (const [l, inputs] of pairs.slice(inputCount)) {
    const layer = layers[l];
    const ins = inputs.map((k) => tensors[k]);
    tensors.push(layer.takesList ? layer.apply(ins) : (ins.length === 1 ? layer.apply(ins[0]) : fail(`layer '${layer.name}' takes one input, the config gives ${ins.length}`)));
  }
  // The outputs' nodes (files from before several outputs have none: the last node).
  const outputNodes = config.outputs ?? [pairs.length - 1];
  if (!Array.isArray(outputNodes) || outputNodes.length === 0 ||
    !outputNodes.every((k) => Number.isSafeInteger(k) && k >= inputCount && k < pairs.length)) {
    fail(`outputs must list node indices from ${inputCount} to ${pairs.length - 1}, got ${JSON.stringify(outputNodes)}`);
  }
  const outputs = (outputNodes as number[]).map((k) => tensors[k]);
  return new Functional({ inputs: tensors.slice(0, inputCount), outputs, name: config.name as string | undefined });
}

registerLayer('Functional', fromConfig);
Model.makeFunctional = (args) => new Functional(args as unknown as FunctionalArgs);
