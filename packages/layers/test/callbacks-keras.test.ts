/** Keras's callbacks: schedules, checkpoints (atomic), backup and restore, the CSV log, BatchNorm recalibration. */
import { promises as fs, existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { Random, Tensor, fromTypedArray } from '@gradlab/tensor';
import { asVariable } from '@gradlab/autograd';
import { callbacks, layers } from '@gradlab/layers';
import { Sequential } from '../src/models/sequential.js';
import { load } from '../src/models/save.js';
import { SGD } from '../src/optimizers/index.js';
import { Dataset } from '../src/data/dataset.js';
import { data, model, values } from './save-helpers.js';

let dir: string;
beforeEach(async () => { dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gradlab-callbacks-')); });
afterEach(async () => { await fs.rm(dir, { recursive: true, force: true }); jest.restoreAllMocks(); });

function compiled(seed = 1, lr = 0.05): Sequential {
  const m = model(8, seed);
  m.compile({ optimizer: new SGD({ lr }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  return m;
}

/** A callback that keeps each epoch's weights (the values at the end of the epoch). */
function weightsPerEpoch(): { kept: number[][][]; callback: callbacks.LambdaCallback; m?: Sequential } {
  const kept: number[][][] = [];
  const rec = { kept, callback: new callbacks.LambdaCallback({}) } as { kept: number[][][]; callback: callbacks.LambdaCallback; m?: Sequential };
  rec.callback = new callbacks.LambdaCallback({ onEpochEnd: () => { kept.push(values(rec.m!)); } });
  return rec;
}

test('LearningRateScheduler sets each epoch\'s rate from schedule(epoch, lr) and logs it', async () => {
  const { x, y } = data(32);
  const m = compiled();
  const seen: number[] = [];
  const spy = new callbacks.LambdaCallback({ onBatchBegin: () => { seen.push(m.optimizer!.lr); } });
  const h = await m.fit(x, y, { epochs: 3, batchSize: 16, verbose: 0, callbacks: [new callbacks.LearningRateScheduler((epoch) => 0.1 * 0.5 ** epoch), spy] });
  expect(seen).toEqual([0.1, 0.1, 0.05, 0.05, 0.025, 0.025]);
  expect(h.history.learning_rate).toEqual([0.1, 0.05, 0.025]);
  await expect(compiled().fit(x, y, { verbose: 0, callbacks: [new callbacks.LearningRateScheduler(() => -1)] }))
    .rejects.toThrow(/LearningRateScheduler: schedule\(0, 0.05\) returned -1; it must return a positive finite number/);
});

test('ReduceLROnPlateau: patience, factor, cooldown and minLr, as Keras counts them', () => {
  const optimizer = { lr: 1 };
  const cb = new callbacks.ReduceLROnPlateau({ factor: 0.5, patience: 2, cooldown: 1, minLr: 0.2 });
  cb.setModel({ stopTraining: false, stateDict: () => new Map(), loadStateDict: () => undefined, optimizer });
  cb.onTrainBegin();
  const losses = [1, 0.9, 0.95, 0.93, 0.8, 0.85, 0.86, 0.87, 0.88, 0.89, 0.9, 0.91];
  const logged: number[] = [];
  const after: number[] = [];
  losses.forEach((v, e) => { const logs: Record<string, number> = { val_loss: v }; cb.onEpochEnd(e, logs); logged.push(logs.learning_rate as number); after.push(optimizer.lr); });
  // Keras's order: a cooldown epoch first counts the cooldown down (and clears wait), then counts itself
  // if the cooldown is over. e2, e3 do not improve on 0.9: reduce at e3; e4 (cooldown, improves); e5,
  // e6: reduce at e6; e7 (cooldown ends, counts 1), e8: reduce at e8 to max(0.125, 0.2) = 0.2; the floor holds.
  expect(after).toEqual([1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2, 0.2, 0.2]);
  expect(logged).toEqual([1, 1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2, 0.2]);
  expect(() => new callbacks.ReduceLROnPlateau({ factor: 1 })).toThrow(/factor must be in \(0, 1\), got 1/);
});

test('formatCheckpointPath fills Keras\'s templates', () => {
  expect(callbacks.formatCheckpointPath('ck/e{epoch:02d}-{val_loss:.3f}', 4, { val_loss: 0.123456 })).toBe('ck/e05-0.123');
  expect(callbacks.formatCheckpointPath('ck/{epoch}', 0, {})).toBe('ck/1');
  expect(() => callbacks.formatCheckpointPath('ck/{val_acc}', 0, { loss: 1 })).toThrow(/names 'val_acc', which is not in the logs \(available: epoch, loss\)/);
});

test('ModelCheckpoint saves every epoch into its templated folder, or only improvements with saveBestOnly', async () => {
  const { x, y } = data(48);
  const m = compiled();
  const rec = weightsPerEpoch();
  rec.m = m;
  const every = new callbacks.ModelCheckpoint(path.join(dir, 'all', 'epoch-{epoch:02d}'), { monitor: 'loss' });
  await m.fit(x, y, { epochs: 3, batchSize: 16, verbose: 0, callbacks: [rec.callback, every] });
  expect(every.saved.map((d) => path.basename(d))).toEqual(['epoch-01', 'epoch-02', 'epoch-03']);
  for (const [e, d] of every.saved.entries()) expect(values(await load(d))).toEqual(rec.kept[e]);

  // saveBestOnly on a value we control: a metric logged by a callback before the checkpoint.
  const scores = [0.5, 0.7, 0.6, 0.9];
  const score = new callbacks.LambdaCallback({ onEpochEnd: (e, logs) => { logs.score = scores[e]; } });
  const m2 = compiled(2);
  const rec2 = weightsPerEpoch();
  rec2.m = m2;
  const best = new callbacks.ModelCheckpoint(path.join(dir, 'best'), { monitor: 'score', mode: 'max', saveBestOnly: true });
  await m2.fit(x, y, { epochs: 4, batchSize: 16, verbose: 0, callbacks: [score, rec2.callback, best] });
  expect(best.saved.length).toBe(3); // epochs 1, 2 and 4 improve
  expect(best.best).toBe(0.9);
  expect(values(await load(path.join(dir, 'best')))).toEqual(rec2.kept[3]);
});

test('ModelCheckpoint is atomic: killed mid-save, the folder loads as the previous best or the one being saved', async () => {
  const built = path.join(__dirname, '..', 'dist', 'index.js');
  expect(existsSync(built)).toBe(true); // the child runs dist/: run `pnpm run build` first
  const script = path.join(__dirname, 'fixtures', 'checkpoint-loop.mjs');
  const rng = new Random(12);
  for (let kill = 0; kill < 6; kill++) {
    const child = spawn(process.execPath, [script, dir, '4096'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GRADLAB_THREADS: '1' } });
    let out = '';
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    // Wait for a first completed save, then kill at a random moment of the saves that follow.
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => { out += c.toString(); if (/\nsaved /.test(out) || out.startsWith('saved ')) resolve(); });
      child.on('exit', (code) => reject(new Error(`checkpoint-loop.mjs exited (${code}): ${stderr}`)));
    });
    await new Promise((resolve) => setTimeout(resolve, Math.floor(rng.uniform(0, 60))));
    child.kill('SIGKILL');
    await exited;
    expect(stderr).toBe('');
    const announced = [...out.matchAll(/^saving (\S+)$/gm)].map((m) => Number(m[1]));
    const loaded = await load(dir);
    const sum = [...loaded.stateDict().values()].reduce((a, t) => a + Array.from(t.dataSync()).reduce((s, v) => s + v, 0), 0);
    // The folder holds one of the last two checkpoints announced (the last completed or the one in flight).
    expect(announced.slice(-2).some((s) => Math.abs(s - sum) <= 1e-9 * Math.max(1, Math.abs(s)))).toBe(true);
  }
}, 300_000);

test('BackupAndRestore: an interrupted run, started again, resumes after its last finished epoch with its weights', async () => {
  const { x, y } = data(48);
  const options = { epochs: 4, batchSize: 16, shuffle: false, verbose: 0 as const };
  const whole = compiled(1);
  await whole.fit(x, y, options);

  const backupDir = path.join(dir, 'backup');
  const interrupted = compiled(1);
  const crash = new callbacks.LambdaCallback({ onEpochEnd: (e) => { if (e === 1) throw new Error('power cut'); } });
  await expect(interrupted.fit(x, y, { ...options, callbacks: [new callbacks.BackupAndRestore(backupDir), crash] })).rejects.toThrow('power cut');
  expect(JSON.parse(await fs.readFile(path.join(backupDir, 'backup.json'), 'utf8'))).toEqual({ epoch: 1, folder: 'epoch-1' });
  expect(await fs.readdir(backupDir)).toEqual(expect.arrayContaining(['backup.json', 'epoch-1']));
  expect(await fs.readdir(backupDir)).not.toContain('epoch-0'); // the older backup is removed

  const resumed = compiled(7); // other initial weights: the backup's must replace them
  const epochs: number[] = [];
  const h = await resumed.fit(x, y, { ...options, callbacks: [new callbacks.BackupAndRestore(backupDir), new callbacks.LambdaCallback({ onEpochBegin: (e) => { epochs.push(e); } })] });
  expect(epochs).toEqual([2, 3]);
  expect(h.epoch).toEqual([2, 3]);
  // SGD without momentum keeps no state and shuffle is off, so the resumed run ends where the whole one did.
  expect(values(resumed)).toEqual(values(whole));
  expect(existsSync(backupDir)).toBe(false); // training completed: the backup is deleted
});

test('BackupAndRestore restores Adam\'s moments and step count: the resumed run ends where the whole one did', async () => {
  const { x, y } = data(48);
  const adam = (seed: number): Sequential => {
    const m = model(8, seed);
    m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy' });
    return m;
  };
  const options = { epochs: 3, batchSize: 16, shuffle: false, verbose: 0 as const };
  const whole = adam(1);
  await whole.fit(x, y, options);
  const backupDir = path.join(dir, 'backup-adam');
  const crash = new callbacks.LambdaCallback({ onEpochEnd: (e) => { if (e === 0) throw new Error('killed'); } });
  await expect(adam(1).fit(x, y, { ...options, callbacks: [new callbacks.BackupAndRestore(backupDir), crash] })).rejects.toThrow('killed');
  const resumed = adam(5);
  await resumed.fit(x, y, { ...options, callbacks: [new callbacks.BackupAndRestore(backupDir)] });
  expect(resumed.optimizer!.iterations).toBe(whole.optimizer!.iterations);
  expect(values(resumed)).toEqual(values(whole));
});

test('CSVLogger writes a header and one row per epoch, as each epoch ends', async () => {
  const { x, y } = data(32);
  const file = path.join(dir, 'log.csv');
  const rows: string[] = [];
  const peek = new callbacks.LambdaCallback({ onEpochEnd: async () => { rows.push(await fs.readFile(file, 'utf8')); } });
  const h = await compiled().fit(x, y, { epochs: 2, batchSize: 16, verbose: 0, validationSplit: 0.25, callbacks: [new callbacks.CSVLogger(file), peek] });
  const text = await fs.readFile(file, 'utf8');
  const lines = text.trim().split('\n');
  expect(lines[0]).toBe('epoch,accuracy,loss,val_accuracy,val_loss');
  expect(lines[2]).toBe(['1', h.history.accuracy[1], h.history.loss[1], h.history.val_accuracy[1], h.history.val_loss[1]].map(String).join(','));
  expect(rows[0].trim().split('\n').length).toBe(2); // written at the end of epoch 1 already
  await compiled().fit(x, y, { epochs: 1, batchSize: 16, verbose: 0, callbacks: [new callbacks.CSVLogger(file, { append: true })] });
  expect((await fs.readFile(file, 'utf8')).trim().split('\n').length).toBe(4);
});

test('BatchNormRecalibration sets the moving statistics to the plain mean of N batches\' statistics, before validation', async () => {
  const { x, y } = data(64);
  const m = compiled();
  const train = Dataset.fromTensorSlices(x, y).batch(16);
  const batches = await train.take(3).toArray();
  let movingAtValidation: number[] = [];
  const recal = new callbacks.BatchNormRecalibration(train, 3);
  const watch = new callbacks.LambdaCallback({ onEpochEnd: () => { movingAtValidation = Array.from(m.stateDict().get(`${m.layers[1].name}.movingMean`)!.dataSync()); } });
  await m.fit(train, { epochs: 1, verbose: 0, callbacks: [recal, watch] });
  // Independently: the BN input of each batch is Dense(8, relu) of x; its batch mean, averaged over 3 batches.
  const dense = m.layers[0];
  const means = batches.map((b) => {
    const h = dense.apply(asVariable(b.x)).data;
    const v = h.dataSync();
    return Array.from({ length: 8 }, (_, c) => { let s = 0; for (let r = 0; r < h.shape[0]; r++) s += v[r * 8 + c]; return s / h.shape[0]; });
  });
  const expected = Array.from({ length: 8 }, (_, c) => (means[0][c] + means[1][c] + means[2][c]) / 3);
  movingAtValidation.forEach((v, c) => expect(v).toBeCloseTo(expected[c], 5));
  expect((m.layers[1] as unknown as { momentum: number }).momentum).toBe(0.99); // put back
  expect(() => new callbacks.BatchNormRecalibration(train, -1)).toThrow(/batches must be a non-negative integer, got -1/);
});

test('a plain object with hooks is a callback', async () => {
  const { x, y } = data(16);
  const calls: string[] = [];
  await compiled().fit(x, y, { epochs: 1, batchSize: 16, verbose: 0, callbacks: [{ onTrainBegin: () => { calls.push('begin'); }, onEpochEnd: (e: number) => { calls.push(`epoch ${e}`); }, onTrainEnd: () => { calls.push('end'); } }] });
  expect(calls).toEqual(['begin', 'epoch 0', 'end']);
  void Tensor; void fromTypedArray; void layers;
});
