/**
 * LSTM, as Keras's: inputs [batch, time, features]; weights kernel W [in, 4u], recurrentKernel U [u, 4u],
 * bias b [4u], gates in the order i, f, c, o; σ for the gates (the sigmoid, or TF.js's default hardSigmoid
 * with `recurrentActivation: 'hardSigmoid'`), tanh for the cell (docs/lstm.md).
 *
 * How a call runs (the speed comes from the split):
 *   1. x·W for ALL time steps at once: one [B·T, in] @ [in, 4u] matmul, through the engine;
 *   2. the recurrence h_{t−1} → h_t, which cannot be batched over time, as one fused op for the whole
 *      sequence (F.lstmSequence), whose backward runs backpropagation through time in the backend's
 *      kernel.
 * With `unroll: true` step 2 is instead T fused-cell nodes (F.lstmCell), so the engine itself runs
 * BPTT, node by node: the same numbers, slower; useful for reading the graph and for tests. The ops
 * and the composite reference step are in @gradlab/autograd's ops/recurrent.ts.
 *
 * Masks: at a padded step (mask 0) h, c and the output keep their previous values, as in Keras (with
 * zeroOutputForMask the output is 0 there instead, as in Keras's Bidirectional).
 */
import { Variable, F } from '@gradlab/autograd';
import { Tensor, concat, ones, zeros, formatShape, RECURRENT_ACTIVATIONS } from '@gradlab/tensor';
import type { RecurrentActivation } from '@gradlab/tensor';
import { Layer, layerError, formatSymbolicShape, checkLayerArgs } from '../layer.js';
import type { CallOptions, LayerArgs, SymbolicShape } from '../layer.js';
import { getInitializer } from '../initializers.js';
import type { Initializer, InitializerName } from '../initializers.js';
import { registerLayer } from './registry.js';

export interface LSTMArgs extends LayerArgs {
  /** Return the output of every step, [B, T, u] (default: only the last, [B, u]). */
  returnSequences?: boolean;
  /** Keras returns [output, h, c]; here `call` returns the output and `callWithState` all three. */
  returnState?: boolean;
  /** Read the sequence from the end; outputs come in that (processing) order, as in Keras. */
  goBackwards?: boolean;
  kernelInitializer?: InitializerName | Initializer;
  recurrentInitializer?: InitializerName | Initializer;
  biasInitializer?: InitializerName | Initializer;
  /** Start the forget gate's bias at 1 (Jozefowicz et al. 2015): remember by default. Keras: true. */
  unitForgetBias?: boolean;
  /** Build the graph one step at a time (a node per step) instead of one node for the sequence. */
  unroll?: boolean;
  /**
   * Keras's zero_output_for_mask: padded steps output 0 instead of repeating the previous output
   * (the state is carried either way). Default false; Bidirectional sets it to returnSequences, as Keras.
   */
  zeroOutputForMask?: boolean;
  /**
   * The gates' activation: 'sigmoid' (Keras's default, and gradlab's) or 'hardSigmoid', clip(0.2·z + 0.5, 0, 1)
   * (TF.js's default; the snake_case 'hard_sigmoid' of Keras files is accepted too).
   */
  recurrentActivation?: RecurrentActivation | 'hard_sigmoid';
}

/** What `callWithState` returns: Keras's [output, h, c]. */
export interface LSTMResult {
  output: Variable;
  /** The final hidden state (equal to the last output). */
  h: Variable;
  /** The final cell state. */
  c: Variable;
}

/** Options of `LSTM.run`, the common path of call, callWithState and Bidirectional. */
export interface LSTMRunOptions {
  mask: Tensor | null;
  withState: boolean;
  /** With goBackwards and returnSequences: output of time t in row t (Bidirectional re-aligns this way). */
  timeAligned: boolean;
}

export class LSTM extends Layer {
  /** The name saved files record (a minifier renames the class itself). */
  static readonly className = 'LSTM';
  readonly units: number;
  readonly returnSequences: boolean;
  readonly returnState: boolean;
  readonly goBackwards: boolean;
  readonly unitForgetBias: boolean;
  readonly unroll: boolean;
  readonly zeroOutputForMask: boolean;
  readonly recurrentActivation: RecurrentActivation;
  private readonly args: LSTMArgs;
  kernel?: Variable;
  recurrentKernel?: Variable;
  bias?: Variable;

