/** Embedding: integer token ids → learned vectors. */
import { F } from '@gradlab/autograd';
import type { Variable } from '@gradlab/autograd';
import type { Tensor } from '@gradlab/tensor';
import { Layer, layerError, checkLayerArgs } from '../layer.js';
import type { LayerArgs, SymbolicShape } from '../layer.js';
import { getInitializer, randomUniform } from '../initializers.js';
import type { Initializer, InitializerName } from '../initializers.js';
import { registerLayer } from './registry.js';

/**
 * lookup:   out[..., :] = table[ids[...], :]          forward:  gather(table, ids, axis 0)
 * backward: dTable[v, :] = Σ_{p : ids[p] = v} dy[p, :]  backward: scatterAdd(table.shape, ids, dy, axis 0)
 * Each output row is a copy of one table row, so a table row receives the sum of the output gradients of
 * every position that read it (a row read twice gets both); rows nobody read get zero. Ids get no gradient.
 *
 * Both are backend ops (autograd's `gather`, whose backward is that scatterAdd: ops/indexing.ts of
 * @gradlab/autograd, with its gradcheck), so on the gpu backend the table, the ids and the gradient stay on
 * the device and nothing is read back — which is what lets it run under the asynchronous contract, where
 * the table is still being updated when the next step looks it up. The cpu backend runs the same two ops
 * as typed-array loops (tensor/ops/indexing.ts).
 *
 * Ids are not read here (that would stall a step on a device): `fit` checks them once where the data
 * enters (models/check-batch.ts); on the CPU, gather refuses an id outside the table by itself, and on a
 * device such an id gives a row of NaN (docs/gpu.md).
 */
export function embeddingLookup(table: Variable, ids: Tensor): Variable {
  return F.gather(table, ids, 0);
}

export interface EmbeddingArgs extends LayerArgs {
  /** Treat id 0 as padding: computeMask returns ids ≠ 0, so later layers skip those steps. */
  maskZero?: boolean;
  embeddingsInitializer?: InitializerName | Initializer;
  inputLength?: number;
}

export class Embedding extends Layer {
  /** The name saved files record (a minifier renames the class itself). */
  static readonly className = 'Embedding';
  readonly inputDim: number;
  readonly outputDim: number;
  readonly maskZero: boolean;
  private readonly initializer: Initializer;
  embeddings?: Variable;

  constructor(inputDim: number, outputDim: number, args: EmbeddingArgs = {}) {
    super(args.inputLength !== undefined && !args.inputShape ? { ...args, inputShape: [args.inputLength] } : args);
    checkLayerArgs(this, args, ['inputDim', 'outputDim', 'maskZero', 'embeddingsInitializer', 'inputLength']);
    if (!Number.isInteger(inputDim) || inputDim <= 0) throw layerError(this, `inputDim must be a positive integer, got ${inputDim}`);
    if (!Number.isInteger(outputDim) || outputDim <= 0) throw layerError(this, `outputDim must be a positive integer, got ${outputDim}`);
    this.inputDim = inputDim;
    this.outputDim = outputDim;
    this.maskZero = args.maskZero ?? false;
    // Keras's default for embeddings: uniform in [−0.05, 0.05].
    this.initializer = args.embeddingsInitializer ? getInitializer(args.embeddingsInitializer, this.name) : randomUniform(-0.05, 0.05);
  }

  override build(inputShape: SymbolicShape): void {
    this.embeddings = this.addParameter('embeddings', this.initializer([this.inputDim, this.outputDim]));
    super.build(inputShape);
  }

  call(x: Variable): Variable {
    return embeddingLookup(this.embeddings!, x.data);
  }

  // The mask is an op on the ids' backend (ids ≠ 0), so ids on a device give a mask on the device.
  override computeMask(input: Variable, _mask: Tensor | null = null): Tensor | null {
    return this.maskZero ? input.data.ne(0) : null;
  }

  override computeOutputShape(inputShape: SymbolicShape): SymbolicShape { return [...inputShape, this.outputDim]; }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), inputDim: this.inputDim, outputDim: this.outputDim, maskZero: this.maskZero };
  }
}

registerLayer('Embedding', (c) => new Embedding(c.inputDim as number, c.outputDim as number, c as EmbeddingArgs));
