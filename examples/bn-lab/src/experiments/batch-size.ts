/**
 * Experiment 4 — batch size: BatchNormalization against LayerNormalization and GroupNormalization at
 * batch sizes 2 to 64, each network seeing the same number of training examples.
 */
import { optimizers } from 'gradlab';
import type { Analysis, Check, LabContext, Measured, Quantity } from '../lab.js';
import { check, defineExperiment, pct } from '../lab.js';
import { BatchStream } from '../mnist.js';
import { describeNet, mlp } from '../nets.js';
import type { NetSpec } from '../nets.js';
import { accuracy, tailMean, trainFor } from '../train.js';

const NORMS = ['batch', 'layer', 'group'] as const;
type NormName = (typeof NORMS)[number];
const LABEL: Record<NormName, string> = { batch: 'BatchNorm', layer: 'LayerNorm', group: 'GroupNorm' };

interface Point {
  batchSize: number;
  steps: number;
  /** Inference mode: BN with its moving statistics. */
  accuracy: number;
  /** BN only: test batches of the training batch size, normalised with their own statistics (as in training). */
  batchStatsAccuracy: number | null;
  finalLoss: number;
  divergedAt: number | null;
}

interface Settings { batchSizes: number[]; examples: number; lr: number; groups: number; seed: number; optimizer: string; networks: Record<NormName, string> }
interface Figures { results: Record<NormName, Point[]> }