  constructor(units: number, args: LSTMArgs = {}) {
    super(args);
    checkLayerArgs(this, args, ['units', 'returnSequences', 'returnState', 'goBackwards', 'kernelInitializer', 'recurrentInitializer', 'biasInitializer', 'unitForgetBias', 'unroll', 'zeroOutputForMask', 'recurrentActivation']);
    if (!Number.isInteger(units) || units <= 0) throw layerError(this, `units must be a positive integer, got ${units}`);
    this.units = units;
    this.returnSequences = args.returnSequences ?? false;
    this.returnState = args.returnState ?? false;
    this.goBackwards = args.goBackwards ?? false;
    this.unitForgetBias = args.unitForgetBias ?? true;
    this.unroll = args.unroll ?? false;
    this.zeroOutputForMask = args.zeroOutputForMask ?? false;
    const activation = args.recurrentActivation === 'hard_sigmoid' ? 'hardSigmoid' : args.recurrentActivation ?? 'sigmoid';
    if (!RECURRENT_ACTIVATIONS.includes(activation)) {
      throw layerError(this, `recurrentActivation ${JSON.stringify(args.recurrentActivation)} is not one of ${RECURRENT_ACTIVATIONS.map((a) => `'${a}'`).join(', ')}`);
    }
    this.recurrentActivation = activation;
    this.args = args;
    for (const init of [args.kernelInitializer, args.recurrentInitializer, args.biasInitializer]) {
      if (init !== undefined) getInitializer(init, this.name); // a typo fails here, not at the first call
    }
    this.supportsMasking = true;
  }

  /** A fresh LSTM with this one's configuration, some of it changed (Bidirectional's two copies). */
  cloneWith(overrides: Partial<LSTMArgs>): LSTM {
    const { inputShape: _ignored, ...rest } = this.args;
    return new LSTM(this.units, { ...rest, goBackwards: this.goBackwards, ...overrides });
  }

  override build(inputShape: SymbolicShape): void {
    const features = inputShape[2];
    if (inputShape.length !== 3 || features === null) {
      throw layerError(this, `expects inputs [batch, time, features] with known features, got ${formatSymbolicShape(inputShape)}`);
    }
    const u = this.units;
    const init = (which: InitializerName | Initializer | undefined, fallback: InitializerName) => getInitializer(which ?? fallback, this.name);
    this.kernel = this.addParameter('kernel', init(this.args.kernelInitializer, 'glorot_uniform')([features, 4 * u]));
    this.recurrentKernel = this.addParameter('recurrentKernel', init(this.args.recurrentInitializer, 'orthogonal')([u, 4 * u]));
    const biasInit = init(this.args.biasInitializer, 'zeros');
    // Keras's unit_forget_bias: [b_i | 1 … 1 | b_c, b_o], the forget block set to ones.
    const bias = this.unitForgetBias ? concat([biasInit([u]), ones([u]), biasInit([2 * u])]) : biasInit([4 * u]);
    this.bias = this.addParameter('bias', bias);
    super.build(inputShape);
  }

  /** The output: [B, T, u] with returnSequences, else [B, u]. The states: see callWithState. */
  call(x: Variable, options: CallOptions): Variable {
    return this.run(x, { mask: options.mask ?? null, withState: false, timeAligned: false }).output;
  }

  /**
   * Keras's `returnState`: the output and the final states h and c (h equals the last output). `call`
   * has one result, so the states come from here: `const { output, h, c } = lstm.callWithState(x)`.
   */
  callWithState(x: Variable | Tensor, options: CallOptions = {}): LSTMResult {
    const input = x instanceof Variable ? x : new Variable(x);
    if (!this.built) this.build([null, ...input.shape.slice(1)]);
    const result = this.run(input, { mask: options.mask ?? null, withState: true, timeAligned: false });
    return result as LSTMResult;
  }

