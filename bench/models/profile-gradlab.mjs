// Where gradlab's time goes in the article's three models, batch 32: prints one JSON object.
//
// Instrumented mode (the default) wraps, on the running program, and times with performance.now():
//   - the phases of one training step: forward (from trainOnBatch's start to backward's start; this
//     includes the loss), backward, the optimizer's step, and the rest (metrics, loss.item());
//   - every top-level layer's forward (layer.apply);
//   - every autograd op's forward and backward (found by walking the recorded graph once, then wrapping
//     its definition: defineOp looks definition.forward / .backward up on every call);
//   - every backend kernel (getBackend('cpu').matmul, .binary, …), keyed by kernel and, for the
//     elementwise and reduction families, by op (binary.mul), with the shapes of the costliest calls;
//   - garbage-collection pauses (PerformanceObserver 'gc').
// Times nest (a layer runs ops, an op runs kernels); each entry gets its inclusive time and its self time
// (minus the timed entries inside it), so the self times add up to the step. Timers cost a little
// (a few µs a call); compare the instrumented step with the plain one printed beside it.
//
// --cpu-prof mode runs the same steps uninstrumented under `node --cpu-prof` and summarises the V8
// sampling profile by self time per function (file:line) and per file: what the JIT actually spends
// time in, including code no wrapper sees.
//
// Run after a build: node bench/models/profile-gradlab.mjs [--models image,speech,text] [--steps 3]
//   [--phases train,predict] [--cpu-prof] [--top 25] [--no-save]
// The JSON is also saved as bench/results/<date>-<machine>/profile.json (profile-cpu-prof.json with
// --cpu-prof) unless --no-save.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import * as gradlab from 'gradlab';
import { buildGradlabModel, gradlabBatch } from './models-gradlab.mjs';
import { cpuMs, describeMachine, finish, loadAverage, median, round as roundTo } from '../lib/timing.mjs';

const { Variable, getBackend, topologicalOrder, setSeed } = gradlab;
const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');
const BATCH = 32;
const round = (x, digits = 1) => roundTo(x, digits);

function parseFlags(argv) {
  const flags = { models: ['image', 'speech', 'text'], phases: ['train', 'predict'], steps: 3, warmup: 2, cpuProf: false, plain: false, top: 25 };
  for (let i = 0; i < argv.length; i++) {
    const [key, inline] = argv[i].includes('=') ? argv[i].split(/=(.*)/s, 2) : [argv[i], undefined];
    const value = () => inline ?? argv[++i] ?? '';
    if (key === '--models') flags.models = value().split(',');
    else if (key === '--phases') flags.phases = value().split(',');
    else if (key === '--steps') flags.steps = Number(value());
    else if (key === '--warmup') flags.warmup = Number(value());
    else if (key === '--top') flags.top = Number(value());
    else if (key === '--cpu-prof') flags.cpuProf = true;
    else if (key === '--no-save') continue; // read by finish()
    else if (key === '--plain') flags.plain = true; // internal: the uninstrumented run that --cpu-prof samples
    else throw new Error(`profile-gradlab: unknown flag ${argv[i]}`);
  }
  for (const m of flags.models) if (!['image', 'speech', 'text'].includes(m)) throw new Error(`profile-gradlab: unknown model ${m}`);
  if (!(flags.steps >= 1)) throw new Error('profile-gradlab: --steps must be ≥ 1');
  return flags;
}

// ---- nested timers --------------------------------------------------------------------------------

const cpuNow = cpuMs;

/**
 * Inclusive and self time per key, by the wall clock and by this process's CPU time (the CPU time is
 * what to read on a loaded machine: the wall clock also counts the time other processes had the core).
 * A stack of open timers subtracts children from their parent.
 */
