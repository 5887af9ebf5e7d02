// gradlab against TensorFlow.js WASM (and its CPU backend for the models), jax-js (wasm device) and PyTorch
// (CPU, 2 threads) in one run, on one machine: square float32 matmul at 256/512/1024/2048, the article's first
// two convolutions (forward, input gradient, filter gradient) and the three models' training step and predict
// at batch 32. Every figure is a median of several runs (wall clock, with the CPU time of the process beside
// it), every framework runs in its own child process, and the load average is recorded at each start and end.
//
// Writes bench/results/<date>-<machine>/compare.json (unless --no-save) and compare.md beside it: one markdown
// table per part, with gradlab's time over each other framework's (below 1: gradlab is faster).
//
// --parts=scaling (not in the default) adds gradlab's cost at batch 8, 32 and 128 and at sequence length 50, 100
// and 200 (bench-models.mjs --batch / --seq).
// Run after a build (pnpm run build):
//   node bench/models/compare.mjs [--parts matmul,conv,models,scaling] [--sizes 256,512,1024,2048]
//     [--frameworks gradlab,tfjs-wasm,jax-js,torch] [--models image,speech,text] [--steps 5] [--runs 7]
// PyTorch is Debian's python3-torch (apt-get install -y python3-torch libopenblas0-pthread; benchmark-only), run as
// /usr/bin/python3 (GRADLAB_BENCH_PYTHON overrides). jax-js is the bench package's devDependency @jax-js/jax.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeMachine, finish, loadAverage, machineName, round } from '../lib/timing.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(process.argv.slice(2).map((a) => { const [k, v = 'true'] = a.replace(/^--/, '').split('='); return [k, v]; }));
// --table-from=FILE: write the markdown of a saved compare.json again (FILE with .md), measuring nothing
const saved = args['table-from'] ? JSON.parse(readFileSync(args['table-from'], 'utf8')) : null;
if (saved) Object.assign(args, { ...saved.config, parts: saved.config.parts.join(','), frameworks: saved.config.frameworks.join(',') });
const parts = (args.parts ?? 'matmul,conv,models').split(',');
const frameworks = (args.frameworks ?? 'gradlab,tfjs-wasm,jax-js,torch').split(',');
const sizes = args.sizes ?? '256,512,1024,2048';
const models = args.models ?? 'image,speech,text';
const steps = args.steps ?? '5';
const runs = args.runs ?? '7';
const python = process.env.GRADLAB_BENCH_PYTHON ?? '/usr/bin/python3';

/** Run a child, return the JSON object on the last line of its stdout (or { error }). */
function child(command, argv, env = {}) {
  console.error(`  ${[command, ...argv].join(' ')} (load ${loadAverage()[0]})`);
  const r = spawnSync(command, argv, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 << 20, timeout: 1800_000 });
  const stdout = (r.stdout ?? '').trim(), lines = stdout.split('\n');
  try { return JSON.parse(stdout.startsWith('{') ? stdout : lines[lines.length - 1]); } catch {
    const why = (r.stderr ?? '').trim().split('\n').slice(-3).join(' | ') || `exit ${r.status}`;
    console.error(`    failed: ${why}`);
    return { error: why };
  }
}

const report = saved ?? { machine: describeMachine(), config: { parts, frameworks, sizes, models, steps, runs, batch: 32, date: new Date().toISOString() }, results: {} };
const opsParts = saved ? '' : parts.filter((p) => p === 'matmul' || p === 'conv').join(',');
const ops = (framework, env = {}) => child(process.execPath, [path.join(HERE, 'compare-ops.mjs'), `--framework=${framework}`, `--parts=${opsParts}`, `--sizes=${sizes}`, `--runs=${runs}`], env);