export const batchSize = defineExperiment<Settings, Figures>({
  id: 'batch-size',
  number: 4,
  title: 'Small batches: BatchNorm against LayerNorm and GroupNorm',
  claim: {
    zh: '在小批量大小时的效果不佳:如果批量大小过小,批标准化的效果可能不明显,甚至可能对模型训练产生负面影响。',
    en: 'Poor results with small batches: if the batch size is too small, the effect of batch normalization may not show, and it may even harm training.',
  },
  method: 'MNIST, 784-100-100-100-10 with ReLU, a normalisation layer before each ReLU: BatchNormalization, LayerNormalization or ' +
    'GroupNormalization (10 groups of 10 units). For each batch size the network is trained on the same number of examples (so a batch of 2 ' +
    'takes 32 times as many steps as a batch of 64) with plain SGD at one learning rate, from the same initial weights. Accuracy is measured ' +
    'on the test set in inference mode; for BN also with test batches of the training batch size normalised by their own statistics.',

  async run(ctx: LabContext): Promise<Measured<Settings, Figures>> {
    const size = ctx.quick ? { batchSizes: [2, 16], examples: 2000 } : { batchSizes: [2, 4, 8, 16, 32, 64], examples: 30000 };
    const results = {} as Record<NormName, Point[]>;
    const nets = {} as Record<NormName, string>;
    const settings: Settings = { ...size, lr: 0.05, groups: 10, seed: ctx.seed, optimizer: 'SGD', networks: nets };
    for (const norm of NORMS) {
      results[norm] = [];
      const spec: NetSpec = { hidden: [100, 100, 100], activation: 'relu', norm, groups: settings.groups, seed: ctx.seed };
      nets[norm] = describeNet(spec);
      for (const b of settings.batchSizes) {
        const model = mlp(spec);
        const steps = Math.round(settings.examples / b);
        const log = trainFor(model, new optimizers.SGD({ lr: settings.lr }), new BatchStream(ctx.train, b, ctx.seed), { steps });
        const ok = log.divergedAt === null;
        const point: Point = {
          batchSize: b, steps,
          accuracy: ok ? accuracy(model, ctx.test) : 0.1,
          batchStatsAccuracy: norm === 'batch' && ok ? accuracy(model, ctx.test, { batchStatistics: true, batchSize: b }) : null,
          finalLoss: tailMean(log.losses, 200), divergedAt: log.divergedAt,
        };
        results[norm].push(point);
        ctx.log(`  ${LABEL[norm]} batch ${b} (${steps} steps): test accuracy ${pct(point.accuracy)}` +
          `${point.batchStatsAccuracy !== null ? `, ${pct(point.batchStatsAccuracy)} with batch statistics` : ''}`);
      }
    }
    return { settings, figures: { results } };
  },

  analyse({ settings, figures: { results } }: Measured<Settings, Figures>): Analysis {
    const acc = (n: NormName, b: number) => results[n][settings.batchSizes.indexOf(b)].accuracy;
    const smallest = settings.batchSizes[0], largest = settings.batchSizes[settings.batchSizes.length - 1];
    const findings = [
      `At batch size ${smallest}: BatchNorm ${pct(acc('batch', smallest))}, LayerNorm ${pct(acc('layer', smallest))}, GroupNorm ${pct(acc('group', smallest))} test accuracy.`,
      `At batch size ${largest}: BatchNorm ${pct(acc('batch', largest))}, LayerNorm ${pct(acc('layer', largest))}, GroupNorm ${pct(acc('group', largest))}.`,
      'BatchNorm with test batches normalised by their own statistics (as in training): ' +
        results.batch.map((p) => `batch ${p.batchSize}: ${p.batchStatsAccuracy === null ? 'diverged' : pct(p.batchStatsAccuracy)}`).join(', ') + '.',
    ];
    const checks: Check[] = [
      check(`at batch size ${smallest} BN's accuracy is below LayerNorm's`, { a: acc('layer', smallest), b: acc('batch', smallest), unit: 'pct' },
        `${pct(acc('batch', smallest))} vs ${pct(acc('layer', smallest))}`, true),
      check(`at batch size ${smallest} BN's accuracy is below GroupNorm's`, { a: acc('group', smallest), b: acc('batch', smallest), unit: 'pct' },
        `${pct(acc('batch', smallest))} vs ${pct(acc('group', smallest))}`, true),
      check(`BN does better at batch size ${largest} than at ${smallest}`, { a: acc('batch', largest), b: acc('batch', smallest), unit: 'pct' },
        `${pct(acc('batch', largest))} vs ${pct(acc('batch', smallest))}`, true),
      check(`at batch size ${largest} BN's accuracy is above LayerNorm's`, { a: acc('batch', largest), b: acc('layer', largest), unit: 'pct' },
        `${pct(acc('batch', largest))} vs ${pct(acc('layer', largest))}`),
    ];
    const quantities: Quantity[] = settings.batchSizes.flatMap((b, i) => [
      ...NORMS.map((n) => ({ name: `batch ${b}: ${LABEL[n]}`, value: acc(n, b), unit: 'pct' as const })),
      { name: `batch ${b}: BatchNorm with each test batch's own statistics`, value: results.batch[i].batchStatsAccuracy, unit: 'pct' as const },
    ]);
    const x = (b: number) => Math.log2(b);
    const colors: Record<NormName, string> = { batch: '#1f77b4', layer: '#2ca02c', group: '#ff7f0e' };
    return {
      findings,
      checks,
      quantities,
      chart: {
        title: `MNIST, 3 × 100 ReLU, SGD lr ${settings.lr}, ${settings.examples.toLocaleString('en-US')} training examples at every batch size`,
        panels: [
          { title: 'test accuracy (inference mode)', xLabel: 'log2(batch size)', yLabel: 'test accuracy', yRange: [0, 1], legend: 'bottom-right', series: [
            ...NORMS.map((n) => ({ name: LABEL[n], points: results[n].map((p) => [x(p.batchSize), p.accuracy] as const), color: colors[n] })),
            { name: 'BatchNorm, batch statistics', points: results.batch.map((p) => [x(p.batchSize), p.batchStatsAccuracy ?? 0.1] as const), dashed: true, color: colors.batch },
          ] },
          { title: 'training loss at the end (last 200 steps)', xLabel: 'log2(batch size)', yLabel: 'loss', series:
            NORMS.map((n) => ({ name: LABEL[n], points: results[n].filter((p) => p.divergedAt === null).map((p) => [x(p.batchSize), p.finalLoss] as const), color: colors[n] })) },
        ],
      },
    };
  },
});
