/**
 * What every experiment of the lab shares: the claim it tests (the article's sentence, in Chinese and
 * in English), a run that returns its settings and raw figures, and an analysis of those figures alone:
 * sentences stating what they show (generated, never typed), direction checks, and a chart.
 * `runExperiment` times the run and writes <out>/<id>.json and <out>/<id>.svg; docs/bn-lab.md is
 * generated from those JSON files (report.ts), re-running each analysis on the figures they hold.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeMachine, svgChart } from '@gradlab/example-common';
import type { Chart, Machine } from '@gradlab/example-common';
import type { Digits } from './mnist.js';

export interface LabContext {
  /** CI size: a few hundred steps per run instead of thousands. */
  quick: boolean;
  /** Training steps instead of the experiment's full size (`--steps`; only experiment 1 takes it). */
  steps?: number;
  seed: number;
  train: Digits;
  /** The test set (all 10,000, or the first few thousand in quick mode). */
  test: Digits;
  log: (line: string) => void;
}

/** A direction the article claims (or the lab expects), and whether this run's figures show it. */
export interface Check {
  name: string;
  holds: boolean;
  /** The numbers behind the verdict. */
  detail: string;
  /** Robust checks must hold in --quick runs (CI fails otherwise); the others are reported only. */
  robust: boolean;
  /**
   * The check as a comparison "a − b > margin", so that runs with several seeds can be judged together
   * (seeds.ts): the verdict over seeds holds only where the mean gap exceeds the seed-to-seed spread.
   */
  compare: Comparison;
}

/** How a figure is written: a fraction as a percentage, a step count, a plain number, … */
export type Unit = 'pct' | 'steps' | 'count' | 'ms' | 'KiB' | 'number';

/** The numbers behind a check: it holds when a − b > margin (margin 0 when left out). */
export interface Comparison { a: number; b: number; margin?: number; unit: Unit }

/** One figure of a run, reported over seeds as mean ± spread (null: not reached, diverged, …). */
export interface Quantity { name: string; value: number | null; unit: Unit }

/** What a run measured: its settings and raw figures (written to the JSON as they are). */
export interface Measured<S, F> { settings: S; figures: F }

/** What the figures show, computed from them alone — so the report can recompute it from the JSON. */
export interface Analysis {
  /** Sentences with the numbers in them. */
  findings: string[];
  checks: Check[];
  /** The figures a report over several seeds tabulates (mean ± spread); the findings are one run's sentences. */
  quantities: Quantity[];
  /** The plot: a line chart (examples/common) or an SVG document made otherwise (bars.ts). */
  chart: Chart | { svg: string };
}

export interface Claim {
  /** The article's sentence (docs/article/batch-normalization-article.zh.txt). */
  zh: string;
  en: string;
}

interface About {
  id: string;
  number: number;
  title: string;
  claim: Claim;
  /** How the experiment is set up, one paragraph for the report. */
  method: string;
  /** Paragraphs that explain what the figures mean (the same for every run), for the report. */
  notes?: string[];
}

/** An experiment as written: typed settings S and figures F. */
export interface ExperimentSpec<S, F> extends About {
  run(ctx: LabContext): Promise<Measured<S, F>>;
  analyse(measured: Measured<S, F>): Analysis;
}

/** An experiment as the lab runs it: settings and figures are whatever the JSON holds. */
export interface Experiment extends About {
  run(ctx: LabContext): Promise<Measured<unknown, unknown>>;
  analyse(measured: Measured<unknown, unknown>): Analysis;
}

/** Erase an experiment's types (its analyse only ever sees what its own run produced, or that run's JSON). */
export function defineExperiment<S, F>(spec: ExperimentSpec<S, F>): Experiment {
  return { ...spec, analyse: (m) => spec.analyse(m as Measured<S, F>) };
}

export interface ExperimentRecord extends Measured<unknown, unknown> {
  experiment: string;
  number: number;
  title: string;
  claim: Claim;
  method: string;
  command: string;
  quick: boolean;
  seed: number;
  findings: string[];
  checks: Check[];
  /** Wall-clock and CPU seconds of the whole run (the machine is shared: CPU time is the fairer figure). */
  seconds: number;
  cpuSeconds: number;
  machine: Machine;
  date: string;
  svg: string;
}

/** The SVG text of an analysis's chart. */
export const chartSvg = (chart: Analysis['chart']): string => ('svg' in chart ? chart.svg : svgChart(chart));

/** The command that reruns a run: `pnpm bn-lab convergence --seed 2`, `… --quick` (the CI size, seed 1). */
export const commandFor = (id: string, quick: boolean, seed = 1, steps?: number): string =>
  `pnpm bn-lab ${id}${quick ? ' --quick' : ''}${seed !== 1 || (!quick && steps === undefined) ? ` --seed ${seed}` : ''}${steps !== undefined ? ` --steps ${steps}` : ''}`;

/** Run one experiment and write its JSON and SVG into `out`. */
export async function runExperiment(exp: Experiment, ctx: LabContext, out: string): Promise<ExperimentRecord> {
  ctx.log(`== ${exp.number}. ${exp.title}${ctx.quick ? ' (quick)' : ''}`);
  const start = Date.now();
  const cpu = process.cpuUsage();
  const measured = await exp.run(ctx);
  const used = process.cpuUsage(cpu);
  const { chart, findings, checks } = exp.analyse(measured);
  const record: ExperimentRecord = {
    experiment: exp.id,
    number: exp.number,
    title: exp.title,
    claim: exp.claim,
    method: exp.method,
    command: commandFor(exp.id, ctx.quick, ctx.seed, ctx.steps),
    quick: ctx.quick,
    seed: ctx.seed,
    settings: measured.settings,
    figures: measured.figures,
    findings,
    checks,
    seconds: (Date.now() - start) / 1000,
    cpuSeconds: (used.user + used.system) / 1e6,
    machine: describeMachine('cpu'),
    date: new Date().toISOString(),
    svg: `${exp.id}.svg`,
  };
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, `${exp.id}.json`), `${JSON.stringify(record, null, 2)}\n`);
  fs.writeFileSync(path.join(out, record.svg), chartSvg(chart));
  for (const line of findings) ctx.log(`  ${line}`);
  for (const c of checks) ctx.log(`  [${c.holds ? 'holds' : 'FAILS'}${c.robust ? '' : ', reported only'}] ${c.name}: ${c.detail}`);
  ctx.log(`  ${record.seconds.toFixed(0)} s (${record.cpuSeconds.toFixed(0)} s CPU)`);
  return record;
}

/** Numbers for sentences: 0.9712 → "97.1%". */
export const pct = (x: number): string => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : String(x));
/** A step count or NaN → "1,200" or "never". */
export const steps = (n: number | null): string => (n === null || !Number.isFinite(n) ? 'never' : n.toLocaleString('en-US'));
/** 0.0012345 → "0.00123", 3 → "3". */
export const num = (x: number, digits = 3): string => (Number.isFinite(x) ? String(Number(x.toPrecision(digits))) : String(x));

/** A check from its comparison: it holds when a − b > margin. */
export function check(name: string, compare: Comparison, detail: string, robust = false): Check {
  return { name, holds: compare.a - compare.b > (compare.margin ?? 0), robust, detail, compare };
}
