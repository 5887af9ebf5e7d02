// The memory-bound CPU kernels of the image model's training step (issue 13), at the profile's shapes
// (batch 32, 64×64×3 → Conv2D 32 → BN → MaxPool 2 → Conv2D 64 → BN → MaxPool 2 → Dense 128 → BN → Dense 10,
// Adam): max pooling forward and backward, the bias gradients' sum over all axes but the last, reluGrad
// and Adam's update of the [12544, 128] Dense weight (plus all 14 of the model's Adam updates together).
//
// Before and after in one process: the kernels of this checkout's build (packages/tensor/dist) against
// those of an older build given by --before=DIR (a dist folder under packages/tensor, so that its imports
// resolve; default packages/tensor/.tmp/before-dist, built from commit C in packages/tensor by
//   mkdir -p .tmp/base && git archive C src | tar -x -C .tmp/base &&
//   sed 's#"../../tsconfig#"../../../../tsconfig#' tsconfig.json > .tmp/base/tsconfig.json &&
//   npx tsc -p .tmp/base && mv .tmp/base/dist .tmp/before-dist
// ). Without one, only "after" is measured. The two are
// measured alternately (A, B, A, B), each figure the median of every run of both rounds, so that a change
// in the machine's load hits both alike. Each kernel call runs inside recycleAfter, as in a training step:
// its output arrays go back to the pool and the next call gets them again (zero-filled), instead of fresh
// 16 MB arrays whose page faults would cost 4× the kernel itself. The results of both builds are compared
// bit for bit ("identical").
// Run: pnpm run build && node bench/kernels-memory.mjs [--before=DIR] [--runs=7] [--no-save]
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeMachine, finish, measure, median, round } from './lib/timing.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = Object.fromEntries(process.argv.slice(2).map((a) => { const [k, v = 'true'] = a.replace(/^--/, '').split('='); return [k, v]; }));
const runs = Number(args.runs ?? 7);
const beforeDir = path.resolve(args.before ?? path.join(ROOT, 'packages/tensor/.tmp/before-dist'));

const after = await import(pathToFileURL(path.join(ROOT, 'packages/tensor/dist/index.js')).href);
const before = existsSync(path.join(beforeDir, 'index.js')) ? await import(pathToFileURL(path.join(beforeDir, 'index.js')).href) : null;
const builds = before ? { before, after } : { after };

/** The same values as a tensor of each build (seeded, so every run of the script sees the same data). */
function shared(shape, { relu = false, scale = 1, seed = 1 } = {}) {
  const values = after.randn(shape, { seed }).dataSync().map((v) => (relu ? Math.max(v, 0) : v) * scale);
  return Object.fromEntries(Object.entries(builds).map(([name, lib]) => [name, lib.tensor(values, { shape })]));
}

const adamHyper = { lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step: 3 };
/** The image model's parameters, as Adam sees them (kernel and bias of each layer, BatchNorm's γ and β). */
const PARAMETER_SHAPES = [[3, 3, 3, 32], [32], [32], [32], [3, 3, 32, 64], [64], [64], [64], [12544, 128], [128], [128], [128], [128, 10], [10]];
const adamOperands = (shape, seed) => ({ w: shared(shape, { seed, scale: 0.05 }), g: shared(shape, { seed: seed + 1, scale: 1e-3 }), m: shared(shape, { seed: seed + 2, scale: 1e-4 }), v: shared(shape, { seed: seed + 3, scale: 1e-3 }) });

