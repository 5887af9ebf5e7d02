/**
 * pnpm bn-lab <experiment|all> [--quick] [--seed N] [--steps N] [--out DIR]
 *
 * Runs experiments of the BN lab on MNIST and writes <out>/<id>.json and <out>/<id>.svg. Full runs go to
 * docs/bn-lab/seed-N/ (what docs/bn-lab.md is generated from, every seed together: `pnpm bn-lab:report`);
 * --quick runs, the CI size, go to .tmp/bn-lab/ and exit 1 if a robust direction check fails.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EXPERIMENTS, findExperiment } from './experiments/index.js';
import { runExperiment } from './lab.js';
import type { LabContext } from './lab.js';
import { firstN, loadMnist, mnistDir } from './mnist.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const QUICK_TEST_EXAMPLES = 2000;

const USAGE = `pnpm bn-lab <experiment|all> [--quick] [--seed N] [--steps N] [--out DIR]

experiments:
${EXPERIMENTS.map((e) => `  ${String(e.number).padEnd(2)} ${e.id.padEnd(14)} ${e.title}`).join('\n')}

  --quick     CI size (minutes, not tens of minutes); fails if a robust direction check fails
  --seed N    seed of the weights and the batch order (default 1)
  --steps N   training steps for experiment 1 (convergence) instead of its full 3,000 (the longer run
              in docs/bn-lab.md: --steps 50000 --out docs/bn-lab/long)
  --out DIR   where the JSON and SVG files go (default docs/bn-lab/seed-N, or .tmp/bn-lab with --quick)`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { quick: { type: 'boolean' }, seed: { type: 'string' }, steps: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean' } },
    allowPositionals: true,
  });
  if (values.help || positionals.length !== 1) {
    console.log(USAGE);
    return values.help ? 0 : 1;
  }
  const quick = values.quick === true;
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed: expected a non-negative integer, got '${values.seed}'`);
  const steps = values.steps === undefined ? undefined : Number(values.steps);
  if (steps !== undefined && !(Number.isInteger(steps) && steps >= 20)) throw new Error(`--steps: expected an integer of at least 20, got '${values.steps}'`);
  const out = path.resolve(values.out ?? path.join(REPO, quick ? '.tmp/bn-lab' : `docs/bn-lab/seed-${seed}`));
  const experiments = positionals[0] === 'all' ? EXPERIMENTS : [findExperiment(positionals[0])];
  if (steps !== undefined && experiments.some((e) => e.id !== 'convergence')) {
    throw new Error(`--steps: only experiment 1 (convergence) takes a step count, not '${positionals[0]}'`);
  }

  const { train, test } = loadMnist(mnistDir(import.meta.url));
  const ctx: LabContext = { quick, seed, steps, train, test: quick ? firstN(test, QUICK_TEST_EXAMPLES) : test, log: (line) => console.log(line) };
  let failed = 0;
  for (const exp of experiments) {
    const record = await runExperiment(exp, ctx, out);
    failed += record.checks.filter((c) => c.robust && !c.holds).length;
  }
  console.log(`wrote ${experiments.map((e) => `${e.id}.json/.svg`).join(', ')} to ${path.relative(process.cwd(), out) || '.'}`);
  if (quick && failed > 0) {
    console.error(`bn-lab: ${failed} robust check(s) failed`);
    return 1;
  }
  return 0;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
