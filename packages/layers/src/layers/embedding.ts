/** Embedding: integer token ids → learned vectors. */
import { defineOp, Variable } from '@gradlab/autograd';
import { allocate, fromTypedArray } from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import { Layer, layerError } from '../layer.js';
import type { LayerArgs, SymbolicShape } from '../layer.js';
import { getInitializer, randomUniform } from '../initializers.js';
import type { Initializer, InitializerName } from '../initializers.js';
import { registerLayer } from '../models/save.js';

/**
 * lookup:  out[..., :] = table[ids[...], :]
 * Backward: each row of the table receives the sum of the output gradients of every position that
 * read it (a scatter-add), dTable[v] = Σ_{p : ids[p] = v} dy[p]. Ids get no gradient.
 */
const lookupOp = defineOp<{ ids: Int32Array; idsShape: readonly number[] }>('embeddingLookup', {
  forward(ctx, [table], { ids, idsShape }) {
    const D = table.shape[1];
    const t = table.dataSync();
    const out = allocate(table.dtype, ids.length * D);
    for (let p = 0; p < ids.length; p++) out.set(t.subarray(ids[p] * D, ids[p] * D + D), p * D);
    ctx.save(table);
    return fromTypedArray(out, [...idsShape, D]);
  },
  backward(ctx, dy, { ids }) {
    const [V, D] = ctx.saved[0].shape;
    const g = dy.contiguous().dataSync();
    const dTable = allocate(dy.dtype, V * D);
    for (let p = 0; p < ids.length; p++) {
      const row = ids[p] * D;
      for (let d = 0; d < D; d++) dTable[row + d] += g[p * D + d];
    }
    return [fromTypedArray(dTable, [V, D])];
  },
});

/** Rows of `table` [V, D] picked by integer `ids` of any shape: the result is [...ids.shape, D]. */
export function embeddingLookup(table: Variable, ids: Tensor, op = 'embeddingLookup'): Variable {
  const raw = ids.dataSync();
  const V = table.shape[0];
  const checked = new Int32Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const id = raw[i];
    if (!Number.isInteger(id) || id < 0 || id >= V) throw new Error(`${op}: id ${id} at position ${i} is outside the vocabulary [0, ${V})`);
    checked[i] = id;
  }
  return lookupOp([table], { ids: checked, idsShape: ids.shape });
}

export interface EmbeddingArgs extends LayerArgs {
  /** Treat id 0 as padding: computeMask returns ids ≠ 0, so later layers skip those steps. */
  maskZero?: boolean;
  embeddingsInitializer?: InitializerName | Initializer;
  inputLength?: number;
}

export class Embedding extends Layer {
  readonly inputDim: number;
  readonly outputDim: number;
  readonly maskZero: boolean;
  private readonly initializer: Initializer;
  embeddings?: Variable;

  constructor(inputDim: number, outputDim: number, args: EmbeddingArgs = {}) {
    super(args.inputLength !== undefined && !args.inputShape ? { ...args, inputShape: [args.inputLength] } : args);
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
    return embeddingLookup(this.embeddings!, x.data, `${this.name} (Embedding)`);
  }

  override computeMask(input: Variable, _mask: Tensor | null = null): Tensor | null {
    return this.maskZero ? input.data.ne(0) : null;
  }

  override computeOutputShape(inputShape: SymbolicShape): SymbolicShape { return [...inputShape, this.outputDim]; }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), inputDim: this.inputDim, outputDim: this.outputDim, maskZero: this.maskZero };
  }
}

registerLayer('Embedding', (c) => new Embedding(c.inputDim as number, c.outputDim as number, c as EmbeddingArgs));
