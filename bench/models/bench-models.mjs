// Benchmark of the article's three models: gradlab against TensorFlow.js 4.22 (its pure-JS CPU backend and
// its WASM backend, SIMD on, one thread), at batch 32. Prints one JSON object on stdout:
//   for each model and framework, ms per training step (forward, backward and an Adam update, with the
//   model's loss: trainOnBatch) and ms per inference batch (predict), each the median of --steps steps
//   after --warmup unmeasured ones, timed by the wall clock and by the CPU time this process used;
//   peak memory; the ratios gradlab / tfjs; and whether the issue's targets are met.
//
// Each (model, framework, phase) runs in a fresh child process, so that one measurement's memory, JIT
// state and garbage do not leak into the next, and so that the peak memory is that measurement's own.
// Memory, per child: rss sampled every 10 ms by a worker thread (rss is the whole process's, so a worker
// sees the main thread's allocations), heapUsed and arrayBuffers sampled on the main thread between
// steps (and, for gradlab, also at the start of backward, when the whole graph is alive), and the kernel's
// own peak-rss record (VmHWM) at the end. Tensor data (Float32Arrays, WASM memory) is outside heapUsed,
// so rss is the figure to compare.
//
// The machine is shared: the 1-minute load average is recorded at the start and end of every child. Where
// the load is above the number of cores, wall times are inflated; CPU times much less so.
//
// Run: pnpm run bench:models (builds first), or after a build:
//   node bench/models/bench-models.mjs [--models image,speech,text] [--steps 5] [--warmup 2]
//     [--backends gradlab,tfjs-wasm,tfjs-cpu] [--phases train,predict] [--tfjs-cpu-image-train] [--no-save]
//     [--batch 32] [--seq T] (T: the sequence length of the speech and text models, 50 and 40 by default)
// The JSON is also saved as bench/results/<date>-<machine>/models.json unless --no-save.
// --tfjs-cpu-image-train includes TensorFlow.js's CPU backend training the image model, off by default:
// it takes about 100 s per step.
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { describeMachine, finish, loadAverage, median, round as roundTo } from '../lib/timing.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BATCH = 32; // --batch changes it
const ALL_MODELS = ['image', 'speech', 'text'];
const ALL_BACKENDS = ['gradlab', 'tfjs-wasm', 'tfjs-cpu'];
const ALL_PHASES = ['train', 'predict'];

/** TensorFlow.js 4.22 on this 2-core machine, ms, as issue 3 quotes them (for context only). */
const ISSUE_REFERENCE_MS = {
  image: { train: { 'tfjs-cpu': 100000, 'tfjs-wasm': 'cannot train (no Conv2DBackpropFilter kernel)' }, predict: { 'tfjs-wasm': 74, 'tfjs-cpu': 1546 } },
  speech: { train: { 'tfjs-cpu': 2253, 'tfjs-wasm': 640 }, predict: { 'tfjs-wasm': 63 } },
  text: { train: { 'tfjs-cpu': 6900, 'tfjs-wasm': 2100 }, predict: { 'tfjs-wasm': 271 } },
};

const round = (x, digits = 1) => roundTo(x, digits);
const mb = (bytes) => round(bytes / 2 ** 20, 1);
const load1 = () => loadAverage()[0];

