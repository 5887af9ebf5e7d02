/**
 * Experiment 3 — initialisation sensitivity: the hidden layers' kernels drawn from He's normal
 * initialisation times a factor from far too small (0.01) to far too large (100), with and without BN.
 */
import type { Analysis, Check, LabContext, Measured } from '../lab.js';
import { defineExperiment, num, pct } from '../lab.js';
import { describeNet } from '../nets.js';
import type { NetSpec } from '../nets.js';
import { learningValues, rangeText, scored, sweep } from './sweep.js';
import type { SweepResults } from './sweep.js';

interface Settings { scales: number[]; steps: number; lr: number; batchSize: number; learnsAt: number; seed: number; optimizer: string; network: Record<string, string> }
interface Figures { results: SweepResults }

export const initialisation = defineExperiment<Settings, Figures>({
  id: 'initialisation',
  number: 3,
  title: 'Initialisation sensitivity',
  claim: {
    zh: '稳定性增强:减少了对网络初始化和学习率的敏感性,使得模型训练过程更加稳定。',
    en: 'Better stability: it reduces the sensitivity to the network\'s initialisation and to the learning rate, so that training is more stable.',
  },
  method: 'MNIST, 784-100-100-100-10 with ReLU hidden units, with BatchNormalization before each ReLU or without. The three hidden ' +
    'kernels are drawn from N(0, (s·√(2/fan_in))²): He\'s initialisation (s = 1, right for ReLU) times a scale s; the output layer, which ' +
    'no BN follows in either network, keeps s = 1. Plain SGD with learning rate 0.1, batches of 60, the same seed and batches for every run.',

  async run(ctx: LabContext): Promise<Measured<Settings, Figures>> {
    const size = ctx.quick
      ? { scales: [0.01, 1, 10], steps: 150, learnsAt: 0.5 }
      : { scales: [0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100], steps: 500, learnsAt: 0.9 };
    const spec = (heScale: number, norm: 'none' | 'batch'): NetSpec =>
      ({ hidden: [100, 100, 100], activation: 'relu', norm, init: { heScale }, outputInit: { heScale: 1 }, seed: ctx.seed });
    const settings: Settings = { ...size, lr: 0.1, batchSize: 60, seed: ctx.seed, optimizer: 'SGD', network: { none: describeNet(spec(1, 'none')), batch: describeNet(spec(1, 'batch')) } };
    const results = sweep(ctx, settings.scales, settings.steps, spec, () => settings.lr, 'scale');
    return { settings, figures: { results } };
  },

  analyse({ settings, figures: { results } }: Measured<Settings, Figures>): Analysis {

    const learns = { none: learningValues(results.none, settings.learnsAt), batch: learningValues(results.batch, settings.learnsAt) };
    const at = (k: 'none' | 'batch', s: number) => scored(results[k][settings.scales.indexOf(s)]);
    const smallest = settings.scales[0], largest = settings.scales[settings.scales.length - 1];
    const stuck = results.none.filter((p) => p.divergedAt === null && p.accuracy < 0.2).map((p) => p.value);
    const diverged = results.none.filter((p) => p.divergedAt !== null).map((p) => p.value);
    const findings = [
      `Test accuracy of at least ${pct(settings.learnsAt)} after ${settings.steps} steps: at scales ${rangeText(learns.batch)} with BN (${learns.batch.length} of ${settings.scales.length}), ` +
        `${rangeText(learns.none)} without (${learns.none.length} of ${settings.scales.length}).`,
      `Without BN, ${stuck.length ? `scales ${stuck.map((v) => num(v)).join(', ')} leave the network at chance (the signal vanishes)` : 'no scale leaves the network at chance'} and ` +
        `${diverged.length ? `scales ${diverged.map((v) => num(v)).join(', ')} diverge` : 'no scale diverges'}; with BN, ` +
        `${results.batch.some((p) => p.divergedAt !== null) ? 'some scales diverge too' : 'no scale diverges'}.`,
      'Per scale, with BN / without: ' + settings.scales.map((s, i) => `${num(s)}: ${pct(scored(results.batch[i]))} / ${pct(scored(results.none[i]))}`).join(', ') + '.',
    ];
    const checks: Check[] = [
      { name: `with far too small weights (×${num(smallest)}) BN still learns and the plain network does not`, holds: at('batch', smallest) > at('none', smallest) + 0.2, robust: true,
        detail: `${pct(at('batch', smallest))} with BN, ${pct(at('none', smallest))} without` },
      { name: `with far too large weights (×${num(largest)}) BN still learns and the plain network does not`, holds: at('batch', largest) > at('none', largest) + 0.2, robust: true,
        detail: `${pct(at('batch', largest))} with BN, ${pct(at('none', largest))} without` },
      { name: 'BN learns at more scales', holds: learns.batch.length > learns.none.length, robust: false, detail: `${learns.batch.length} vs ${learns.none.length}` },
    ];
    const x = (s: number) => Math.log10(s);
    return {
      findings,
      checks,
      chart: {
        title: `MNIST, 3 × 100 ReLU, SGD lr ${settings.lr}, ${settings.steps} steps: accuracy against initial weight scale`,
        panels: [
          { title: 'test accuracy (diverged runs at 10%)', xLabel: 'log10(scale × He init)', yLabel: 'test accuracy', yRange: [0, 1.15], series: [
            { name: 'without BN', points: results.none.map((p) => [x(p.value), scored(p)] as const), dashed: true, color: '#d62728' },
            { name: 'with BN', points: results.batch.map((p) => [x(p.value), scored(p)] as const), color: '#1f77b4' },
          ] },
          { title: 'training loss at step 1 (log10)', xLabel: 'log10(scale × He init)', yLabel: 'log10(first loss)', legend: 'top-left', series: [
            { name: 'without BN', points: results.none.map((p) => [x(p.value), Math.log10(p.firstLoss)] as const), dashed: true, color: '#d62728' },
            { name: 'with BN', points: results.batch.map((p) => [x(p.value), Math.log10(p.firstLoss)] as const), color: '#1f77b4' },
          ] },
        ],
      },
    };
  },
});
