/**
 * Experiment 1 — convergence with and without BN, after the BN paper's Figure 1 (Ioffe & Szegedy 2015):
 * MNIST, three fully connected hidden layers of 100 sigmoid units, batches of 60, plain SGD, weights
 * from a small Gaussian. (a) test accuracy against training steps, with and without BN; (b, c) the
 * 15th, 50th and 85th percentiles of one sigmoid input of the last hidden layer over training.
 */
import { optimizers } from 'gradlab';
import type { Series } from '@gradlab/example-common';
import type { Analysis, Check, LabContext, Measured, Quantity } from '../lab.js';
import { check, defineExperiment, num, pct, steps as stepsText } from '../lab.js';
import { BatchStream, batchOf } from '../mnist.js';
import { describeNet, lastActivationIndex, mlp } from '../nets.js';
import type { NetSpec, Norm } from '../nets.js';
import { accuracy, percentiles, tailMean, trainFor, unitInput } from '../train.js';

interface Curves { accuracy: number[]; p15: number[]; p50: number[]; p85: number[]; loss: number[] }

/** The first checkpoint whose accuracy is at least `threshold`, or null. */
function stepsToReach(at: readonly number[], acc: readonly number[], threshold: number): number | null {
  const i = acc.findIndex((a) => a >= threshold);
  return i < 0 ? null : at[i];
}

/** How far the median wanders, in units of the distribution's mean width (p85 − p15). */
function drift(c: Curves): number {
  const width = c.p85.reduce((s, v, i) => s + (v - c.p15[i]), 0) / c.p85.length;
  return (Math.max(...c.p50) - Math.min(...c.p50)) / width;
}

interface Settings {
  steps: number; every: number; lr: number; std: number; batchSize: number; probe: number; testExamples: number;
  /** Accuracies whose first crossing is compared. */
  thresholds: number[];
  seed: number; optimizer: string; networks: Record<string, string>;
}
interface Figures { steps: number[]; curves: Record<'none' | 'batch', Curves> }

