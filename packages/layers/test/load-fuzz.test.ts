/**
 * Fuzzing load: 1,500 seeded random mutations of a saved model's model.json and weights file. Every
 * outcome must be a model equal to the original or an Error whose message starts "models.load:"
 * (never a TypeError, a RangeError, a hang or a huge allocation).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Random } from '@gradlab/tensor';
import { load, MODEL_FILE, sealModelFile } from '../src/models/save.js';
import type { ModelFile } from '../src/models/save.js';
import { data, model, values, readManifest, rewriteManifest, weightsPath } from './save-helpers.js';

const rng = new Random(1616);
const below = (n: number): number => Math.floor(rng.uniform(0, n));
const pick = <T>(xs: readonly T[]): T => xs[below(xs.length)];

/** One random change to a file's bytes: a flipped bit, a new byte, a byte gone or added, a cut, a repeat. */
function mutateBytes(bytes: Buffer): Buffer {
  const at = below(bytes.length);
  switch (below(6)) {
    case 0: { const out = Buffer.from(bytes); out[at] ^= 1 << below(8); return out; }
    case 1: { const out = Buffer.from(bytes); out[at] = below(256); return out; }
    case 2: return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
    case 3: return Buffer.concat([bytes.subarray(0, at), Buffer.from([below(256)]), bytes.subarray(at)]);
    case 4: return bytes.subarray(0, at);
    default: return Buffer.concat([bytes, bytes.subarray(at, at + 1 + below(64))]);
  }
}

/** Values a hostile or careless model.json might hold. */
const ODD_VALUES: unknown[] = [-1, 0, 1, 2, 0.5, 3.7, 1e8, 1e12, -1e12, 2 ** 53, null, true, false, '', 'constructor', '__proto__',
  'toString', '../weights.bin', '/etc/passwd', 'float64', 'int32', 'float32', 'Dense', 'Sequential', [], {}, [1e6, 1e6], [null], 'x'.repeat(5000)];

/** Every path to a value inside a JSON value (excluding the checksum, which is recomputed). */
function paths(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (typeof value !== 'object' || value === null) return [prefix];
  const keys = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value).filter((k) => k !== 'checksum');
  return [prefix, ...keys.flatMap((k) => paths((value as Record<string | number, unknown>)[k], [...prefix, k]))];
}

/** One change to the parsed model.json (a value replaced, nudged or deleted), sealed with a valid checksum. */
function mutateStructure(file: ModelFile): string {
  const copy = JSON.parse(JSON.stringify(file)) as ModelFile;
  const where = pick(paths(copy).filter((p) => p.length > 0));
  const parent = where.slice(0, -1).reduce<Record<string | number, unknown>>((o, k) => o[k] as Record<string | number, unknown>, copy as never);
  const key = where[where.length - 1];
  const old = parent[key];
  const choice = below(4);
  if (choice === 0 && !Array.isArray(parent)) delete parent[key];
  else if (choice === 1 && typeof old === 'number') parent[key] = old + pick([-1, 1, 4, -4]);
  else parent[key] = pick(ODD_VALUES);
  return JSON.stringify(sealModelFile(copy));
}

const isLoadError = (e: unknown): boolean => e instanceof Error && e.constructor === Error && /^models\.load: /.test(e.message);

test('1,500 random mutations of a saved model: each loads equal to the original or fails with a models.load error', async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'gradlab-fuzz-'));
  try {
    const { x, y } = data(40);
    const original = model(8, 7);
    original.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    await original.fit(x, y, { epochs: 1, verbose: 0 }); // distinct weights and moving statistics
    const saved = path.join(root, 'saved');
    await original.save(saved);
    // A fixed weights file name (a save picks a fresh one), so that the seeded mutations repeat exactly.
    await fs.rename(await weightsPath(saved), path.join(saved, 'weights-fuzz.bin'));
    await rewriteManifest(saved, (f) => { f.weights.file = 'weights-fuzz.bin'; });
    const manifestText = await fs.readFile(path.join(saved, MODEL_FILE));
    const manifest = await readManifest(saved);
    const weights = await fs.readFile(await weightsPath(saved));
    const expectedValues = JSON.stringify(values(original));
    const expectedPrediction = JSON.stringify(Array.from((await original.predict(x)).dataSync()));

    const trial = path.join(root, 'trial');
    await fs.mkdir(trial);
    const counts = { loaded: 0, refused: 0, craftedLoaded: 0 };
    const failures: string[] = [];
    const rssBefore = process.memoryUsage().rss;
    let rssMax = rssBefore;
    for (let k = 0; k < 1500; k++) {
      // 600 byte mutations of model.json, 400 of the weights, 500 crafted model.json files with valid checksums
      const kind = k < 600 ? 'model.json bytes' : k < 1000 ? 'weights bytes' : 'model.json fields';
      const json = kind === 'model.json bytes' ? mutateBytes(manifestText) : kind === 'model.json fields' ? mutateStructure(manifest) : manifestText;
      await fs.writeFile(path.join(trial, MODEL_FILE), json);
      await fs.writeFile(path.join(trial, manifest.weights.file), kind === 'weights bytes' ? mutateBytes(weights) : weights);
      try {
        const loaded = await load(trial);
        counts.loaded++;
        if (kind === 'model.json fields') counts.craftedLoaded++;
        // A crafted file may change settings such as an epsilon (its checksum is valid), never the weights.
        const prediction = await loaded.predict(x);
        const same = JSON.stringify(values(loaded)) === expectedValues && JSON.stringify(prediction.shape) === '[40,2]' &&
          (kind === 'model.json fields' || JSON.stringify(Array.from(prediction.dataSync())) === expectedPrediction);
        if (!same) failures.push(`#${k} (${kind}): loaded a model that differs from the original`);
      } catch (error) {
        counts.refused++;
        if (!isLoadError(error)) failures.push(`#${k} (${kind}): ${(error as Error).constructor.name}: ${(error as Error).message}`);
      }
      rssMax = Math.max(rssMax, process.memoryUsage().rss);
    }
    expect(failures).toEqual([]);
    expect(counts.loaded + counts.refused).toBe(1500);
    expect(counts.refused).toBeGreaterThan(1000); // most mutations must be caught…
    expect(counts.loaded).toBeGreaterThan(0); // …and harmless ones (whitespace) still load
    expect(rssMax - rssBefore).toBeLessThan(256 * 2 ** 20);
    console.log(`load fuzz: ${counts.loaded} loaded equal (${counts.craftedLoaded} of them crafted), ${counts.refused} refused; RSS grew by at most ${((rssMax - rssBefore) / 2 ** 20).toFixed(1)} MB`);
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}, 300_000);
