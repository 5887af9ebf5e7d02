/**
 * Experiment 3 — initialisation sensitivity: the hidden layers' kernels drawn from He's normal
 * initialisation times a factor from far too small (0.01) to far too large (100), with and without BN.
 */
import { optimizers } from 'gradlab';
import type { Dense } from 'gradlab';
import type { Analysis, Check, LabContext, Measured, Quantity } from '../lab.js';
import { check, defineExperiment, num, pct } from '../lab.js';
import { BatchStream } from '../mnist.js';
import { describeNet, mlp } from '../nets.js';
import type { NetSpec } from '../nets.js';
import { accuracy, trainFor } from '../train.js';
import { learningValues, rangeText, scored, sweep } from './sweep.js';
import type { SweepResults } from './sweep.js';

interface Settings { scales: number[]; steps: number; lr: number; batchSize: number; learnsAt: number; seed: number; optimizer: string; network: Record<string, string> }
/**
 * What training does to the hidden kernels of the BN network at one scale: how far each moves,
 * relative to its size (‖W_end − W_start‖ / ‖W_start‖), and the test accuracy when they are frozen
 * at their random start (only BN's γ and β, the biases and the output layer trained).
 */
interface KernelStudy { scale: number; movement: number[]; trained: number; frozen: number }
interface Figures { results: SweepResults; kernels?: KernelStudy[] }

const norm2 = (v: ArrayLike<number>): number => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));

