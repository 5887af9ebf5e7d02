/**
 * Bidirectional: run a recurrent layer over the sequence forwards and a copy of it backwards, and merge
 * the two, so that the output at step t has seen both the past (forward copy) and the future (backward
 * copy) of the sequence. As Keras: the forward copy has the wrapped layer's configuration, the backward
 * copy the same with goBackwards flipped; each has its own weights (2× the parameters).
 *
 * Masks: the backward copy reads the sequence from its last step with the same mask, so on a
 * right-padded sequence it first meets the padding, where its state stays zero, and then reads the real
 * steps in reverse. Its outputs are put back in time order (output row t = what it computed at time t),
 * so the two outputs merged at row t both belong to input step t. With returnSequences both copies
 * output zeros at padded steps (Keras forces zero_output_for_mask there), so padded rows are 0.
 */
import { Variable, F } from '@gradlab/autograd';
import type { Tensor } from '@gradlab/tensor';
import { Layer, layerError, checkLayerArgs } from '../layer.js';
import type { CallOptions, LayerArgs, SymbolicShape } from '../layer.js';
import { LSTM } from './recurrent.js';
import { layerFromConfig, registerLayer } from './registry.js';

export type MergeMode = 'concat' | 'sum' | 'ave' | 'mul';
const MERGE_MODES: readonly MergeMode[] = ['concat', 'sum', 'ave', 'mul'];

export interface BidirectionalArgs extends LayerArgs {
  /** How to combine the two directions' outputs (default 'concat': features side by side). */
  mergeMode?: MergeMode;
}

/** What `callWithState` returns: Keras's [output, forward h, forward c, backward h, backward c]. */
export interface BidirectionalResult {
  output: Variable;
  forward: { h: Variable; c: Variable };
  backward: { h: Variable; c: Variable };
}

export class Bidirectional extends Layer {
  /** The name saved files record (a minifier renames the class itself). */
  static readonly className = 'Bidirectional';
  readonly forwardLayer: LSTM;
  readonly backwardLayer: LSTM;
  readonly mergeMode: MergeMode;

  constructor(layer: LSTM, args: BidirectionalArgs = {}) {
    // The input shape may be given to the wrapper or (as Keras also accepts) to the wrapped layer.
    super({ ...args, inputShape: args.inputShape ?? layer?.batchInputShape?.slice(1) });
    if (!(layer instanceof LSTM)) throw layerError(this, 'wraps a recurrent layer (LSTM)');
    checkLayerArgs(this, args, ['mergeMode']);
    this.mergeMode = args.mergeMode ?? 'concat';
    if (!MERGE_MODES.includes(this.mergeMode)) {
      throw layerError(this, `unknown mergeMode '${this.mergeMode}' (known: ${MERGE_MODES.join(', ')})`);
    }
    // As Keras: with returnSequences both copies output zeros at padded steps (zero_output_for_mask),
    // so that padded rows of the merged output are 0 in both halves.
    const zeroOutputForMask = layer.returnSequences;
    this.forwardLayer = this.addChild('forward', layer.cloneWith({ name: `forward_${layer.name}`, zeroOutputForMask }));
    this.backwardLayer = this.addChild('backward', layer.cloneWith({ name: `backward_${layer.name}`, goBackwards: !layer.goBackwards, zeroOutputForMask }));
    this.supportsMasking = true;
  }

  get returnSequences(): boolean { return this.forwardLayer.returnSequences; }

  override build(inputShape: SymbolicShape): void {
    this.forwardLayer.build(inputShape);
    this.backwardLayer.build(inputShape);
    super.build(inputShape);
  }

  call(x: Variable, options: CallOptions): Variable {
    return this.run(x, options.mask ?? null, false).output;
  }

  /** The merged output and each direction's final states (Keras's returnState). */
  callWithState(x: Variable | Tensor, options: CallOptions = {}): BidirectionalResult {
    const input = x instanceof Variable ? x : new Variable(x);
    if (!this.built) this.build([null, ...input.shape.slice(1)]);
    return this.run(input, options.mask ?? null, true) as BidirectionalResult;
  }

  private run(x: Variable, mask: Tensor | null, withState: boolean) {
    const fw = this.forwardLayer.run(x, { mask, withState, timeAligned: false });
    const bw = this.backwardLayer.run(x, { mask, withState, timeAligned: true });
    return {
      output: this.merge(fw.output, bw.output),
      forward: { h: fw.h, c: fw.c },
      backward: { h: bw.h, c: bw.c },
    };
  }

  /** concat: [fw | bw] on the feature axis;  sum: fw + bw;  ave: (fw + bw) / 2;  mul: fw ⊙ bw. */
  private merge(fw: Variable, bw: Variable): Variable {
    switch (this.mergeMode) {
      case 'concat': return F.concat([fw, bw], -1);
      case 'sum': return fw.add(bw);
      case 'ave': return fw.add(bw).mul(0.5);
      case 'mul': return fw.mul(bw);
    }
  }

  override computeOutputShape(inputShape: SymbolicShape): SymbolicShape {
    const shape = [...this.forwardLayer.computeOutputShape(inputShape)];
    if (this.mergeMode === 'concat') shape[shape.length - 1] = 2 * this.forwardLayer.units;
    return shape;
  }

  override computeMask(_input: Variable, mask: Tensor | null): Tensor | null {
    return this.returnSequences ? mask : null;
  }

  /** As Keras: the wrapped layer's class and config go inside ({ layer: { className, config } }). */
  override getConfig(): Record<string, unknown> {
    // zeroOutputForMask is not the wrapped layer's own setting: the constructor forces it again.
    const { name: _forwardName, zeroOutputForMask: _forced, ...inner } = this.forwardLayer.getConfig();
    const layerName = this.forwardLayer.name.replace(/^forward_/, '');
    return { ...super.getConfig(), mergeMode: this.mergeMode, layer: { className: 'LSTM', config: { ...inner, name: layerName } } };
  }

  override describe(): string { return `Bidirectional(${this.name}, mergeMode=${this.mergeMode})`; }
}

registerLayer('Bidirectional', (config) => {
  const { layer, ...args } = config;
  const inner = layerFromConfig(layer as { className: string; config: Record<string, unknown> });
  if (!(inner instanceof LSTM)) throw new Error(`Bidirectional: cannot wrap a saved ${inner.className}; it wraps an LSTM`);
  return new Bidirectional(inner, args as BidirectionalArgs);
});
