/**
 * Saving is atomic as a whole: a save killed at any moment leaves the old model or the new one; saves
 * into one folder run one at a time; what a killed save left behind is removed by the next one.
 */
import { promises as fs, existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { Random, setSeed } from '@gradlab/tensor';
import { layers } from '@gradlab/layers';
import { Sequential } from '../src/models/sequential.js';
import { load, MODEL_FILE } from '../src/models/save.js';
import { LOCK_FILE } from '../src/models/files.js';
import { model, values, readManifest, weightsPath } from './save-helpers.js';

let dir: string;
beforeEach(async () => { dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gradlab-atomic-')); });
afterEach(async () => { await fs.rm(dir, { recursive: true, force: true }); });

const SAVE_LOOP = path.join(__dirname, 'fixtures', 'save-loop.mjs');
const BUILT = path.join(__dirname, '..', 'dist', 'index.js');
/** 64 → 8,192 → BatchNorm → 10: about 2.5 MB of weights, as fixtures/save-loop.mjs builds it. */
const HIDDEN = 8192;

function savedModel(seed: number): Sequential {
  setSeed(seed);
  return new Sequential([
    layers.Dense(HIDDEN, { activation: 'relu', inputShape: [64] }),
    layers.BatchNormalization(),
    layers.Dense(10),
  ]);
}

/** Start the save loop (saving model `first` first), wait until it has built its models, let it save for `delayMs`, then SIGKILL it. */
async function killMidSave(delayMs: number, first: number): Promise<void> {
  const child = spawn(process.execPath, [SAVE_LOOP, dir, String(HIDDEN), String(first)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GRADLAB_THREADS: '1' } });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => { if (chunk.toString().includes('ready')) resolve(); });
    child.on('exit', (code) => reject(new Error(`save-loop.mjs exited (${code}) before it was ready: ${stderr}`)));
  });
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  child.kill('SIGKILL');
  await exited;
  if (stderr) throw new Error(`save-loop.mjs wrote to stderr: ${stderr}`);
}

test('a save killed at 60 random moments always leaves a folder that loads as the old model or the new', async () => {
  expect(existsSync(BUILT)).toBe(true); // the child runs dist/: run `pnpm run build` first
  const candidates = [values(savedModel(1)), values(savedModel(2))];
  // How long one save takes here sets the range of kill moments: up to three saves' time, so that
  // kills strike every phase of the first save and of the ones after it.
  const first = savedModel(1);
  await first.save(dir); // once to warm up, then timed
  const started = Date.now();
  await first.save(dir);
  const saveMs = Date.now() - started;
  const rng = new Random(16);
  let leftBehind = 0;
  const seen = [0, 0];
  for (let kill = 0; kill < 60; kill++) {
    await killMidSave(Math.floor(rng.uniform(0, 3 * saveMs + 10)), kill % 2);
    const names = await fs.readdir(dir);
    if (names.length > 2) leftBehind++; // a lock, a temporary or an unnamed weights file: the kill struck mid-save
    const loaded = values(await load(dir));
    const which = candidates.findIndex((c) => JSON.stringify(c) === JSON.stringify(loaded));
    expect(which).toBeGreaterThanOrEqual(0);
    seen[which]++;
  }
  console.log(`save kill test: one save took ${saveMs} ms; ${leftBehind} of 60 kills struck mid-save; ` +
    `the folder loaded as model 1 ${seen[0]} times, as model 2 ${seen[1]} times`);
  // The kills did strike inside saves, and both models were committed at some point.
  expect(leftBehind).toBeGreaterThan(10);
  expect(seen[0]).toBeGreaterThan(0);
  expect(seen[1]).toBeGreaterThan(0);
  // The next save clears what the killed ones left: one model.json, one weights file.
  await savedModel(2).save(dir);
  expect((await fs.readdir(dir)).sort()).toEqual([MODEL_FILE, path.basename(await weightsPath(dir))]);
}, 300_000);

test('saves into one folder at once (Promise.all) run one after another; the last one called wins', async () => {
  const models = [1, 2, 3, 4].map((seed) => model(8, seed));
  await Promise.all(models.map((m) => m.save(dir)));
  expect(values(await load(dir))).toEqual(values(models[3]));
  expect((await fs.readdir(dir)).sort()).toEqual([MODEL_FILE, path.basename(await weightsPath(dir))]);
});

test('a save while another live process holds the folder is refused, naming that process; the old model stays', async () => {
  const first = model(8, 1);
  await first.save(dir);
  await fs.writeFile(path.join(dir, LOCK_FILE), `${process.ppid} 0\n`); // a live process (jest's parent)
  await expect(model(8, 2).save(dir)).rejects.toThrow(new RegExp(`save \\(model '.*'\\): .* is being saved by process ${process.ppid} right now \\(lock file .*${LOCK_FILE.replace('.', '\\.')}\\)`));
  expect(values(await load(dir))).toEqual(values(first));
});

test('a lock left by a process that died mid-save is taken over', async () => {
  const dead = spawnSync(process.execPath, ['-e', '']).pid;
  await fs.writeFile(path.join(dir, LOCK_FILE), `${dead} 0\n`);
  const second = model(8, 2);
  await second.save(dir);
  expect(values(await load(dir))).toEqual(values(second));
  expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false);
});

test('the next save removes what killed saves left (temporaries, unnamed weights files) and nothing else', async () => {
  await model(8, 1).save(dir);
  const leftovers = ['weights.bin.tmp-4242-kx3f9a1b', 'model.json.tmp-4242-kx3f9a2c', 'weights-kx3f9a3d.bin', `${LOCK_FILE}.tmp-4242-kx3f9a4e`];
  for (const name of leftovers) await fs.writeFile(path.join(dir, name), Buffer.alloc(1000));
  await fs.writeFile(path.join(dir, 'notes.txt'), 'mine');
  await model(8, 2).save(dir);
  expect((await fs.readdir(dir)).sort()).toEqual([MODEL_FILE, path.basename(await weightsPath(dir)), 'notes.txt'].sort());
});

test('a folder saved before saves became atomic (weights.bin, no checksum) still loads, and the next save replaces it', async () => {
  const old = model(8, 1);
  await old.save(dir);
  const manifest = await readManifest(dir);
  await fs.rename(await weightsPath(dir), path.join(dir, 'weights.bin'));
  delete manifest.checksum;
  manifest.weights.file = 'weights.bin';
  await fs.writeFile(path.join(dir, MODEL_FILE), JSON.stringify(manifest, null, 1));
  expect(values(await load(dir))).toEqual(values(old));
  await model(8, 2).save(dir);
  expect((await fs.readdir(dir)).sort()).toEqual([MODEL_FILE, path.basename(await weightsPath(dir))]);
});

test('a save that commits between a load reading model.json and reading its weights: the load reads again, gets the new model', async () => {
  const [first, second] = [model(8, 1), model(8, 2)];
  await first.save(dir);
  const oldWeights = await weightsPath(dir);
  // Hold the load just as it turns to the weights file that model.json named, and save meanwhile.
  const realpath = fs.realpath.bind(fs);
  let savedMeanwhile = false;
  const spy = jest.spyOn(fs, 'realpath').mockImplementation((async (p: string) => {
    if (!savedMeanwhile && p === oldWeights) {
      savedMeanwhile = true;
      await second.save(dir); // commits, then removes the weights file the load is about to read
    }
    return realpath(p);
  }) as never);
  try {
    const loaded = await load(dir);
    expect(savedMeanwhile).toBe(true);
    expect(values(loaded)).toEqual(values(second));
  } finally {
    spy.mockRestore();
  }
});
