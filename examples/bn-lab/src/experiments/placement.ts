/**
 * Experiment 7 — placement: BN before the activation (the BN paper, ResNet) against after it (the
 * article's Keras code: Dense(..., activation="relu") then BatchNormalization()), and no BN.
 */
import { optimizers } from 'gradlab';
import type { Analysis, Check, LabContext, Measured, Quantity } from '../lab.js';
import { check, defineExperiment, num, pct } from '../lab.js';
import { BatchStream } from '../mnist.js';
import { spreadOf } from '../seeds.js';
import { describeNet, mlp } from '../nets.js';
import type { NetSpec } from '../nets.js';
import { accuracy, tailMean, trainFor } from '../train.js';

const VARIANTS = [
  { key: 'before', label: 'BN before ReLU', norm: 'batch', placement: 'before', color: '#1f77b4' },
  { key: 'after', label: 'BN after ReLU (article)', norm: 'batch', placement: 'after', color: '#ff7f0e' },
  { key: 'none', label: 'no BN', norm: 'none', placement: 'before', color: '#d62728' },
] as const;
type Key = (typeof VARIANTS)[number]['key'];

const mean = (xs: readonly number[]): number => spreadOf(xs).mean;
/** Sample standard deviation (n − 1); 0 for a single value. */
const spread = (xs: readonly number[]): number => spreadOf(xs).sd;

interface Settings { seeds: number[]; steps: number; every: number; batchSize: number; optimizer: string; networks: Record<Key, string> }
interface Figures { steps: number[]; runs: Record<Key, { accuracy: number[][]; finalLoss: number[] }> }