export const convergence = defineExperiment<Settings, Figures>({
  id: 'convergence',
  number: 1,
  title: 'Convergence with and without BN (the BN paper\'s Figure 1)',
  claim: {
    zh: '加速收敛:通过标准化每层的输入,批标准化能够加速网络对比梯度下降的收敛速度。……精度提升:在一定程度上,批标准化能够提升网络的分类性能。……批标准化确保了每层的输入保持在一个稳定的分布之中。',
    en: 'Faster convergence: by normalising the input of every layer, batch normalization speeds up the convergence of gradient descent. … Better accuracy: ' +
      'to some extent, batch normalization can improve the network\'s classification performance. … Batch normalization keeps the input of every layer in a stable distribution.',
  },
  method: 'The BN paper\'s Figure 1 set-up: MNIST, 784-100-100-100-10 with sigmoid hidden units, batches of 60, plain SGD, ' +
    'kernels drawn from N(0, 0.1²) with the same seed for both networks (they differ only by the BatchNormalization layers, ' +
    'placed before each sigmoid as in the paper), the same batches in the same order. Test accuracy is measured in inference mode ' +
    '(moving statistics) at every checkpoint; the percentiles are those of the input of the first sigmoid of the last hidden layer ' +
    'over a fixed probe batch of test images, computed as in training (BN with the probe\'s batch statistics).',

  notes: [
    '**What differs from the paper.** Ioffe and Szegedy train for 50,000 steps; these runs stop at 3,000, so that every setting can be ' +
      'run over several seeds in the time this lab has (the commands above give each run\'s time); the longer run below goes further, with one seed. ' +
      'The paper\'s input is "a 28x28 binary image"; here the pixels are grey levels x/255 in [0, 1], not binarised. The paper does not give its learning rate; 0.5 is this lab\'s choice, ' +
      'the same for both networks. At test time the paper\'s BN uses population statistics (its Algorithm 2: the means and variances of many training mini-batches, averaged after training); ' +
      'here inference uses the moving averages gathered during training (Keras\'s momentum 0.99). Experiment 5 compares the two on a ReLU network.',
    'The last check measures the article\'s own words, that BN keeps the input of every layer in a stable distribution. It does ' +
      '(the median of a sigmoid\'s input wanders far less with BN), but that is not evidence that this is *why* BN helps: Santurkar et al. (2018) ' +
      'added noise after every BN layer, making the distributions move more than without BN, and the networks still trained about as well as ' +
      'with plain BN. [from-the-article.md](from-the-article.md#what-bn-does-the-articles-claim-and-what-later-work-found) sets out their findings.',
  ],

  async run(ctx: LabContext): Promise<Measured<Settings, Figures>> {
    const size = ctx.quick
      ? { steps: 300, every: 50, probe: 500, thresholds: [0.5, 0.7, 0.8] }
      : { steps: 3000, every: 150, probe: 1000, thresholds: [0.85, 0.9, 0.95] };
    // --steps N: a longer (or shorter) run of the same set-up, still with 20 checkpoints.
    if (ctx.steps !== undefined) Object.assign(size, { steps: ctx.steps, every: Math.max(1, Math.round(ctx.steps / 20)) });
    const nets: Record<string, string> = {};
    const settings: Settings = { ...size, lr: 0.5, std: 0.1, batchSize: 60, testExamples: ctx.test.count, seed: ctx.seed, optimizer: 'SGD', networks: nets };
    const probe = batchOf(ctx.test, Int32Array.from({ length: settings.probe }, (_, i) => i)).x;
    const at: number[] = [];
    const curves = {} as Record<'none' | 'batch', Curves>;
    for (const norm of ['none', 'batch'] as const) {
      const spec: NetSpec = { hidden: [100, 100, 100], activation: 'sigmoid', norm: norm as Norm, init: { std: settings.std }, seed: ctx.seed };
      nets[norm] = describeNet(spec);
      const model = mlp(spec);
      const sigmoid = lastActivationIndex(model);
      const c: Curves = { accuracy: [], p15: [], p50: [], p85: [], loss: [] };
      const log = trainFor(model, new optimizers.SGD({ lr: settings.lr }), new BatchStream(ctx.train, settings.batchSize, ctx.seed), {
        steps: settings.steps,
        every: settings.every,
        onCheckpoint: (step) => {
          if (norm === 'none') at.push(step);
          c.accuracy.push(accuracy(model, ctx.test));
          const [p15, p50, p85] = percentiles(unitInput(model, probe, sigmoid, 0), [15, 50, 85]);
          c.p15.push(p15); c.p50.push(p50); c.p85.push(p85);
          if (step > 0 && step % (settings.every * 5) === 0) ctx.log(`  ${norm} step ${step}: test accuracy ${pct(c.accuracy[c.accuracy.length - 1])}`);
        },
      });
      c.loss = at.slice(1).map((s) => tailMean(log.losses.slice(0, s), settings.every));
      curves[norm] = c;
    }
    return { settings, figures: { steps: at, curves } };
  },

  analyse({ settings, figures }: Measured<Settings, Figures>): Analysis {
    const { steps: at, curves } = figures;
    const reach = settings.thresholds.map((t) => ({ threshold: t, none: stepsToReach(at, curves.none.accuracy, t), batch: stepsToReach(at, curves.batch.accuracy, t) }));
    const final = { none: curves.none.accuracy[at.length - 1], batch: curves.batch.accuracy[at.length - 1] };
    // Accuracy at the end, less noisy than one checkpoint: the mean of the last five.
    const lastFive = (a: number[]) => a.slice(-5).reduce((x, y) => x + y, 0) / Math.min(5, a.length);
    const end = { none: lastFive(curves.none.accuracy), batch: lastFive(curves.batch.accuracy) };
    const drifts = { none: drift(curves.none), batch: drift(curves.batch) };
    const reached = (n: number | null) => (n === null ? `not within ${stepsText(settings.steps)} steps` : `after ${stepsText(n)} steps`);
    const faster = (r: (typeof reach)[number]) => r.batch !== null && (r.none === null || r.batch < r.none);

    const findings = [
      ...reach.map((r) => `Test accuracy ${pct(r.threshold)} is first reached ${reached(r.batch)} with BN and ${reached(r.none)} without.`),
      `After ${stepsText(settings.steps)} steps: ${pct(final.batch)} with BN, ${pct(final.none)} without; over the last five checkpoints ` +
        `(from step ${stepsText(at[Math.max(0, at.length - 5)])}) ${pct(end.batch)} with BN and ${pct(end.none)} without on average.`,
      `The median of the sigmoid input wanders over ${num(drifts.none)} distribution widths (p85 − p15) without BN and ${num(drifts.batch)} with BN; ` +
        `its 15–85% range goes from [${num(curves.none.p15[0])}, ${num(curves.none.p85[0])}] to [${num(curves.none.p15[at.length - 1])}, ${num(curves.none.p85[at.length - 1])}] without BN ` +
        `and from [${num(curves.batch.p15[0])}, ${num(curves.batch.p85[0])}] to [${num(curves.batch.p15[at.length - 1])}, ${num(curves.batch.p85[at.length - 1])}] with BN.`,
    ];
    // A run that never reaches the threshold counts as one checkpoint past its end (an underestimate).
    const orPast = (n: number | null) => n ?? settings.steps + settings.every;
    const checks: Check[] = [
      check(`with BN the network reaches ${pct(reach[1].threshold)} test accuracy in fewer steps`,
        { a: orPast(reach[1].none), b: orPast(reach[1].batch), unit: 'steps' },
        `${reached(reach[1].batch)} with BN, ${reached(reach[1].none)} without`, true),
      check('with BN the test accuracy at the end is higher (mean of the last five checkpoints)',
        { a: end.batch, b: end.none, unit: 'pct' }, `${pct(end.batch)} vs ${pct(end.none)}`, true),
      check('with BN the test accuracy at the end is higher by more than a point (mean of the last five checkpoints)',
        { a: end.batch, b: end.none, margin: 0.01, unit: 'pct' }, `${pct(end.batch)} vs ${pct(end.none)}`),
      check('the sigmoid input\'s median drifts less with BN', { a: drifts.none, b: drifts.batch, unit: 'number' },
        `${num(drifts.batch)} vs ${num(drifts.none)} widths`, true),
    ];
    const quantities: Quantity[] = [
      ...reach.flatMap((r) => [
        { name: `steps to ${pct(r.threshold)} test accuracy, with BN`, value: r.batch, unit: 'steps' as const },
        { name: `steps to ${pct(r.threshold)} test accuracy, without BN`, value: r.none, unit: 'steps' as const },
      ]),
      { name: `test accuracy after ${stepsText(settings.steps)} steps, with BN`, value: final.batch, unit: 'pct' },
      { name: `test accuracy after ${stepsText(settings.steps)} steps, without BN`, value: final.none, unit: 'pct' },
      { name: 'mean of the last five checkpoints, with BN', value: end.batch, unit: 'pct' },
      { name: 'mean of the last five checkpoints, without BN', value: end.none, unit: 'pct' },
      { name: 'with BN minus without, last five checkpoints (points)', value: 100 * (end.batch - end.none), unit: 'number' },
      { name: 'how far the sigmoid input\'s median wanders (widths p85 − p15), with BN', value: drifts.batch, unit: 'number' },
      { name: 'how far the sigmoid input\'s median wanders (widths p85 − p15), without BN', value: drifts.none, unit: 'number' },
    ];

    const pctSeries = (c: Curves): Series[] => [
      { name: '85th percentile', points: at.map((s, i) => [s, c.p85[i]] as const), dashed: true, color: '#1f77b4' },
      { name: '50th percentile', points: at.map((s, i) => [s, c.p50[i]] as const), color: '#1f77b4' },
      { name: '15th percentile', points: at.map((s, i) => [s, c.p15[i]] as const), dashed: true, color: '#1f77b4' },
    ];
    const all = [...curves.none.p15, ...curves.none.p85, ...curves.batch.p15, ...curves.batch.p85];
    const pad = 0.05 * (Math.max(...all) - Math.min(...all));
    const yRange = [Math.min(...all) - pad, Math.max(...all) + 7 * pad] as const; // room above the curves for the legend
    return {
      findings,
      checks,
      quantities,
      chart: {
        title: 'MNIST, 3 × 100 sigmoid units, batch 60, SGD: with and without BatchNorm',
        panels: [
          { title: '(a) test accuracy', xLabel: 'training steps', yLabel: 'test accuracy', yRange: [0, 1], legend: 'bottom-right', series: [
            { name: 'without BN', points: at.map((s, i) => [s, curves.none.accuracy[i]] as const), dashed: true, color: '#d62728' },
            { name: 'with BN', points: at.map((s, i) => [s, curves.batch.accuracy[i]] as const), color: '#1f77b4' },
          ] },
          { title: '(b) sigmoid input, without BN', xLabel: 'training steps', yLabel: 'input of one sigmoid', yRange, series: pctSeries(curves.none).map((s) => ({ ...s, color: '#d62728' })) },
          { title: '(c) sigmoid input, with BN', xLabel: 'training steps', yLabel: 'input of one sigmoid', yRange, series: pctSeries(curves.batch) },
        ],
      },
    };
  },
});

