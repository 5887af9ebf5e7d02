/** What the save and load tests share: a small model, its data, and ways to read and rewrite a saved folder. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Tensor, Random, fromTypedArray, setSeed } from '@gradlab/tensor';
import { Dense, BatchNormalization, layers } from '@gradlab/layers';
import { Sequential } from '../src/models/sequential.js';
import { registerLayer, registeredLayers, sealModelFile, MODEL_FILE } from '../src/models/save.js';
import type { ModelFile } from '../src/models/save.js';

// The layer modules register their own classes; register the two used here in case they do not (yet).
if (!registeredLayers().includes('Dense')) registerLayer('Dense', (c) => new Dense(c.units as number, c));
if (!registeredLayers().includes('BatchNormalization')) registerLayer('BatchNormalization', (c) => new BatchNormalization(c));

/** n examples of 3 features, labelled by the sign of the first two's sum. */
export function data(n: number): { x: Tensor; y: Tensor } {
  const rng = new Random(4);
  const xs = Float32Array.from({ length: n * 3 }, () => rng.normal());
  const ys = Int32Array.from({ length: n }, (_, i) => (xs[3 * i] + xs[3 * i + 1] > 0 ? 1 : 0));
  return { x: fromTypedArray(xs, [n, 3]), y: fromTypedArray(ys, [n]) };
}

/** Dense(hidden, relu) → BatchNormalization → Dense(2, softmax) on 3 inputs, initialised from `seed`. */
export function model(hidden = 8, seed = 1): Sequential {
  setSeed(seed);
  return new Sequential([
    layers.Dense(hidden, { activation: 'relu', inputShape: [3] }),
    layers.BatchNormalization(),
    layers.Dense(2, { activation: 'softmax' }),
  ]);
}

/** Every weight's values, in model order. */
export const values = (m: { stateDict(): Map<string, Tensor> }): number[][] => [...m.stateDict().values()].map((t) => Array.from(t.dataSync()));
export const readManifest = async (d: string): Promise<ModelFile> => JSON.parse(await fs.readFile(path.join(d, MODEL_FILE), 'utf8')) as ModelFile;
/** The weights file that model.json names (weights-<id>.bin, a fresh name at each save). */
export const weightsPath = async (d: string): Promise<string> => path.join(d, (await readManifest(d)).weights.file);

/** Change model.json with `edit` and write it back with a valid checksum: a file crafted by someone else. */
export async function rewriteManifest(d: string, edit: (file: ModelFile) => void): Promise<void> {
  const file = await readManifest(d);
  edit(file);
  await fs.writeFile(path.join(d, MODEL_FILE), JSON.stringify(sealModelFile(file)));
}