export const placement = defineExperiment<Settings, Figures>({
  id: 'placement',
  number: 7,
  title: 'Placement: BN before or after the activation',
  claim: {
    zh: '在ResNet中,批标准化放置在每个卷积层后的激活函数之前,这种设计不仅加速了收敛速度,同时提高了模型的表现。',
    en: 'In ResNet, batch normalization is placed after each convolution, before the activation function; this design both speeds up convergence and improves the model\'s results.',
  },
  method: 'MNIST, 784-100-100-100-10 with ReLU: BatchNormalization between each Dense and its ReLU ("before", as in ResNet), after each ReLU ' +
    '("after", as the article\'s Keras code writes it), or none. Adam with Keras\'s defaults (the article compiles with optimizer="adam"), batches of 60, ' +
    'one run per seed (each seed gives all three networks the same initial Dense weights and the same batches); test accuracy every few hundred steps.',

  async run(ctx: LabContext): Promise<Measured<Settings, Figures>> {
    const size = ctx.quick
      ? { seeds: [ctx.seed], steps: 150, every: 75 }
      : { seeds: [ctx.seed], steps: 1500, every: 250 }; // more seeds: one run per --seed (the report judges them together)
    const at: number[] = [];
    const runs = {} as Figures['runs'];
    const nets = {} as Record<Key, string>;
    const settings: Settings = { ...size, batchSize: 60, optimizer: 'Adam (lr 0.001)', networks: nets };
    for (const v of VARIANTS) {
      runs[v.key] = { accuracy: [], finalLoss: [] };
      for (const seed of settings.seeds) {
        const spec: NetSpec = { hidden: [100, 100, 100], activation: 'relu', norm: v.norm, placement: v.placement, seed };
        nets[v.key] = describeNet(spec);
        const model = mlp(spec);
        const curve: number[] = [];
        const log = trainFor(model, new optimizers.Adam(), new BatchStream(ctx.train, settings.batchSize, seed), {
          steps: settings.steps, every: settings.every,
          onCheckpoint: (step) => {
            if (v.key === 'before' && seed === settings.seeds[0]) at.push(step);
            curve.push(accuracy(model, ctx.test));
          },
        });
        runs[v.key].accuracy.push(curve);
        runs[v.key].finalLoss.push(tailMean(log.losses, 100));
        ctx.log(`  ${v.label}, seed ${seed}: test accuracy ${pct(curve[curve.length - 1])}`);
      }
    }
    return { settings, figures: { steps: at, runs } };
  },

  analyse({ settings, figures: { steps: at, runs } }: Measured<Settings, Figures>): Analysis {
    const finals = (k: Key) => runs[k].accuracy.map((c) => c[c.length - 1]);
    const meanCurve = (k: Key) => at.map((_, i) => mean(runs[k].accuracy.map((c) => c[i])));
    const early = Math.min(at.length - 1, 1); // the first checkpoint after step 0
    const summary = (k: Key) => `${pct(mean(finals(k)))}${settings.seeds.length > 1 ? ` ± ${num(100 * spread(finals(k)), 2)} points` : ''}`;
    const gap = mean(finals('before')) - mean(finals('after'));
    const noise = Math.max(spread(finals('before')), spread(finals('after')));
    const findings = [
      `Test accuracy after ${settings.steps} steps (mean over ${settings.seeds.length} seed${settings.seeds.length > 1 ? 's' : ''}): ` +
        `${summary('before')} with BN before the ReLU, ${summary('after')} with BN after it, ${summary('none')} without BN.`,
      `After ${at[early]} steps: ${pct(meanCurve('before')[early])} before, ${pct(meanCurve('after')[early])} after, ${pct(meanCurve('none')[early])} without BN.`,
      `The difference between the placements is ${num(100 * gap, 2)} points${settings.seeds.length > 1 ? ` against a seed-to-seed spread of ${num(100 * noise, 2)} points` : ''}.`,
    ];
    const checks: Check[] = [
      check('both placements train the network (above 80%)', { a: Math.min(...finals('before'), ...finals('after')), b: 0.8, unit: 'pct' },
        `${summary('before')} before, ${summary('after')} after`, true),
      check(`BN before the activation does better than after it at the end (the article: it "improves the model's results")`, { a: mean(finals('before')), b: mean(finals('after')), unit: 'pct' },
        `${num(100 * gap, 2)} points`),
      check(`BN before the activation is ahead after ${at[early]} steps (the article: it "speeds up convergence")`,
        { a: meanCurve('before')[early], b: meanCurve('after')[early], unit: 'pct' }, `${pct(meanCurve('before')[early])} vs ${pct(meanCurve('after')[early])}`),
      check('BN before the activation beats no BN', { a: mean(finals('before')), b: mean(finals('none')), unit: 'pct' }, `${summary('before')} vs ${summary('none')}`),
      check('BN after the activation beats no BN', { a: mean(finals('after')), b: mean(finals('none')), unit: 'pct' }, `${summary('after')} vs ${summary('none')}`),
    ];
    const quantities: Quantity[] = VARIANTS.flatMap((v) => [
      { name: `test accuracy after ${at[early]} steps, ${v.label}`, value: meanCurve(v.key)[early], unit: 'pct' as const },
      { name: `test accuracy after ${settings.steps} steps, ${v.label}`, value: mean(finals(v.key)), unit: 'pct' as const },
    ]);
    return {
      findings,
      checks,
      quantities,
      chart: {
        title: `MNIST, 3 × 100 ReLU, Adam: where BatchNorm goes (mean of ${settings.seeds.length} seed${settings.seeds.length > 1 ? 's' : ''})`,
        panels: [
          { title: 'test accuracy (mean over seeds)', xLabel: 'training steps', yLabel: 'test accuracy', legend: 'bottom-right', series:
            VARIANTS.map((v) => ({ name: v.label, points: at.map((s, i) => [s, meanCurve(v.key)[i]] as const).filter(([s]) => s > 0), color: v.color, dashed: v.key === 'none' })) },
          { title: `test accuracy after ${settings.steps} steps, per seed`, xLabel: 'seed', yLabel: 'test accuracy', legend: 'bottom-right', series:
            VARIANTS.map((v) => ({ name: v.label, points: settings.seeds.map((seed, i) => [seed, finals(v.key)[i]] as const), color: v.color, dashed: v.key === 'none' })) },
        ],
      },
    };
  },
});