/** Each case: name, and run(lib, build) → the result tensors (whose values are compared across builds). */
function cases() {
  const list = [];
  for (const [N, H, C] of [[32, 62, 32], [32, 29, 64]]) {
    const x = shared([N, H, H, C], { seed: H });
    const info = after.pool2dInfo('maxPool2d', [N, H, H, C], { poolSize: 2 });
    const OH = info.outHeight;
    const dy = shared([N, OH, OH, C], { seed: H + 1 });
    list.push({ name: `maxPool2d x[${N},${H},${H},${C}]`, run: (lib, b) => [lib.getBackend('cpu').maxPool2d(x[b], info)] });
    list.push({ name: `maxPool2dBackward dy[${N},${OH},${OH},${C}] → [${N},${H},${H},${C}]`, run: (lib, b) => [lib.getBackend('cpu').maxPool2dBackward(dy[b], x[b], info)] });
  }
  for (const [N, H, C] of [[32, 62, 32], [32, 29, 64]]) {
    const x = shared([N, H, H, C], { seed: 7 + H });
    list.push({ name: `reduce.sum [${N},${H},${H},${C}] over axes 0,1,2`, run: (lib, b) => [lib.getBackend('cpu').reduce('sum', x[b], [0, 1, 2])] });
  }
  for (const [N, H, C] of [[32, 62, 32], [32, 29, 64]]) {
    const dy = shared([N, H, H, C], { seed: 11 + H }), y = shared([N, H, H, C], { seed: 13 + H, relu: true });
    list.push({ name: `binary.reluGrad [${N},${H},${H},${C}]`, run: (lib, b) => [lib.getBackend('cpu').binary('reluGrad', dy[b], y[b], [N, H, H, C], 'float32')] });
  }
  for (const [N, H, C] of [[32, 62, 32], [32, 29, 64]]) {
    const x = shared([N, H, H, C], { seed: 17 + H, relu: true }), dy = shared([N, H, H, C], { seed: 19 + H, scale: 1e-3 });
    const gamma = shared([C], { seed: 23 + H }), beta = shared([C], { seed: 29 + H });
    const forward = (lib, b) => lib.getBackend('cpu').batchNormForward(x[b], gamma[b], beta[b], 1e-3, null);
    list.push({ name: `batchNormForward [${N},${H},${H},${C}]`, run: (lib, b) => Object.values(forward(lib, b)) });
    const saved = Object.fromEntries(Object.entries(builds).map(([b, lib]) => [b, forward(lib, b)]));
    list.push({ name: `batchNormBackward [${N},${H},${H},${C}]`, run: (lib, b) => Object.values(lib.getBackend('cpu').batchNormBackward(dy[b], saved[b].xHat, saved[b].invstd, gamma[b], null)) });
    list.push({ name: `mulAdd per channel [${N},${H},${H},${C}]`, run: (lib, b) => [lib.getBackend('cpu').mulAdd(x[b], gamma[b], beta[b], [N, H, H, C], 'float32')] });
  }
  const big = adamOperands([12544, 128], 20);
  const adam = (lib, b, o) => Object.values(lib.getBackend('cpu').adamUpdate(o.w[b], o.g[b], o.m[b], o.v[b], adamHyper));
  list.push({ name: 'adamUpdate [12544,128]', run: (lib, b) => adam(lib, b, big) });
  const all = PARAMETER_SHAPES.map((shape, k) => adamOperands(shape, 40 + 4 * k));
  list.push({ name: 'adamUpdate, all 14 parameters', run: (lib, b) => all.flatMap((o) => adam(lib, b, o)) });
  return list;
}

/** Whether two lists of tensors hold the same bits. */
function identical(xs, ys) {
  return xs.length === ys.length && xs.every((x, k) => {
    const a = x.dataSync(), b = ys[k].dataSync();
    if (a.length !== b.length) return false;
    const ab = new Uint8Array(a.buffer, a.byteOffset, a.byteLength), bb = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    return ab.every((v, i) => v === bb[i]);
  });
}

const result = { machine: describeMachine(), unit: 'ms, median of every run of two alternating rounds', runs_per_round: runs, before: before ? path.relative(ROOT, beforeDir) : null, kernels: {} };
for (const c of cases()) {
  const wall = Object.fromEntries(Object.keys(builds).map((b) => [b, []]));
  const cpu = Object.fromEntries(Object.keys(builds).map((b) => [b, []]));
  for (let round_ = 0; round_ < 2; round_++) {
    for (const [b, lib] of Object.entries(builds)) {
      // recycleAfter keeps nothing: every array the kernel allocated is handed out again on the next run
      const t = await measure(() => { lib.recycleAfter('bench', () => c.run(lib, b), () => []); }, { warmup: 3, warmupMs: 300, runs });
      wall[b].push(t.wall_ms); cpu[b].push(t.cpu_ms);
    }
  }
  const entry = {};
  for (const b of Object.keys(builds)) entry[b] = { wall_ms: round(median(wall[b]), 2), cpu_ms: round(median(cpu[b]), 2) };
  if (before) {
    entry.speedup = round(entry.before.wall_ms / entry.after.wall_ms, 2);
    entry.identical = identical(c.run(before, 'before'), c.run(after, 'after'));
  }
  result.kernels[c.name] = entry;
  process.stderr.write(`${c.name}: ${JSON.stringify(entry)}\n`);
}
if (before) {
  const sum = (b) => round(Object.values(result.kernels).filter((_, k, all) => k < all.length - 2 || k === all.length - 1).reduce((s, e) => s + e[b].wall_ms, 0), 1);
  result.total_ms = { before: sum('before'), after: sum('after'), note: 'pooling, sums, reluGrad, BatchNorm, mulAdd and the 14 Adam updates (the lone [12544,128] not counted twice)' };
}
finish('kernels-memory', result);
