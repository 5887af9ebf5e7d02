/**
 * Experiment 2 — learning-rate sensitivity: the same ReLU network with and without BN, trained with
 * plain SGD at log-spaced learning rates from 0.001 to 10; final test accuracy and divergence per rate.
 */
import type { Analysis, Check, LabContext, Measured, Quantity } from '../lab.js';
import { check, defineExperiment, num, pct } from '../lab.js';
import { describeNet } from '../nets.js';
import type { NetSpec } from '../nets.js';
import { learningValues, rangeText, scored, sweep } from './sweep.js';
import type { SweepResults } from './sweep.js';

interface Settings { rates: number[]; steps: number; batchSize: number; learnsAt: number; seed: number; optimizer: string; network: Record<string, string> }
interface Figures { results: SweepResults }

/** Test accuracy below this counts as learning nothing (chance is 10%). */
const CHANCE_BAND = 0.2;

export const learningRate = defineExperiment<Settings, Figures>({
  id: 'learning-rate',
  number: 2,
  title: 'Learning-rate sensitivity',
  claim: {
    zh: '稳定性增强:减少了对网络初始化和学习率的敏感性,使得模型训练过程更加稳定。',
    en: 'Better stability: it reduces the sensitivity to the network\'s initialisation and to the learning rate, so that training is more stable.',
  },
  method: 'MNIST, 784-100-100-100-10 with ReLU hidden units (Keras\'s default glorot_uniform kernels, the same seed for every run), ' +
    'with BatchNormalization before each ReLU or without; plain SGD, batches of 60, the same number of steps at every learning rate. ' +
    'A run diverges when its loss becomes NaN, infinite or larger than 100 × ln 10; it is then stopped and scored as chance (10%).',

  notes: [
    'Two ways to fail are told apart here. Without BN a too-large rate makes the loss **diverge**: the weights grow, the logits with them, ' +
      'and the loss overflows. With BN each hidden layer\'s output is renormalised at every step, so growing weights do not make the ' +
      'activations grow with them; a run can then **fail without diverging**: the loss stays finite while test accuracy ends near chance (below 20% counts as ' +
      'failed). "BN never diverged" is therefore not "BN trained at every rate"; the table gives both.',
  ],

  async run(ctx: LabContext): Promise<Measured<Settings, Figures>> {
    const size = ctx.quick
      ? { rates: [0.1, 1, 3], steps: 150, learnsAt: 0.7 }
      : { rates: [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10], steps: 500, learnsAt: 0.9 };
    const spec = (lr: number, norm: 'none' | 'batch'): NetSpec => ({ hidden: [100, 100, 100], activation: 'relu', norm, seed: ctx.seed });
    const settings: Settings = { ...size, batchSize: 60, seed: ctx.seed, optimizer: 'SGD', network: { none: describeNet(spec(0, 'none')), batch: describeNet(spec(0, 'batch')) } };
    const results = sweep(ctx, settings.rates, settings.steps, spec, (lr) => lr, 'lr');
    return { settings, figures: { results } };
  },

  analyse({ settings, figures: { results } }: Measured<Settings, Figures>): Analysis {

    const learns = { none: learningValues(results.none, settings.learnsAt), batch: learningValues(results.batch, settings.learnsAt) };
    const diverges = { none: results.none.filter((p) => p.divergedAt !== null).map((p) => p.value), batch: results.batch.filter((p) => p.divergedAt !== null).map((p) => p.value) };
    // A run that does not diverge can still learn nothing: its loss stays finite while accuracy sits at chance.
    const fails = { none: results.none.filter((p) => scored(p) < CHANCE_BAND).map((p) => p.value), batch: results.batch.filter((p) => scored(p) < CHANCE_BAND).map((p) => p.value) };
    const best = (k: 'none' | 'batch') => Math.max(...results[k].map(scored));
    const listed = (values: number[]) => (values.length ? `learning rates ${values.map((v) => num(v)).join(', ')}` : 'no learning rate');
    const findings = [
      `Test accuracy of at least ${pct(settings.learnsAt)} after ${settings.steps} steps: at learning rates ${rangeText(learns.batch)} with BN (${learns.batch.length} of ${settings.rates.length}), ` +
        `${rangeText(learns.none)} without (${learns.none.length} of ${settings.rates.length}).`,
      `The loss diverged (NaN, infinite or above 100 × ln 10) at ${listed(diverges.batch)} with BN and at ${listed(diverges.none)} without; ` +
        `training failed (diverged, or ended below ${pct(CHANCE_BAND)} test accuracy) at ${listed(fails.batch)} with BN and at ${listed(fails.none)} without.`,
      'Per rate, with BN / without: ' + settings.rates.map((lr, i) => `${num(lr)}: ${pct(scored(results.batch[i]))} / ${pct(scored(results.none[i]))}`).join(', ') + '.',
    ];
    const checks: Check[] = [
      check('BN learns at more learning rates', { a: learns.batch.length, b: learns.none.length, unit: 'count' },
        `${learns.batch.length} vs ${learns.none.length} of ${settings.rates.length} rates reach ${pct(settings.learnsAt)}`, true),
      check('without BN, training fails (diverges or ends near chance) at more learning rates', { a: fails.none.length, b: fails.batch.length, unit: 'count' },
        `fails at ${fails.none.length} of ${settings.rates.length} rates without BN, ${fails.batch.length} with`, true),
      check('BN\'s best accuracy is higher', { a: best('batch'), b: best('none'), unit: 'pct' }, `${pct(best('batch'))} vs ${pct(best('none'))}`),
    ];
    const quantities: Quantity[] = [
      { name: `learning rates reaching ${pct(settings.learnsAt)}, with BN`, value: learns.batch.length, unit: 'count' },
      { name: `learning rates reaching ${pct(settings.learnsAt)}, without BN`, value: learns.none.length, unit: 'count' },
      { name: 'learning rates at which the loss diverges, with BN', value: diverges.batch.length, unit: 'count' },
      { name: 'learning rates at which the loss diverges, without BN', value: diverges.none.length, unit: 'count' },
      { name: `learning rates at which training fails (diverges or ends below ${pct(CHANCE_BAND)}), with BN`, value: fails.batch.length, unit: 'count' },
      { name: `learning rates at which training fails (diverges or ends below ${pct(CHANCE_BAND)}), without BN`, value: fails.none.length, unit: 'count' },
      ...settings.rates.flatMap((lr, i) => [
        { name: `test accuracy at lr ${num(lr)}, with BN`, value: scored(results.batch[i]), unit: 'pct' as const },
        { name: `test accuracy at lr ${num(lr)}, without BN`, value: scored(results.none[i]), unit: 'pct' as const },
      ]),
    ];
    const x = (lr: number) => Math.log10(lr);
    return {
      findings,
      checks,
      quantities,
      chart: {
        title: `MNIST, 3 × 100 ReLU, SGD, ${settings.steps} steps of 60: accuracy against learning rate`,
        panels: [
          { title: 'test accuracy (diverged runs at 10%)', xLabel: 'log10(learning rate)', yLabel: 'test accuracy', yRange: [0, 1], legend: 'bottom-left', series: [
            { name: 'without BN', points: results.none.map((p) => [x(p.value), scored(p)] as const), dashed: true, color: '#d62728' },
            { name: 'with BN', points: results.batch.map((p) => [x(p.value), scored(p)] as const), color: '#1f77b4' },
          ] },
          { title: 'final training loss (log10)', xLabel: 'log10(learning rate)', yLabel: 'log10(loss); diverged runs not drawn', legend: 'bottom-left', series: [
            { name: 'without BN', points: results.none.filter((p) => p.divergedAt === null).map((p) => [x(p.value), Math.log10(p.finalLoss)] as const), dashed: true, color: '#d62728' },
            { name: 'with BN', points: results.batch.filter((p) => p.divergedAt === null).map((p) => [x(p.value), Math.log10(p.finalLoss)] as const), color: '#1f77b4' },
          ] },
        ],
      },
    };
  },
});
