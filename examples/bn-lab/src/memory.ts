/**
 * How much memory a training step holds for backward, counted exactly rather than sampled from the
 * process: after the forward pass, walk the recorded graph from the loss and add up every distinct
 * buffer it keeps alive — each intermediate result, and each tensor an op saved for its backward —
 * leaving out the parameters and the input batch, which exist with or without the graph. Views share
 * their storage, so storages are counted once.
 */
import { topologicalOrder } from 'gradlab';
import type { DType, Storage, Tensor, Variable } from 'gradlab';

const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4 };

export interface GraphMemory {
  /** Bytes of the intermediate results (op outputs) the graph holds. */
  activations: number;
  /** Bytes of tensors saved for backward that are not op outputs (x̂ in a fused BN, masks, …). */
  saved: number;
  total: number;
  /** Number of recorded ops. */
  nodes: number;
}

const bytesOf = (s: Storage): number => s.length * BYTES[s.dtype];

/** The graph behind `loss`, measured; `exclude` are tensors that live anyway (parameters, the input batch). */
export function graphMemory(loss: Variable, exclude: readonly Tensor[]): GraphMemory {
  const skip = new Set<Storage>(exclude.map((t) => t.storage));
  const outputs = new Set<Storage>();
  const saved = new Set<Storage>();
  let nodes = 0;
  for (const v of topologicalOrder(loss)) {
    if (v.gradFn === null) continue; // a leaf: a parameter
    nodes++;
    if (!skip.has(v.data.storage)) outputs.add(v.data.storage);
    for (const t of v.gradFn.ctx.saved) if (!skip.has(t.storage)) saved.add(t.storage);
  }
  for (const s of outputs) saved.delete(s);
  const activations = [...outputs].reduce((n, s) => n + bytesOf(s), 0);
  const extra = [...saved].reduce((n, s) => n + bytesOf(s), 0);
  return { activations, saved: extra, total: activations + extra, nodes };
}
