/**
 * Sequential: a stack of layers, each feeding the next, with Keras's training loop on top (Model:
 * compile → fit → evaluate → predict, save). It holds its layers as children named by their layer
 * names, so `model.parameters()` and `model.stateDict()` ("dense.kernel",
 * "batch_normalization.moving_mean", …) reach every weight.
 *
 * When the last layer ends in a softmax (or a sigmoid) and the loss is the matching crossentropy on
 * probabilities, training takes that layer's pre-activation output (the logits) and uses the loss's
 * fused, stable fromLogits form, as Keras does; predict() still returns probabilities.
 */
import { Variable, asVariable, isGradEnabled } from '@gradlab/autograd';
import { Conv2D } from '../layers/conv.js';
import { BatchNormalization } from '../layers/normalization.js';
import type { Tensor } from '@gradlab/tensor';
import { Layer, layerError } from '../layer.js';
import type { CallOptions, LayerArgs, SymbolicShape } from '../layer.js';
import type { Loss } from '../losses.js';
import { fusedLoss, logitsOf } from './logits.js';
import { Embedding } from '../layers/embedding.js';
import type { BatchExpectations } from './check-batch.js';
import { layerFromConfig, registerLayer } from '../layers/registry.js';
import { Model } from './model.js';
import { exportOnnx, saveOnnx } from '../formats/onnx.js';

export { Model } from './model.js';
export type { CompileArgs, EvaluateOptions, FitOptions, TrainingConfig } from './model.js';
export { batchBounds } from './fit-data.js';

/**
 * Conv2D (ReLU or no activation) then BatchNormalization, both built and at inference, with no
 * gradient recorded: the pair's output in one convolution pass, else null (run them one by one).
 * Inference fusion, as inference engines fold BatchNorm; training always runs the layers as written.
 */
function fusedWithNext(layer: Layer, next: Layer, x: Variable, options: CallOptions): Variable | null {
  if (!(layer instanceof Conv2D) || !(next instanceof BatchNormalization) || isGradEnabled()) return null;
  if (!layer.built || !next.built || (options.training ?? layer.training) || (options.training ?? next.training)) return null;
  if (next.movingMean.size !== layer.filters) return null; // the BatchNormalization's own call names the mismatch
  const dtype = x.dtype === 'float64' || layer.kernel!.dtype === 'float64' ? 'float64' : 'float32'; // the convolution's output
  return layer.callWithAffine(x, next.inferenceAffine(dtype));
}

export class Sequential extends Model {
  /** The name saved files record (a minifier renames the class itself). */
  static readonly className = 'Sequential';
  /** Each layer's output shape (batch axis null), known once the model is built. */
  private outputShapes: SymbolicShape[] = [];

  constructor(layers: Layer[] = [], args: LayerArgs = {}) {
    super(args);
    for (const layer of layers) this.add(layer);
  }

  /** Append a layer. If the model knows its input shape (the first layer's inputShape), it builds at once. */
  add(layer: Layer): this {
    if (!(layer instanceof Layer)) throw new Error(`${this.name} (Sequential): add() expects a layer, got ${String(layer)}`);
    this.track(layer); // refuses a second layer of the same name
    if (this.layers.length === 1 && layer.batchInputShape) this.build(layer.batchInputShape);
    else if (this.built) this.buildLayer(layer, this.outputShapes[this.outputShapes.length - 1] ?? this.builtInputShape!);
    return this;
  }

  /** The inference graph as an ONNX file (formats/onnx.ts): its bytes, also written to `path` when given (Node). */
  async exportOnnx(path?: string): Promise<Uint8Array> {
    return path === undefined ? exportOnnx(this) : saveOnnx(this, path);
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

  /**
   * Run the first `count` layers, passing each its predecessor's mask (mask = layer.computeMask(input, mask)).
   * At inference with no gradient recorded (predict, evaluate), a Conv2D followed by a BatchNormalization
   * runs as one pass: the BatchNormalization is an affine map per channel then, and the convolution
   * applies it as it writes its output (fusedWithNext). The result is the two layers' bit for bit.
   */
  private runLayers(x: Variable, options: CallOptions, count = this.layers.length): Variable {
    if (this.layers.length === 0) throw layerError(this, 'the model has no layers; add() some first');
    if (!this.built) this.build([null, ...x.shape.slice(1)]);
    let out = x;
    let mask = options.mask ?? null;
    for (let i = 0; i < count; i++) {
      const layer = this.layers[i], input = out;
      const fused = i + 1 < count && mask === null ? fusedWithNext(layer, this.layers[i + 1], input, options) : null;
      if (fused) { out = fused; i++; continue; } // neither layer changes the (absent) mask
      out = layer.apply(input, { training: options.training, mask });
      mask = layer.computeMask(input, mask);
    }
    return out;
  }

  override call(x: Variable, options: CallOptions = {}): Variable { return this.runLayers(asVariable(x), options); }

  // ---- the loss, and what the data must satisfy ------------------------------------------------

  /** The last layer's logits and the fused loss when they apply (see the top of this file), else call(). */
  protected override forwardForLoss(x: Variable, options: CallOptions): { pred: Variable; loss: Loss } {
    const compiled = this.requireCompiled().loss;
    const fused = fusedLoss(this.layers[this.layers.length - 1], compiled);
    if (!fused) return { pred: this.call(x, options), loss: compiled };
    const hidden = this.runLayers(x, options, this.layers.length - 1);
    const last = this.layers[this.layers.length - 1];
    if (!last.built) last.build([null, ...hidden.shape.slice(1)]);
    return { pred: logitsOf(last)!(hidden), loss: fused };
  }

  protected override dataExpectations(x: Tensor): Omit<BatchExpectations, 'model'> {
    const first = this.layers[0];
    if (!this.built && first) this.build([null, ...x.shape.slice(1)]);
    const out = this.outputShapes[this.outputShapes.length - 1];
    const classes = out ? out[out.length - 1] : null;
    return {
      classes: this.loss?.kind === 'sparse_categorical_crossentropy' && typeof classes === 'number' ? classes : null,
      embedding: first instanceof Embedding ? { name: first.name, inputDim: first.inputDim } : null,
    };
  }

  /** Each layer's output shape, known once the model is built (Model.summary prints them). */
  protected override layerOutputShapes(): SymbolicShape[] | null { return this.built ? this.outputShapes : null; }
}

registerLayer('Sequential', (config) => {
  const saved = (config.layers as Array<{ className: string; config: Record<string, unknown> }> | undefined) ?? [];
  return new Sequential(saved.map((s) => layerFromConfig(s)), { name: config.name as string | undefined });
});