class Timers {
  constructor() { this.stats = new Map(); this.stack = []; this.enabled = false; }
  reset() { this.stats.clear(); }
  /** Run fn() timed under `key`; detail() (shapes, and flops if known) is kept per distinct value. */
  time(key, fn, detail) {
    if (!this.enabled) return fn();
    const frame = { child: 0, childCpu: 0 };
    this.stack.push(frame);
    const start = performance.now(), startCpu = cpuNow();
    try { return fn(); } finally {
      const elapsed = performance.now() - start, elapsedCpu = cpuNow() - startCpu;
      this.stack.pop();
      const parent = this.stack[this.stack.length - 1];
      if (parent) { parent.child += elapsed; parent.childCpu += elapsedCpu; }
      let s = this.stats.get(key);
      if (!s) { s = { incl: 0, self: 0, selfCpu: 0, calls: 0, details: new Map() }; this.stats.set(key, s); }
      s.incl += elapsed; s.self += elapsed - frame.child; s.selfCpu += elapsedCpu - frame.childCpu; s.calls++;
      if (detail !== undefined) {
        const { shape, flops = 0 } = detail();
        const d = s.details.get(shape) ?? { cpu: 0, calls: 0, flops: 0 };
        d.cpu += elapsedCpu - frame.childCpu; d.calls++; d.flops += flops;
        s.details.set(shape, d);
      }
    }
  }
  /** The entries sorted by self CPU time, per step; pct is of the step's CPU time. */
  table(steps, totalCpu, top) {
    return [...this.stats.entries()]
      .map(([key, s]) => ({
        key, self_cpu_ms: round(s.selfCpu / steps), self_ms: round(s.self / steps), incl_ms: round(s.incl / steps),
        calls: round(s.calls / steps, 1), self_cpu_pct: round((100 * s.selfCpu) / steps / totalCpu),
        ...(s.details.size > 0 ? {
          by_shape: [...s.details.entries()].sort((a, b) => b[1].cpu - a[1].cpu).slice(0, 5)
            .map(([shape, d]) => ({
              shape, self_cpu_ms: round(d.cpu / steps), calls: round(d.calls / steps, 1),
              ...(d.flops > 0 && d.cpu > 0 ? { gflops_cpu: round(d.flops / (d.cpu * 1e6), 2) } : {}),
            })),
        } : {}),
      }))
      .sort((a, b) => b.self_cpu_ms - a.self_cpu_ms)
      .slice(0, top);
  }
}

const shapeOf = (t) => (t && Array.isArray(t.shape) ? `[${t.shape.join(',')}]` : '');
const product = (xs) => xs.reduce((a, b) => a * b, 1);

/** Floating-point operations of the kernels whose count is well defined (multiply-adds count 2). */
function kernelFlops(name, args) {
  if (name === 'matmul') { const [a, , outShape] = args; return 2 * product(outShape) * a.shape[a.rank - 1]; }
  if (name.startsWith('conv2d')) {
    const info = args[2];
    return 2 * info.batch * info.outHeight * info.outWidth * info.outChannels * info.filterHeight * info.filterWidth * info.inChannels;
  }
  return 0;
}

/** Wrap every kernel of the CPU backend. */
function instrumentBackend(timers) {
  const backend = getBackend('cpu');
  const byOp = new Set(['unary', 'binary', 'reduce', 'argReduce']);
  for (const name of Object.keys(backend)) {
    const kernel = backend[name];
    if (typeof kernel !== 'function') continue;
    const shapes = (args) => args.filter((a) => a?.shape).map(shapeOf).join(' ');
    backend[name] = byOp.has(name)
      ? (op, ...args) => timers.time(`kernel ${name}.${op}`, () => kernel(op, ...args), () => ({ shape: shapes(args) }))
      : (...args) => timers.time(`kernel ${name}`, () => kernel(...args), () => ({ shape: shapes(args), flops: kernelFlops(name, args) }));
  }
}

/** Wrap the forward and backward of every op in the graph below `root` (each definition once). */
function instrumentOps(root, timers, seen) {
  for (const v of topologicalOrder(root)) {
    const node = v.gradFn;
    if (!node || seen.has(node.definition)) continue;
    seen.add(node.definition);
    const def = node.definition, op = node.op;
    const forward = def.forward, backward = def.backward;
    def.forward = (ctx, inputs, attrs) => timers.time(`op ${op}.forward`, () => forward.call(def, ctx, inputs, attrs), () => ({ shape: inputs.map(shapeOf).join(' ') }));
    def.backward = (ctx, dy, attrs) => timers.time(`op ${op}.backward`, () => backward.call(def, ctx, dy, attrs), () => ({ shape: `dy ${shapeOf(dy)}` }));
  }
}

