/**
 * The optimizer's state in a saved model, as Keras's model.save keeps it (include_optimizer=True): the
 * step count and every parameter's slots (Adam's m and v, RMSprop's averages, momentum's velocity), so
 * that fit on a loaded model goes on exactly where the saved one stopped.
 *
 * In model.json (format version 2) it is the `optimizer` section:
 *
 *   "optimizer": { "className": "Adam", "iterations": 12,
 *                  "slots": [{ "layerIndex": 0, "weight": "kernel", "slot": "m", "shape": [3, 8],
 *                              "dtype": "float32", "offset": 4200, "byteLength": 96, "crc32": … }, …] }
 *
 * Each slot names its parameter as the weights manifest does (the layer's position, the weight's name
 * in it), so it finds its parameter in a rebuilt model whose automatic layer names differ; its bytes
 * follow the model's weights in the same weights file, and are checked as theirs are: the byte length
 * against shape and dtype, the range inside the file, the CRC-32.
 */
import type { Variable } from '@gradlab/autograd';
import type { Model } from './model.js';
import type { OptimizerState } from '../optimizers/optimizer.js';
import { crc32, describeSlot, tensorFromBytes } from './model-file.js';
import type { OptimizerSection, SlotEntry } from './model-file.js';

/** Every parameter of the model's layers with its position and name there. */
function parameterNames(model: Model): Map<Variable, { layerIndex: number; weight: string }> {
  const out = new Map<Variable, { layerIndex: number; weight: string }>();
  model.layers.forEach((layer, layerIndex) => { for (const [weight, p] of layer.namedParameters()) out.set(p, { layerIndex, weight }); });
  return out;
}

/**
 * The optimizer's state as a section (its offsets counting from `offset`, where the model's weights
 * end) and the bytes to append to the weights file; null when the model has no optimizer to save.
 */
export async function optimizerSection(model: Model, offset: number): Promise<{ section: OptimizerSection; bytes: Uint8Array[] } | null> {
  const optimizer = model.optimizer;
  if (!optimizer || model.trainingConfig() === null) return null; // without its training config the optimizer cannot be rebuilt
  const names = parameterNames(model);
  const state = optimizer.state();
  const slots: SlotEntry[] = [];
  const bytes: Uint8Array[] = [];
  for (const { param, name, value } of state.slots) {
    const where = names.get(optimizer.params[param]);
    if (!where) {
      throw new Error(`save (model '${model.name}'): the optimizer updates a parameter ('${optimizer.params[param].name ?? param}') that is not ` +
        "one of the model's layers' weights, so its state cannot be saved with the model; save with { includeOptimizer: false }");
    }
    const data = await value.data(); // awaited: under an asynchronous device the last step may still be running
    const b = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    slots.push({ ...where, slot: name, shape: [...value.shape], dtype: value.dtype, offset, byteLength: b.byteLength, crc32: crc32(b) });
    bytes.push(b);
    offset += b.byteLength;
  }
  return { section: { className: state.className, iterations: state.iterations, slots }, bytes };
}

/**
 * Put the saved state into the loaded model's optimizer (compiled from the file's training config):
 * each slot to its parameter, after checking its bytes' checksum. The optimizer's class, slot names and
 * shapes are checked by loadState; any error names the file (the weights file's name, `file`).
 */
export function restoreOptimizer(model: Model, section: OptimizerSection, weights: Uint8Array, file: string): void {
  const optimizer = model.optimizer!;
  if (optimizer.params.length === 0) optimizer.params = model.parameters();
  const index = new Map<string, number>();
  const names = parameterNames(model);
  optimizer.params.forEach((p, i) => { const n = names.get(p); if (n) index.set(`${n.layerIndex}/${n.weight}`, i); });
  const slots = section.slots.map((e) => {
    const param = index.get(`${e.layerIndex}/${e.weight}`);
    if (param === undefined) throw new Error(`models.load: ${file}: ${describeSlot(e)}: the model has no such trainable weight`);
    return { param, name: e.slot, value: tensorFromBytes(weights, e, file, describeSlot(e)) };
  });
  const state: OptimizerState = { className: section.className, iterations: section.iterations, slots };
  try {
    optimizer.loadState(state);
  } catch (error) {
    throw new Error(`models.load: ${file}: cannot restore the optimizer's state: ${(error as Error).message}`);
  }
}