/** Train the BN network at `scale` twice: once as usual (measuring how far the hidden kernels move), once with them frozen. */
function studyKernels(ctx: LabContext, spec: NetSpec, scale: number, steps: number, lr: number): KernelStudy {
  const train = (freeze: boolean) => {
    const model = mlp(spec);
    const hidden = model.layers.filter((l) => l.className === 'Dense').slice(0, -1).map((l) => (l as Dense).kernel!);
    const start = hidden.map((k) => Float64Array.from(k.data.dataSync()));
    const optimizer = new optimizers.SGD({ lr });
    optimizer.params = model.parameters().filter((p) => !(freeze && hidden.includes(p)));
    trainFor(model, optimizer, new BatchStream(ctx.train, 60, ctx.seed), { steps });
    const movement = hidden.map((k, i) => norm2(k.data.dataSync().map((x, j) => x - start[i][j])) / norm2(start[i]));
    return { movement, accuracy: accuracy(model, ctx.test) };
  };
  const trained = train(false), frozen = train(true);
  ctx.log(`  scale ${num(scale)} with BN: hidden kernels move by ${trained.movement.map((m) => num(m)).join(', ')} of their size; ` +
    `test accuracy ${pct(trained.accuracy)}, ${pct(frozen.accuracy)} with them frozen`);
  return { scale, movement: trained.movement, trained: trained.accuracy, frozen: frozen.accuracy };
}

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

  notes: [
    '**Why BN shrugs off the scale, and what it costs: scale invariance.** BN normalises each unit over the batch, so multiplying a ' +
      'kernel W by s multiplies the unit\'s mean and standard deviation by s and leaves x̂ — and the loss — unchanged: L(sW) = L(W) ' +
      '(up to BN\'s ε). Differentiating both sides gives ∇L(sW) = ∇L(W)/s: the larger the kernel, the smaller its gradient. One SGD ' +
      'step on V = sW is V − η∇L(V) = s·(W − (η/s²)∇L(W)), so measured in the kernel\'s own scale the step is that of learning rate η/s². ' +
      'At ×100 with η = 0.1 that is 10⁻⁵: the hidden kernels hardly move (the last rows of the table give how far, relative to their size, ' +
      'against ×1), and freezing them at their random start gives about the same accuracy. What the BN network learns at ×100 is learnt by BN\'s ' +
      'γ and β, the biases and the output layer, on top of fixed random features of the image — a network that still learns, but not the one ' +
      'trained at ×1. Scale invariance shows once more in the frozen networks: at ×1 and at ×100 they are the same random kernels, one 100 times ' +
      'the other, which BN makes the same network (up to its ε), and they score the same. ' +
      '(At ×0.01 the effective rate is 10⁴ times η instead; but because L(sW) = L(W) the gradient is orthogonal to W, so every step lengthens W, ' +
      'and the effective rate falls by itself.)',
  ],

  async run(ctx: LabContext): Promise<Measured<Settings, Figures>> {
    const size = ctx.quick
      ? { scales: [0.01, 1, 10], steps: 150, learnsAt: 0.5 }
      : { scales: [0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100], steps: 500, learnsAt: 0.9 };
    const spec = (heScale: number, norm: 'none' | 'batch'): NetSpec =>
      ({ hidden: [100, 100, 100], activation: 'relu', norm, init: { heScale }, outputInit: { heScale: 1 }, seed: ctx.seed });
    const settings: Settings = { ...size, lr: 0.1, batchSize: 60, seed: ctx.seed, optimizer: 'SGD', network: { none: describeNet(spec(1, 'none')), batch: describeNet(spec(1, 'batch')) } };
    const results = sweep(ctx, settings.scales, settings.steps, spec, () => settings.lr, 'scale');
    const kernels = [1, settings.scales[settings.scales.length - 1]].map((s) => studyKernels(ctx, spec(s, 'batch'), s, settings.steps, settings.lr));
    return { settings, figures: { results, kernels } };
  },

  analyse({ settings, figures: { results, kernels = [] } }: Measured<Settings, Figures>): Analysis {
    const learns = { none: learningValues(results.none, settings.learnsAt), batch: learningValues(results.batch, settings.learnsAt) };
    const at = (k: 'none' | 'batch', s: number) => scored(results[k][settings.scales.indexOf(s)]);
    const smallest = settings.scales[0], largest = settings.scales[settings.scales.length - 1];
    const stuck = results.none.filter((p) => p.divergedAt === null && p.accuracy < 0.2).map((p) => p.value);
    const diverged = results.none.filter((p) => p.divergedAt !== null).map((p) => p.value);
    const meanMove = (k: KernelStudy) => k.movement.reduce((s, m) => s + m, 0) / k.movement.length;
    const findings = [
      `Test accuracy of at least ${pct(settings.learnsAt)} after ${settings.steps} steps: at scales ${rangeText(learns.batch)} with BN (${learns.batch.length} of ${settings.scales.length}), ` +
        `${rangeText(learns.none)} without (${learns.none.length} of ${settings.scales.length}).`,
      `Without BN, ${stuck.length ? `scales ${stuck.map((v) => num(v)).join(', ')} leave the network at chance (the signal vanishes)` : 'no scale leaves the network at chance'} and ` +
        `${diverged.length ? `scales ${diverged.map((v) => num(v)).join(', ')} diverge` : 'no scale diverges'}; with BN, ` +
        `${results.batch.some((p) => p.divergedAt !== null) ? 'some scales diverge too' : 'no scale diverges'}.`,
      'Per scale, with BN / without: ' + settings.scales.map((s, i) => `${num(s)}: ${pct(scored(results.batch[i]))} / ${pct(scored(results.none[i]))}`).join(', ') + '.',
      ...kernels.map((k) => `With BN at scale ${num(k.scale)}, the three hidden kernels move by ${k.movement.map((m) => num(m, 2)).join(', ')} of their size over ${settings.steps} steps; ` +
        `test accuracy ${pct(k.trained)}, and ${pct(k.frozen)} with those kernels frozen at their random start.`),
    ];
    const checks: Check[] = [
      check(`with far too small weights (×${num(smallest)}) BN still learns and the plain network does not`,
        { a: at('batch', smallest), b: at('none', smallest), margin: 0.2, unit: 'pct' }, `${pct(at('batch', smallest))} with BN, ${pct(at('none', smallest))} without`, true),
      check(`with far too large weights (×${num(largest)}) BN still learns and the plain network does not`,
        { a: at('batch', largest), b: at('none', largest), margin: 0.2, unit: 'pct' }, `${pct(at('batch', largest))} with BN, ${pct(at('none', largest))} without`, true),
      check('BN learns at more scales', { a: learns.batch.length, b: learns.none.length, unit: 'count' }, `${learns.batch.length} vs ${learns.none.length}`),
      ...kernels.filter((k) => k.scale === largest).map((k) => check(
        `with BN at ×${num(largest)}, freezing the hidden kernels changes test accuracy by less than a point`,
        { a: 0.01, b: Math.abs(k.trained - k.frozen), unit: 'pct' }, `${pct(k.trained)} trained, ${pct(k.frozen)} frozen`)),
    ];
    const quantities: Quantity[] = [
      { name: `scales reaching ${pct(settings.learnsAt)}, with BN`, value: learns.batch.length, unit: 'count' },
      { name: `scales reaching ${pct(settings.learnsAt)}, without BN`, value: learns.none.length, unit: 'count' },
      ...settings.scales.flatMap((s, i) => [
        { name: `test accuracy at ×${num(s)}, with BN`, value: scored(results.batch[i]), unit: 'pct' as const },
        { name: `test accuracy at ×${num(s)}, without BN`, value: scored(results.none[i]), unit: 'pct' as const },
      ]),
      ...kernels.flatMap((k) => [
        { name: `with BN at ×${num(k.scale)}: how far the hidden kernels move (mean of the three, relative to their size)`, value: meanMove(k), unit: 'number' as const },
        { name: `with BN at ×${num(k.scale)}: test accuracy with the hidden kernels frozen`, value: k.frozen, unit: 'pct' as const },
      ]),
    ];
    const x = (s: number) => Math.log10(s);
    return {
      findings,
      checks,
      quantities,
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
