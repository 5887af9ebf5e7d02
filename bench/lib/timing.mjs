// What every benchmark in bench/ shares: how a run is timed (median of several runs after warm-up,
// by the wall clock and by this process's CPU time), how the machine and its load are described, and
// where the JSON goes (stdout, and a file under bench/results/<date>-<machine>/).
//
// Why both clocks: the development machine is shared. Where other processes keep the cores busy the
// wall-clock median grows with the load while the CPU time this process used grows much less, so every
// result records the load average at its start and end, and the CPU time beside the wall time.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const RESULTS_DIR = path.join(BENCH_DIR, 'results');

/** x rounded to `digits` decimals (null stays null). */
export const round = (x, digits = 2) => (x === null || x === undefined ? null : Number(x.toFixed(digits)));

/** The middle value; for an even count, the mean of the two middle ones. */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The 1-, 5- and 15-minute load averages. */
export const loadAverage = () => os.loadavg().map((l) => round(l, 2));

/** This process's CPU time so far (every thread), in ms. */
export const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

/** What the figures were measured on, and the load when the benchmark started. */
export function describeMachine() {
  return {
    name: machineName(), cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version,
    platform: `${os.platform()} ${os.arch()}`, loadavg_at_start: loadAverage(),
  };
}

/**
 * A short name for the machine, for result folders: GRADLAB_BENCH_MACHINE if set, else the CPU model
 * without its trademarks and filler words, and the core count ("xeon-2.80ghz-2cores").
 */
export function machineName() {
  if (process.env.GRADLAB_BENCH_MACHINE) return slug(process.env.GRADLAB_BENCH_MACHINE);
  const model = (os.cpus()[0]?.model ?? 'unknown-cpu').replace(/\((R|TM)\)|\b(CPU|Processor|Intel|@)\b|@/gi, ' ');
  return `${slug(model)}-${os.cpus().length}cores`;
}

const slug = (text) => text.toLowerCase().replace(/[^a-z0-9.]+/g, '-').replace(/^-+|-+$/g, '') || 'machine';

/**
 * Times fn() (awaited when it returns a promise): warm-up runs first (at least `warmup`, and for at least
 * `warmupMs`, so that V8's optimising compiler, which works on a background thread, has finished), then
 * `runs` measured ones; once a run takes more than `slowMs`, fewer (3, or 1 when the warm-up alone
 * took that long). Returns the median and best wall time, the median CPU time and the warm-up's first run.
 */
export async function measure(fn, { warmup = 2, warmupMs = 0, runs = 7, slowMs = Infinity } = {}) {
  const warmStart = performance.now();
  let first = null;
  for (let i = 0; i < warmup || performance.now() - warmStart < warmupMs; i++) {
    const start = performance.now();
    await fn();
    first ??= performance.now() - start;
  }
  const count = first !== null && first > slowMs ? 1 : first !== null && first * runs > 3 * slowMs ? Math.min(3, runs) : runs;
  const wall = [], cpu = [];
  for (let i = 0; i < count; i++) {
    const cpuStart = cpuMs(), start = performance.now();
    await fn();
    wall.push(performance.now() - start);
    cpu.push(cpuMs() - cpuStart);
  }
  return {
    wall_ms: round(median(wall), 3), best_wall_ms: round(Math.min(...wall), 3), cpu_ms: round(median(cpu), 3),
    runs: count, ...(first !== null ? { first_ms: round(first, 1) } : {}),
  };
}

/** The timing with the flop rates it implies: by the median wall time, the best one and the CPU time. */
export function withGflops(t, flops) {
  const rate = (ms) => round(flops / (ms * 1e6));
  return { ...t, gflops: rate(t.wall_ms), gflops_best: rate(t.best_wall_ms), gflops_cpu: rate(t.cpu_ms) };
}

/**
 * The end of a benchmark: stamps the load average at the end, prints `result` as JSON on stdout and, unless
 * the command line has --no-save, writes it to bench/results/<date>-<machine>/<name>.json (a second run
 * the same day gets <name>-2.json, …). Returns the file written, or null.
 */
export function finish(name, result, argv = process.argv.slice(2)) {
  if (result.machine) result.machine.loadavg_at_end = loadAverage();
  const json = JSON.stringify(result, null, 2) + '\n';
  process.stdout.write(json);
  if (argv.includes('--no-save')) return null;
  const dir = path.join(RESULTS_DIR, `${new Date().toISOString().slice(0, 10)}-${machineName()}`);
  mkdirSync(dir, { recursive: true });
  for (let n = 1; ; n++) {
    const file = path.join(dir, n === 1 ? `${name}.json` : `${name}-${n}.json`);
    try {
      writeFileSync(file, json, { flag: 'wx' });
      process.stderr.write(`${name}: results written to ${path.relative(process.cwd(), file)}\n`);
      return file;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
  }
}