/** Wrap model.trainOnBatch's phases: timestamps at backward's and the optimizer's entry and exit. */
function instrumentModel(model, timers, marks, seenOps) {
  for (const layer of model.layers) {
    const apply = layer.apply.bind(layer);
    const key = `layer ${layer.name} (${layer.constructor.name})`;
    layer.apply = (...args) => timers.time(key, () => apply(...args));
  }
  const backward = Variable.prototype.backward;
  Variable.prototype.backward = function (...args) {
    if (seenOps) instrumentOps(this, timers, seenOps);
    marks.backwardStart = performance.now(); marks.backwardStartCpu = cpuNow();
    try { return timers.time('backward (engine walk)', () => backward.apply(this, args)); } finally { marks.backwardEnd = performance.now(); marks.backwardEndCpu = cpuNow(); }
  };
  const optimizer = model.optimizer;
  const step = optimizer.step.bind(optimizer);
  optimizer.step = () => {
    marks.stepStart = performance.now(); marks.stepStartCpu = cpuNow();
    try { return timers.time('optimizer.step (Adam)', step); } finally { marks.stepEnd = performance.now(); marks.stepEndCpu = cpuNow(); }
  };
}

/** Sum of GC pauses (ms) reported between two calls of take(). */
function gcMeter() {
  let total = 0, count = 0;
  const observer = new PerformanceObserver((list) => { for (const e of list.getEntries()) { total += e.duration; count++; } });
  observer.observe({ entryTypes: ['gc'] });
  return {
    async take() { await new Promise((r) => setTimeout(r, 20)); const out = { ms: total, count }; total = 0; count = 0; return out; },
    stop() { observer.disconnect(); },
  };
}

async function profileModel(name, flags) {
  setSeed(1);
  const model = buildGradlabModel(name);
  const { x, y } = gradlabBatch(name, BATCH);
  const result = { model: name, batch: BATCH };
  const train = () => model.trainOnBatch(x, y);
  const predict = async () => (await model.predict(x)).dataSync();

  // Plain (uninstrumented) timings first, for comparison with the instrumented ones.
  const plain = {};
  for (const phase of flags.phases) {
    const run = phase === 'train' ? train : predict;
    for (let i = 0; i < flags.warmup; i++) await run();
    const times = [], cpuTimes = [], faults = [];
    for (let i = 0; i < flags.steps; i++) {
      const s = performance.now(), c = cpuNow(), f = process.resourceUsage().minorPageFault;
      await run();
      times.push(performance.now() - s); cpuTimes.push(cpuNow() - c); faults.push(process.resourceUsage().minorPageFault - f);
    }
    // Minor page faults: the first write to each 4 KiB page of a freshly allocated array traps to the
    // kernel, which maps and zeroes it. Large tensors allocated per step pay this on every step.
    plain[phase] = { wall_ms: round(median(times)), cpu_ms: round(median(cpuTimes)), minor_page_faults: median(faults) };
  }
  if (flags.plain) return { model: name, plain_ms: plain };

  const timers = new Timers(), marks = {}, seenOps = new Set();
  instrumentBackend(timers);
  instrumentModel(model, timers, marks, seenOps);
  const gc = gcMeter();
  for (const phase of flags.phases) {
    const run = phase === 'train' ? train : predict;
    timers.enabled = true;
    await run(); // discovery: the first instrumented step wraps the graph's ops; not counted
    if (phase === 'predict') { await train(); } // predict has no graph: wrap the ops from a training step
    timers.reset(); await gc.take();
    const totals = [], cpuTotals = [], phases = { forward: [], backward: [], optimizer: [], other: [] }, phasesCpu = { forward: [], backward: [], optimizer: [], other: [] };
    for (let i = 0; i < flags.steps; i++) {
      const start = performance.now(), startCpu = cpuNow();
      await timers.time(`${phase} step`, () => run());
      const end = performance.now(), endCpu = cpuNow();
      totals.push(end - start); cpuTotals.push(endCpu - startCpu);
      if (phase === 'train') {
        // forward: from the step's start to backward's (the loss included; zeroGrad is negligible)
        const split = (into, t0, t1, b0, b1, s0, s1) => {
          into.forward.push(b0 - t0); into.backward.push(b1 - b0); into.optimizer.push(s1 - s0);
          into.other.push(t1 - t0 - (b0 - t0) - (b1 - b0) - (s1 - s0));
        };
        split(phases, start, end, marks.backwardStart, marks.backwardEnd, marks.stepStart, marks.stepEnd);
        split(phasesCpu, startCpu, endCpu, marks.backwardStartCpu, marks.backwardEndCpu, marks.stepStartCpu, marks.stepEndCpu);
      }
    }
    const gcPauses = await gc.take();
    const meanCpu = cpuTotals.reduce((a, b) => a + b, 0) / flags.steps;
    result[phase] = {
      plain: plain[phase], instrumented_ms: round(median(totals)), instrumented_cpu_ms: round(median(cpuTotals)),
      ...(phase === 'train' ? {
        phases_ms: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, round(median(v))])),
        phases_cpu_ms: Object.fromEntries(Object.entries(phasesCpu).map(([k, v]) => [k, round(median(v))])),
      } : {}),
      gc_ms_per_step: round(gcPauses.ms / flags.steps), gc_pauses_per_step: round(gcPauses.count / flags.steps, 1),
      layers_forward_ms: Object.fromEntries([...timers.stats.entries()].filter(([k]) => k.startsWith('layer '))
        .map(([k, s]) => [k.slice(6), round(s.incl / flags.steps)])),
      top_self: timers.table(flags.steps, meanCpu, flags.top),
    };
    timers.enabled = false;
  }
  gc.stop();
  return result;
}