  /** The forward pass; h and c are null unless withState. */
  run(x: Variable, options: LSTMRunOptions): { output: Variable; h: Variable | null; c: Variable | null } {
    const [W, U, b] = [this.kernel, this.recurrentKernel, this.bias];
    if (!W || !U || !b) throw layerError(this, 'called before it was built (use apply, or build(inputShape) first)');
    const features = W.shape[0];
    if (x.rank !== 3 || x.shape[2] !== features) {
      throw layerError(this, `expects inputs [batch, time, ${features}], got ${formatShape(x.shape)}`);
    }
    const [B, T] = x.shape;
    const u = this.units;
    const { mask } = options;
    if (mask && (mask.rank !== 2 || mask.shape[0] !== B || mask.shape[1] !== T)) {
      throw layerError(this, `mask ${formatShape(mask.shape)} does not fit input ${formatShape(x.shape)} (expected [${B},${T}])`);
    }
    // 1. the input projection of every step: one matmul
    const xw = x.reshape([B * T, features]).matmul(W).reshape([B, T, 4 * u]);
    if (this.unroll) return this.runUnrolled(xw.add(b), U, options);
    // 2. the recurrence (it adds the bias on the way): one node
    const y = F.lstmSequence(xw, U, b, {
      mask, goBackwards: this.goBackwards, returnSequences: this.returnSequences, returnState: options.withState,
      timeAligned: options.timeAligned, zeroOutputForMask: this.zeroOutputForMask, recurrentActivation: this.recurrentActivation,
    });
    const nOut = this.returnSequences ? T : 1;
    if (!options.withState) return { output: this.returnSequences ? y : y.reshape([B, u]), h: null, c: null };
    return {
      output: this.returnSequences ? y.slice([null, [0, T]]) : y.slice([null, 0]),
      h: y.slice([null, nOut]),
      c: y.slice([null, nOut + 1]),
    };
  }

  /** The recurrence as T fused-cell nodes; masked rows keep h and c through `where`. */
  private runUnrolled(xz: Variable, U: Variable, options: LSTMRunOptions): { output: Variable; h: Variable; c: Variable } {
    const [B, T] = xz.shape;
    let h = new Variable(zeros([B, this.units], xz.dtype));
    let c = h;
    const outputs: Variable[] = [];
    for (let k = 0; k < T; k++) {
      const t = this.goBackwards ? T - 1 - k : k;
      const next = F.lstmCell(xz.slice([null, t]), h, c, U, this.recurrentActivation);
      if (options.mask) {
        const real = options.mask.slice([null, [t, t + 1]]); // [B, 1], broadcast over the units
        h = F.where(real, next.h, h);
        c = F.where(real, next.c, c);
        outputs.push(this.zeroOutputForMask ? F.where(real, h, 0) : h);
      } else {
        ({ h, c } = next);
        outputs.push(h);
      }
    }
    const last = outputs[T - 1];
    if (options.timeAligned && this.goBackwards) outputs.reverse();
    const output = this.returnSequences ? F.stack(outputs, 1) : last;
    return { output, h, c };
  }

  override computeOutputShape(inputShape: SymbolicShape): SymbolicShape {
    return this.returnSequences ? [inputShape[0], inputShape[1], this.units] : [inputShape[0], this.units];
  }

  /** The mask goes on with the sequence (returnSequences); a single output has no time axis to mask. */
  override computeMask(_input: Variable, mask: Tensor | null): Tensor | null {
    return this.returnSequences ? mask : null;
  }

  override getConfig(): Record<string, unknown> {
    // Initialisers given as names are kept; a function cannot go into JSON (and a loaded model's
    // weights come from its file anyway).
    const initializers: Record<string, string> = {};
    for (const key of ['kernelInitializer', 'recurrentInitializer', 'biasInitializer'] as const) {
      const init = this.args[key];
      if (typeof init === 'string') initializers[key] = init;
    }
    return {
      ...super.getConfig(), units: this.units, returnSequences: this.returnSequences, returnState: this.returnState,
      goBackwards: this.goBackwards, unitForgetBias: this.unitForgetBias, ...initializers,
      ...(this.unroll ? { unroll: true } : {}), ...(this.zeroOutputForMask ? { zeroOutputForMask: true } : {}),
      ...(this.recurrentActivation !== 'sigmoid' ? { recurrentActivation: this.recurrentActivation } : {}),
    };
  }

  override describe(): string {
    return `LSTM(${this.name}, units=${this.units}${this.returnSequences ? ', returnSequences' : ''}${this.goBackwards ? ', goBackwards' : ''})`;
  }
}

registerLayer('LSTM', (config) => new LSTM(config.units as number, config as LSTMArgs));