// matmul and conv: each JavaScript framework in its own process, gradlab on 1 and on 2 threads
if (opsParts) {
  if (frameworks.includes('gradlab')) {
    report.results['gradlab 1 thread'] = ops('gradlab', { GRADLAB_THREADS: '1' });
    report.results['gradlab 2 threads'] = ops('gradlab', { GRADLAB_THREADS: '2' });
  }
  if (frameworks.includes('tfjs-wasm')) report.results['tfjs-wasm'] = ops('tfjs-wasm');
  if (frameworks.includes('jax-js')) report.results['jax-js'] = ops('jax-js');
}
if (!saved && frameworks.includes('torch')) {
  report.results.torch = child(python, [path.join(HERE, 'compare_torch.py'), '--threads=2', `--parts=${parts.join(',')}`, `--sizes=${sizes}`,
    `--runs=${runs}`, `--models=${models}`]);
}
// the models: bench-models.mjs (gradlab and TensorFlow.js, each measurement in a child of its own)
if (!saved && parts.includes('models')) {
  const backends = ['gradlab', 'tfjs-wasm', 'tfjs-cpu'].filter((b) => frameworks.includes(b) || (b === 'tfjs-cpu' && frameworks.includes('tfjs-wasm')));
  report.results.models = child(process.execPath, [path.join(HERE, 'bench-models.mjs'), `--models=${models}`, `--backends=${backends.join(',')}`,
    `--steps=${steps}`, '--warmup=1', '--no-save']);
}

// how gradlab's cost grows: batch 8, 32, 128 (all three models) and sequence length 50, 100, 200 (speech, text)
if (!saved && parts.includes('scaling')) {
  const scaling = (extra) => child(process.execPath, [path.join(HERE, 'bench-models.mjs'), '--backends=gradlab', '--steps=3', '--warmup=1', '--no-save', ...extra]);
  report.results.scaling = { batch: {}, seq: {} };
  for (const batch of [8, 32, 128]) report.results.scaling.batch[batch] = scaling([`--models=${models}`, `--batch=${batch}`]);
  for (const seq of [50, 100, 200]) report.results.scaling.seq[seq] = scaling(['--models=speech,text', `--seq=${seq}`]);
}

// ---- the tables --------------------------------------------------------------------------------------

const cell = (r) => (r?.wall_ms === undefined ? (r?.error ? 'n/a' : '—') : `${round(r.wall_ms, 1)} (${round(r.cpu_ms, 0)})`);
const ratio = (a, b) => (a?.wall_ms && b?.wall_ms ? `${round(a.wall_ms / b.wall_ms, 2)}×` : '—');

const row = (cells) => `| ${cells.join(' | ')} |`;
const header = (cells) => [row(cells), row(cells.map(() => '---'))];