// ---- --cpu-prof: V8's sampling profile, summarised -----------------------------------------------------

/** Self time per function (name, file:line) and per file, from a .cpuprofile. */
function summariseCpuProfile(file, top) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map(), byFile = new Map();
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const where = url.startsWith('file:') ? path.relative(REPO, fileURLToPath(url)) : url.startsWith('/') ? path.relative(REPO, url) : url;
    const fn = `${functionName || '(anonymous)'} ${where ? `${where}:${lineNumber + 1}` : ''}`.trim();
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    const f = where || functionName || '(native)';
    byFile.set(f, (byFile.get(f) ?? 0) + us);
  }
  const rows = (m) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([k, us]) => ({ where: k, self_ms: round(us / 1000), pct: round((100 * us) / total) }));
  return { sampled_ms: round(total / 1000), by_function: rows(byFunction), by_file: rows(byFile) };
}

function runCpuProf(flags) {
  const out = {};
  for (const model of flags.models) {
    for (const phase of flags.phases) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'gradlab-cpuprof-'));
      try {
        const child = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '250',
          fileURLToPath(import.meta.url), '--plain', '--models', model, '--phases', phase, '--steps', String(flags.steps), '--warmup', String(flags.warmup)],
        { stdio: ['ignore', 'pipe', 'inherit'], cwd: HERE, encoding: 'utf8' });
        if (child.status !== 0) throw new Error(`profile-gradlab: the --cpu-prof run of ${model} ${phase} failed (status ${child.status})`);
        const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
        const plain = JSON.parse(child.stdout).models[model].plain_ms[phase].wall_ms;
        // The profile covers the whole process: model build, warm-up and the measured steps.
        out[`${model} ${phase}`] = { note: `whole process: build, ${flags.warmup} warm-up + ${flags.steps} measured steps (median ${plain} ms)`, ...summariseCpuProfile(path.join(dir, file), flags.top) };
      } finally { rmSync(dir, { recursive: true, force: true }); }
    }
  }
  return out;
}

const flags = parseFlags(process.argv.slice(2));
console.log = console.error; // stdout carries only the JSON
const report = {
  machine: describeMachine(),
  config: {
    batch: BATCH, steps: flags.steps, warmup: flags.warmup, mode: flags.cpuProf ? 'cpu-prof' : flags.plain ? 'plain' : 'instrumented',
    gradlab_threads: typeof gradlab.numThreads === 'function' ? gradlab.numThreads() : 1,
    note: 'CPU times are the whole process (worker threads included); --cpu-prof samples the main thread only, where time spent waiting for gemm workers shows as parallelGemm',
  },
};
if (flags.cpuProf) {
  report.cpu_profile = runCpuProf(flags);
} else {
  report.models = {};
  for (const model of flags.models) {
    console.error(`profiling ${model} (load ${loadAverage()[0]})`);
    report.models[model] = await profileModel(model, flags);
  }
}
if (flags.plain) process.stdout.write(JSON.stringify(report) + '\n'); // for the --cpu-prof parent, which reads it
else finish(flags.cpuProf ? 'profile-cpu-prof' : 'profile', report);