function parseFlags(argv) {
  const flags = { models: ALL_MODELS, backends: ALL_BACKENDS, phases: ALL_PHASES, steps: 5, warmup: 2, budgetS: 90, tfjsCpuImageTrain: false, child: null, batch: BATCH, seq: null };
  const list = (value, allowed, name) => {
    const items = value.split(',').map((s) => s.trim()).filter(Boolean);
    for (const item of items) if (!allowed.includes(item)) throw new Error(`bench-models: --${name} ${item}: expected some of ${allowed.join(',')}`);
    return items;
  };
  const count = (value, name, min) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new Error(`bench-models: --${name} ${value}: expected an integer ≥ ${min}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [key, inline] = arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const value = () => inline ?? argv[++i] ?? '';
    switch (key) {
      case '--models': flags.models = list(value(), ALL_MODELS, 'models'); break;
      case '--backends': flags.backends = list(value(), ALL_BACKENDS, 'backends'); break;
      case '--phases': flags.phases = list(value(), ALL_PHASES, 'phases'); break;
      case '--steps': flags.steps = count(value(), 'steps', 1); break;
      case '--warmup': flags.warmup = count(value(), 'warmup', 0); break;
      case '--budget-s': flags.budgetS = count(value(), 'budget-s', 1); break;
      case '--batch': flags.batch = count(value(), 'batch', 1); break;
      case '--seq': flags.seq = count(value(), 'seq', 1); break;
      case '--tfjs-cpu-image-train': flags.tfjsCpuImageTrain = true; break;
      case '--no-save': break; // read by finish()
      case '--child': flags.child = JSON.parse(value()); break;
      case '--help': case '-h':
        console.error('usage: node bench/models/bench-models.mjs [--models image,speech,text] [--steps N] [--warmup N] ' +
          '[--backends gradlab,tfjs-wasm,tfjs-cpu] [--phases train,predict] [--budget-s S] [--tfjs-cpu-image-train] [--batch N] [--seq T] [--no-save]');
        process.exit(0);
        break;
      default: throw new Error(`bench-models: unknown flag ${arg} (try --help)`);
    }
  }
  return flags;
}

// ---- the child: one model, one framework, one phase ---------------------------------------------------

/** Peak resident set size so far, from the kernel (Linux), in bytes; null elsewhere. */
function rssHighWaterMark() {
  try {
    const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
    return line ? Number(line.split(/\s+/)[1]) * 1024 : null;
  } catch { return null; }
}

/** A worker thread that keeps the maximum rss (in KiB) it sees every 10 ms in a shared Int32Array. */
function startRssSampler() {
  const shared = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(`
    const { workerData } = require('node:worker_threads');
    let max = 0; // only this thread writes the slot, so a plain maximum then a store is enough
    setInterval(() => { max = Math.max(max, Math.round(process.memoryUsage.rss() / 1024)); Atomics.store(workerData, 0, max); }, 10);
  `, { eval: true, workerData: shared });
  worker.unref();
  return { peakBytes: () => Atomics.load(shared, 0) * 1024, stop: () => worker.terminate() };
}

/** Main-thread heap samples: call sample() at interesting moments, read the maxima at the end. */
function heapSampler() {
  const peak = { heapUsed: 0, arrayBuffers: 0 };
  return {
    sample() {
      const m = process.memoryUsage();
      peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
      peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers);
    },
    peak,
  };
}

/** Prepare model and batch for `backend`; returns { run } where run() performs one step of `phase`. */
async function prepare(modelName, backend, phase, heap, batch, seq) {
  if (backend === 'gradlab') {
    const { buildGradlabModel, gradlabBatch } = await import('./models-gradlab.mjs');
    const { Variable, setSeed } = await import('gradlab');
    setSeed(1);
    const model = buildGradlabModel(modelName);
    const { x, y } = gradlabBatch(modelName, batch, seq);
    // Sample the heap at the start of backward, when the forward graph is complete and alive.
    const backward = Variable.prototype.backward;
    Variable.prototype.backward = function (...args) { heap.sample(); return backward.apply(this, args); };
    return phase === 'train'
      ? { run: async () => { await model.trainOnBatch(x, y); } }
      : { run: async () => { (await model.predict(x)).dataSync(); } };
  }
  const { loadTfjs, buildTfjsModel, tfjsBatch } = await import('./models-tfjs.mjs');
  const tf = await loadTfjs(backend);
  const model = buildTfjsModel(tf, modelName);
  const { x, y } = tfjsBatch(tf, modelName, batch, seq);
  return phase === 'train'
    ? { run: async () => { await model.trainOnBatch(x, y); } }
    : { run: async () => { const out = model.predict(x); out.dataSync(); out.dispose(); } };
}

async function runChild({ model, backend, phase, steps, warmup, budgetS, batch = BATCH, seq = null }) {
  console.log = console.error; // stdout is the parent's; libraries' chatter goes to stderr
  const sampler = startRssSampler();
  const heap = heapSampler();
  const loadStart = load1();
  const result = { loadavg_1min: { start: loadStart } };
  try {
    const { run } = await prepare(model, backend, phase, heap, batch, seq);
    heap.sample();
    result.rss_after_build_mb = mb(process.memoryUsage.rss());
    // Warm-up steps are not measured (V8 optimises a function only after it has run a while; TensorFlow.js
    // compiles and caches kernels on first use). A slow combination (over 5 s a step) gets one warm-up
    // step, and the measured steps stop early, after at least 3, once they have used budgetS seconds.
    const wall = [], cpu = [];
    let warmups = 0, measuredSince = 0;
    while (wall.length < steps) {
      const cpuStart = process.cpuUsage(), start = performance.now();
      await run();
      const elapsed = performance.now() - start, used = process.cpuUsage(cpuStart);
      heap.sample();
      const warming = warmups < warmup && !(warmups >= 1 && elapsed > 5000);
      if (warming) warmups++;
      else { wall.push(elapsed); cpu.push((used.user + used.system) / 1000); measuredSince ||= start; }
      console.error(`  ${model} ${backend} ${phase} ${warming ? `warm-up ${warmups}` : `step ${wall.length}`}: ${elapsed.toFixed(0)} ms`);
      if (wall.length >= 3 && performance.now() - measuredSince > budgetS * 1000) break;
    }
    Object.assign(result, {
      wall_ms: round(median(wall)), cpu_ms: round(median(cpu)), min_wall_ms: round(Math.min(...wall)),
      steps: wall.length, warmup_steps: warmups, wall_ms_each: wall.map((t) => round(t)), cpu_ms_each: cpu.map((t) => round(t)),
    });
  } catch (error) {
    result.error = String(error?.message ?? error).split('\n')[0];
    console.error(`  ${model} ${backend} ${phase}: ${result.error}`);
  }
  result.memory = {
    rss_peak_mb: mb(sampler.peakBytes()), rss_hwm_mb: mb(rssHighWaterMark() ?? NaN),
    heap_used_peak_mb: mb(heap.peak.heapUsed), array_buffers_peak_mb: mb(heap.peak.arrayBuffers),
  };
  result.loadavg_1min.end = load1();
  await sampler.stop();
  return result;
}

// ---- the parent: every combination, each in its own child, then the ratios ----------------------------

function runInChild(job, resultDir) {
  const resultFile = path.join(resultDir, `${job.model}-${job.backend}-${job.phase}.json`);
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', JSON.stringify({ ...job, resultFile })], {
    stdio: ['ignore', 'inherit', 'inherit'], cwd: HERE,
  });
  try { return JSON.parse(readFileSync(resultFile, 'utf8')); } catch {
    return { error: `child process exited with status ${child.status}${child.signal ? ` (signal ${child.signal})` : ''} and no result` };
  }
}

/** The commit the gradlab build came from, and whether packages/ had uncommitted changes. */
function gitDescription() {
  const git = (...args) => spawnSync('git', args, { cwd: HERE, encoding: 'utf8' }).stdout?.trim() ?? '';
  const commit = git('rev-parse', '--short', 'HEAD');
  if (!commit) return 'unknown';
  return git('status', '--porcelain', '--', '../../packages') ? `${commit} with uncommitted changes in packages/` : commit;
}

/** Why a combination is not run, or null if it is. */
function skipReason(model, backend, phase, flags) {
  if (model === 'image' && backend === 'tfjs-cpu' && phase === 'train' && !flags.tfjsCpuImageTrain) {
    return 'skipped: TensorFlow.js CPU needs about 100 s per image training step; pass --tfjs-cpu-image-train to include it';
  }
  return null;
}

/** Ratios gradlab / tfjs and the issue's targets, judged on `key` (wall_ms or cpu_ms). */
function ratiosAndTargets(model, entry, key) {
  const ms = (backend, phase) => entry[backend]?.[phase]?.[key] ?? null;
  const ratio = (a, b) => (a !== null && b !== null ? round(a / b, 3) : null);
  const out = { ratios: {}, targets: {} };
  for (const phase of ALL_PHASES) {
    const gradlab = ms('gradlab', phase);
    const tfjs = ['tfjs-wasm', 'tfjs-cpu'].filter((b) => ms(b, phase) !== null);
    if (gradlab === null || tfjs.length === 0) continue;
    const fastest = tfjs.reduce((a, b) => (ms(a, phase) <= ms(b, phase) ? a : b));
    out.ratios[phase] = Object.fromEntries(tfjs.map((b) => [`gradlab/${b}`, ratio(gradlab, ms(b, phase))]));
    out.ratios[phase].fastest_tfjs = fastest;
    out.ratios[phase]['gradlab/fastest_tfjs'] = ratio(gradlab, ms(fastest, phase));
    // The targets: a training step at least twice as fast as the fastest tfjs backend that can train the
    // model; inference at least as fast as tfjs WASM; the image model's training step well under a second.
    if (phase === 'train') out.targets.train_at_least_2x_faster_than_fastest_tfjs = gradlab * 2 <= ms(fastest, phase);
    if (phase === 'predict' && ms('tfjs-wasm', phase) !== null) out.targets.predict_at_least_as_fast_as_tfjs_wasm = gradlab <= ms('tfjs-wasm', phase);
  }
  if (model === 'image' && ms('gradlab', 'train') !== null) out.targets.image_train_under_1000_ms = ms('gradlab', 'train') < 1000;
  return out;
}

async function runParent(flags) {
  const { version: tfjsVersion } = JSON.parse(readFileSync(path.join(HERE, 'node_modules/@tensorflow/tfjs/package.json'), 'utf8'));
  const { version: gradlabVersion } = JSON.parse(readFileSync(path.join(HERE, 'node_modules/gradlab/package.json'), 'utf8'));
  const gradlab = await import('gradlab');
  const report = {
    machine: describeMachine(),
    config: {
      batch: flags.batch, seq: flags.seq ?? 'speech 50, text 40', steps: flags.steps, warmup: flags.warmup, budget_s_per_measurement: flags.budgetS, models: flags.models, backends: flags.backends, phases: flags.phases,
      tfjs_cpu_image_train: flags.tfjsCpuImageTrain, gradlab: gradlabVersion, gradlab_source: gitDescription(),
      gradlab_threads: typeof gradlab.numThreads === 'function' ? gradlab.numThreads() : 1, tfjs: tfjsVersion,
      tfjs_wasm: 'SIMD, 1 thread', optimizer: 'Adam (lr 1e-3, β1 0.9, β2 0.999, ε 1e-7)',
      timing: 'wall_ms / cpu_ms: medians over the measured steps (wall clock; CPU time of the whole process, every thread). ' +
        'ratios: wall over wall; ratios_cpu: CPU over CPU, steadier on a loaded machine. TensorFlow.js runs on one thread here; ' +
        'gradlab splits large matmuls over gradlab_threads threads, so its cpu_ms can exceed its wall_ms',
    },
    models: {},
  };
  const resultDir = mkdtempSync(path.join(os.tmpdir(), 'bench-models-'));
  const started = performance.now();
  try {
    for (const model of flags.models) {
      const { MODELS } = await import('./models-gradlab.mjs');
      const entry = { input: [flags.batch, ...(flags.seq && model !== 'image' ? [flags.seq, ...MODELS[model].input.slice(1)] : MODELS[model].input)], loss: MODELS[model].loss, params: MODELS[model].params };
      for (const backend of flags.backends) {
        entry[backend] = {};
        for (const phase of flags.phases) {
          const reason = skipReason(model, backend, phase, flags);
          if (reason) { entry[backend][phase] = { skipped: reason }; continue; }
          console.error(`${model} / ${backend} / ${phase} (load ${load1()})`);
          entry[backend][phase] = runInChild({ model, backend, phase, steps: flags.steps, warmup: flags.warmup, budgetS: flags.budgetS, batch: flags.batch, seq: flags.seq }, resultDir);
        }
      }
      const byWall = ratiosAndTargets(model, entry, 'wall_ms'), byCpu = ratiosAndTargets(model, entry, 'cpu_ms');
      Object.assign(entry, { ratios: byWall.ratios, ratios_cpu: byCpu.ratios, targets: byWall.targets, targets_cpu: byCpu.targets });
      entry.issue_reference_ms = ISSUE_REFERENCE_MS[model];
      report.models[model] = entry;
    }
  } finally {
    rmSync(resultDir, { recursive: true, force: true });
  }
  report.machine.total_seconds = round((performance.now() - started) / 1000, 0);
  finish('models', report);
}

const flags = parseFlags(process.argv.slice(2));
if (flags.child) {
  const result = await runChild(flags.child);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(flags.child.resultFile, JSON.stringify(result));
  process.exit(0);
} else {
  await runParent(flags);
}