function tables() {
  const R = report.results, lines = [];
  const gl1 = R['gradlab 1 thread'], gl2 = R['gradlab 2 threads'];
  const js = ['tfjs-wasm', 'jax-js'].filter((f) => R[f] && !R[f].error);
  const torch = R.torch && !R.torch.error ? R.torch : null;
  if (torch) lines.push(`PyTorch ${torch.torch}, ${torch.threads} threads, BLAS: ${torch.blas ?? 'not recorded'}.`, '');
  if (parts.includes('matmul') && gl1) {
    const g = (r) => (r?.gflops === undefined ? '—' : `${r.gflops} (${r.gflops_cpu ?? '—'})`);
    lines.push('### Square float32 matmul, GFLOPS: by median wall time (by CPU time)', '',
      ...header(['n', 'gradlab 1 thread', 'gradlab 2 threads', ...js, ...(torch ? ['PyTorch 2 threads'] : []), 'gradlab 2 threads / 1 thread (wall)']));
    for (const n of sizes.split(',')) {
      const speedup = gl1.matmul?.[n] && gl2?.matmul?.[n] ? `${round(gl1.matmul[n].wall_ms / gl2.matmul[n].wall_ms, 2)}×` : '—';
      const t = torch?.matmul?.[n] ? `${torch.matmul[n].gflops} (${round(2 * Number(n) ** 3 / torch.matmul[n].cpu_ms / 1e6, 2)})` : '—';
      lines.push(row([n, g(gl1.matmul?.[n]), g(gl2?.matmul?.[n]), ...js.map((f) => g(R[f].matmul?.[n])), ...(torch ? [t] : []), speedup]));
    }
    lines.push('');
  }
  if (parts.includes('conv') && gl1) {
    const best = (layer, pass) => [gl1, gl2].filter(Boolean).map((r) => r.conv?.[layer]?.[pass]).filter((r) => r?.wall_ms !== undefined)
      .reduce((a, b) => (a && a.wall_ms <= b.wall_ms ? a : b), null);
    const others = [...js, ...(torch ? ['torch'] : [])];
    const name = (f) => (f === 'torch' ? 'PyTorch 2 threads' : f);
    lines.push('### conv2d, batch 32, ms: median wall (CPU); ratio = gradlab (faster of 1 and 2 threads) / other, by wall time', '',
      ...header(['layer, pass', 'gradlab 1 thread', 'gradlab 2 threads', ...others.map(name), ...others.map((f) => `ratio to ${name(f)}`)]));
    for (const layer of ['conv1', 'conv2']) {
      for (const pass of ['forward', 'backprop_input', 'backprop_filter']) {
        const o = others.map((f) => R[f].conv?.[layer]?.[pass]);
        lines.push(row([`${layer} ${pass}`, cell(gl1.conv?.[layer]?.[pass]), cell(gl2?.conv?.[layer]?.[pass]), ...o.map(cell), ...o.map((r) => ratio(best(layer, pass), r))]));
      }
    }
    lines.push('');
  }
  const M = R.models?.models;
  if (parts.includes('models') && M) {
    lines.push('### The article\'s models, batch 32, ms: median wall (CPU); ratio = gradlab / other', '',
      '| model, phase | gradlab | TF.js wasm | TF.js cpu | PyTorch 2 threads | gradlab / TF.js wasm | gradlab / PyTorch |', '|---|---|---|---|---|---|---|');
    for (const model of models.split(',')) {
      for (const phase of ['train', 'predict']) {
        const g = M[model]?.gradlab?.[phase], w = M[model]?.['tfjs-wasm']?.[phase], c = M[model]?.['tfjs-cpu']?.[phase], t = R.torch?.models?.[model]?.[phase];
        lines.push(`| ${model} ${phase} | ${cell(g)} | ${cell(w)} | ${cell(c)} | ${cell(t)} | ${ratio(g, w)} | ${ratio(g, t)} |`);
      }
    }
    lines.push('', 'Peak rss of a gradlab training step, MiB: ' + models.split(',').map((m) => `${m} ${M[m]?.gradlab?.train?.memory?.rss_peak_mb ?? '—'}`).join(', '), '');
  }
  const S = R.scaling;
  if (S) {
    const ms = (r, model, phase) => { const e = r?.models?.[model]?.gradlab?.[phase]; return e?.wall_ms === undefined ? '—' : `${round(e.wall_ms, 0)} (${round(e.cpu_ms, 0)})`; };
    lines.push('### gradlab: cost against batch size, ms: median wall (CPU)', '', '| model, phase | batch 8 | batch 32 | batch 128 |', '|---|---|---|---|');
    for (const model of models.split(',')) for (const phase of ['train', 'predict']) lines.push(`| ${model} ${phase} | ${[8, 32, 128].map((b) => ms(S.batch[b], model, phase)).join(' | ')} |`);
    lines.push('', '### gradlab: cost against sequence length (batch 32), ms: median wall (CPU)', '', '| model, phase | T = 50 | T = 100 | T = 200 |', '|---|---|---|---|');
    for (const model of ['speech', 'text']) for (const phase of ['train', 'predict']) lines.push(`| ${model} ${phase} | ${[50, 100, 200].map((t) => ms(S.seq[t], model, phase)).join(' | ')} |`);
    lines.push('');
  }
  return lines.join('\n');
}

if (!saved) report.machine.loadavg_at_end = loadAverage();
const when = report.config.date ? `${report.config.date.slice(0, 16).replace('T', ' ')} UTC` : 'date not recorded';
const title = parts.every((p) => p === 'scaling') ? 'gradlab: cost against batch size and sequence length' : 'gradlab against TF.js, jax-js and PyTorch';
const markdown = `## ${title} (${when}, ${report.machine.name ?? machineName()})\n\n` +
  `Load average at start ${report.machine.loadavg_at_start.join(' / ')}, at end ${report.machine.loadavg_at_end.join(' / ')} (1 / 5 / 15 min, ${report.machine.cores} cores).\n\n${tables()}`;
report.markdown = markdown;
console.error(markdown);
if (saved) { writeFileSync(args['table-from'].replace(/\.json$/, '.md'), markdown + '\n'); process.exit(0); }
const file = finish('compare', report);
if (file) writeFileSync(file.replace(/\.json$/, '.md'), markdown + '\n');
