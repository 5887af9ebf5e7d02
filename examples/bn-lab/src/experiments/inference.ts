/**
 * Experiment 5 — train versus inference. One BN network is trained; the test set is then classified
 * (a) with the moving statistics, as inference should; (b) wrongly, with the statistics of each test
 * batch, for random batches of several sizes; (c) with batch statistics of skewed batches that each
 * hold one digit; (d) with moving averages that have not converged: the momentum swept from 0 to 0.9999.
 *
 * For (d) one training run serves every momentum: training never reads the moving averages, so the
 * network is trained once with momentum 0 (each BN layer's "moving" statistics are then exactly the
 * last batch's), and after every step the moving averages of each momentum are updated from them,
 * moving ← m·moving + (1 − m)·batch, in float64, as Keras would have with that momentum.
 */
import { BatchNormalization, Random, fromTypedArray, noGrad, optimizers } from 'gradlab';
import type { models } from 'gradlab';
import type { Analysis, Check, LabContext, Measured, Quantity } from '../lab.js';
import { check, defineExperiment, num, pct } from '../lab.js';
import { BatchStream, batchOf, firstN } from '../mnist.js';
import type { Digits } from '../mnist.js';
import { describeNet, mlp } from '../nets.js';
import type { NetSpec } from '../nets.js';
import { accuracy, keepingState, runLayers, trainStep } from '../train.js';

/** Shadow moving averages, one pair of float64 arrays per BN layer, for one momentum. */
interface Shadow { momentum: number; mean: Float64Array[]; variance: Float64Array[] }

interface Settings {
  steps: number; every: number; lr: number; batchSize: number; testBatches: number[]; skewedBatches: number[]; momenta: number[];
  /** Training images over which the exact population statistics are computed. */
  populationExamples: number;
  seed: number; optimizer: string; network: string;
}
interface Figures {
  /** Test accuracy with Keras's default momentum (0.99) moving statistics, after training. */
  moving: number;
  /** Test accuracy with the exact mean and variance of each BN input over the whole training set. */
  population: number;
  random: Array<{ batchSize: number; accuracy: number }>;
  skewed: Array<{ batchSize: number; accuracy: number }>;
  steps: number[];
  byMomentum: Array<{ momentum: number; accuracy: number[] }>;
  /** At each checkpoint: test batches of 1,000 normalised by their own statistics. */
  batchStatistics1000: number[];
}

export const inference = defineExperiment<Settings, Figures>({
  id: 'inference',
  number: 5,
  title: 'Train versus inference: moving statistics, batch statistics, unconverged averages',
  claim: {
    zh: '测试阶段的处理:在测试阶段,必须使用整个训练集的均值和方差进行数据规范化,而不仅是小批量,可能导致复杂性增加。',
    en: 'Handling the test phase: at test time the data must be normalised with the mean and variance of the whole training set, not those of a mini-batch, which can add complexity.',
  },
  method: 'MNIST, 784-100-100-100-10 with ReLU and BatchNormalization before each ReLU, plain SGD (learning rate 0.1, batches of 60). ' +
    'After training, the test set is classified in inference mode (moving statistics); with each test batch normalised by its own statistics ' +
    '(`training: true` at inference, the moving averages restored afterwards), for shuffled batches of 2 to 1,000 images and for skewed batches ' +
    'that each hold images of a single digit; and with the moving averages that momenta from 0 to 0.9999 would have produced by each checkpoint.',

  async run(ctx: LabContext): Promise<Measured<Settings, Figures>> {
    const size = ctx.quick
      ? { steps: 250, every: 125, testBatches: [2, 16, 250], skewedBatches: [50], momenta: [0.9, 0.99, 0.999, 0.9999], populationExamples: 5000 }
      : { steps: 1500, every: 150, testBatches: [2, 4, 8, 16, 32, 64, 128, 256, 1000], skewedBatches: [16, 64, 256], momenta: [0, 0.5, 0.9, 0.99, 0.999, 0.9999], populationExamples: ctx.train.count };
    const spec: NetSpec = { hidden: [100, 100, 100], activation: 'relu', norm: 'batch', momentum: 0, seed: ctx.seed };
    const settings: Settings = { ...size, lr: 0.1, batchSize: 60, seed: ctx.seed, optimizer: 'SGD', network: describeNet(spec) };
    const model = mlp(spec);
    const bns = model.layers.filter((l): l is BatchNormalization => l instanceof BatchNormalization);
    const shadows: Shadow[] = settings.momenta.map((momentum) => ({
      momentum,
      mean: bns.map((bn) => new Float64Array(bn.movingMean.size)), // Keras starts at 0 …
      variance: bns.map((bn) => new Float64Array(bn.movingVariance.size).fill(1)), // … and 1
    }));
    /** Accuracy with the moving statistics set to a shadow's. */
    const withShadow = (s: Shadow): number => keepingState(model, () => {
      setMovingStatistics(model, bns, s);
      return accuracy(model, ctx.test);
    });

    const optimizer = new optimizers.SGD({ lr: settings.lr });
    const stream = new BatchStream(ctx.train, settings.batchSize, ctx.seed);
    const at: number[] = [];
    const byMomentum: number[][] = settings.momenta.map(() => []);
    const reference: number[] = [];
    for (let step = 1; step <= settings.steps; step++) {
      const batch = stream.next();
      trainStep(model, optimizer, batch.x, batch.y);
      bns.forEach((bn, i) => { // momentum 0: the layer's buffers hold this batch's statistics
        const mu = bn.movingMean.dataSync(), v = bn.movingVariance.dataSync();
        for (const s of shadows) {
          const m = s.momentum, mean = s.mean[i], variance = s.variance[i];
          for (let c = 0; c < mean.length; c++) { mean[c] = m * mean[c] + (1 - m) * mu[c]; variance[c] = m * variance[c] + (1 - m) * v[c]; }
        }
      });
      if (step % settings.every === 0) {
        at.push(step);
        shadows.forEach((s, k) => byMomentum[k].push(withShadow(s)));
        reference.push(accuracy(model, ctx.test, { batchStatistics: true, batchSize: 1000 }));
      }
    }
    const keras = shadows[settings.momenta.indexOf(0.99)];
    const moving = withShadow(keras);
    // What the article prescribes: the mean and variance over the whole training set, exactly.
    const population = populationStatistics(model, bns, firstN(ctx.train, settings.populationExamples));
    const populationAccuracy = withShadow(population);
    setMovingStatistics(model, bns, keras); // from here on: Keras's default momentum's averages

    const shuffled = Int32Array.from({ length: ctx.test.count }, (_, i) => i);
    new Random(ctx.seed).shuffle(shuffled);
    const byDigit = Int32Array.from(shuffled).sort((a, b) => ctx.test.labels[a] - ctx.test.labels[b] || a - b);
    const random = settings.testBatches.map((b) => ({ batchSize: b, accuracy: accuracy(model, ctx.test, { batchStatistics: true, batchSize: b, rows: shuffled }) }));
    const skewed = settings.skewedBatches.map((b) => ({ batchSize: b, accuracy: accuracy(model, ctx.test, { batchStatistics: true, batchSize: b, rows: byDigit }) }));
    return {
      settings,
      figures: { moving, population: populationAccuracy, random, skewed, steps: at, byMomentum: settings.momenta.map((m, k) => ({ momentum: m, accuracy: byMomentum[k] })), batchStatistics1000: reference },
    };
  },

  analyse({ settings, figures }: Measured<Settings, Figures>): Analysis {
    const { moving, population, random, skewed, steps: at, batchStatistics1000: reference } = figures;
    const byMomentum = figures.byMomentum.map((m) => m.accuracy);
    const final = settings.momenta.map((m, k) => ({ momentum: m, accuracy: byMomentum[k][at.length - 1] }));

    const smallest = random[0], largest = random[random.length - 1];
    const worstSkew = skewed.reduce((a, b) => (b.accuracy < a.accuracy ? b : a));
    const accAt = (m: number) => final[settings.momenta.indexOf(m)].accuracy;
    const slowest = settings.momenta[settings.momenta.length - 1];
    const findings = [
      `Inference with the moving statistics (momentum 0.99): ${pct(moving)} test accuracy after ${settings.steps} steps; with the exact mean and ` +
        `variance over the training set (${settings.populationExamples.toLocaleString('en-US')} images), as the article prescribes, computed layer by layer after training: ${pct(population)}.`,
      `With each test batch's own statistics instead: ${random.map((r) => `${pct(r.accuracy)} for batches of ${r.batchSize}`).join(', ')}.`,
      `With skewed test batches, each holding one digit: ${skewed.map((r) => `${pct(r.accuracy)} for batches of ${r.batchSize}`).join(', ')}.`,
      `Moving averages after ${settings.steps} steps, by momentum: ${final.map((r) => `${num(r.momentum, 4)}: ${pct(r.accuracy)}`).join(', ')} ` +
        `(with the statistics of test batches of 1,000 instead: ${pct(reference[reference.length - 1])}). ` +
        `A momentum m averages over about 1/(1 − m) steps: ${settings.momenta.filter((m) => m > 0).map((m) => `${num(m, 4)} → ${num(1 / (1 - m), 4)}`).join(', ')}.`,
    ];
    const checks: Check[] = [
      check('one-digit batches normalised by their own statistics classify far worse than the moving statistics',
        { a: moving, b: worstSkew.accuracy, margin: 0.2, unit: 'pct' }, `${pct(worstSkew.accuracy)} (batches of ${worstSkew.batchSize}) vs ${pct(moving)}`, true),
      check(`batch statistics of ${smallest.batchSize} images are worse than the moving statistics`,
        { a: moving, b: smallest.accuracy, unit: 'pct' }, `${pct(smallest.accuracy)} vs ${pct(moving)}`, true),
      check(`with momentum ${slowest} the moving averages have not converged and inference is worse than with 0.99`,
        { a: accAt(0.99), b: accAt(slowest), margin: 0.05, unit: 'pct' }, `${pct(accAt(slowest))} vs ${pct(accAt(0.99))}`, true),
      check('the moving averages stand in for the whole training set\'s statistics (within 1 point)',
        { a: 0.01, b: Math.abs(moving - population), unit: 'pct' }, `${pct(moving)} vs ${pct(population)}`),
      check(`large random test batches (${largest.batchSize}) come close to the moving statistics (within 2 points)`,
        { a: 0.02, b: Math.abs(largest.accuracy - moving), unit: 'pct' }, `${pct(largest.accuracy)} vs ${pct(moving)}`),
    ];
    const quantities: Quantity[] = [
      { name: 'test accuracy, moving statistics (momentum 0.99)', value: moving, unit: 'pct' },
      { name: 'test accuracy, the training set\'s exact statistics', value: population, unit: 'pct' },
      ...random.map((r) => ({ name: `test accuracy, own statistics of random test batches of ${r.batchSize}`, value: r.accuracy, unit: 'pct' as const })),
      ...skewed.map((r) => ({ name: `test accuracy, own statistics of one-digit test batches of ${r.batchSize}`, value: r.accuracy, unit: 'pct' as const })),
      ...final.map((r) => ({ name: `test accuracy, moving averages with momentum ${num(r.momentum, 4)}`, value: r.accuracy, unit: 'pct' as const })),
    ];
    const palette = ['#8c564b', '#9467bd', '#2ca02c', '#1f77b4', '#ff7f0e', '#d62728'];
    return {
      findings,
      checks,
      quantities,
      chart: {
        title: `MNIST, 3 × 100 ReLU + BN, SGD: normalising test data`,
        panels: [
          { title: 'test accuracy by the statistics used', xLabel: 'log2(test batch size)', yLabel: 'test accuracy', yRange: [0, 1.3], series: [
            { name: 'moving statistics (correct)', points: random.map((r) => [Math.log2(r.batchSize), moving] as const), color: '#1f77b4' },
            { name: 'batch statistics, random batches', points: random.map((r) => [Math.log2(r.batchSize), r.accuracy] as const), dashed: true, color: '#ff7f0e' },
            { name: 'batch statistics, one-digit batches', points: skewed.map((r) => [Math.log2(r.batchSize), r.accuracy] as const), dashed: true, color: '#d62728' },
          ] },
          { title: 'inference accuracy, by BN momentum', xLabel: 'training steps', yLabel: 'test accuracy (moving statistics)', yRange: [0, 1], legend: 'bottom-right', series: [
            ...settings.momenta.map((m, k) => ({ name: `momentum ${m}`, points: at.map((s, i) => [s, byMomentum[k][i]] as const), color: palette[k % palette.length] })),
            { name: 'batch statistics (1,000)', points: at.map((s, i) => [s, reference[i]] as const), dashed: true, color: '#7f7f7f' },
          ] },
        ],
      },
    };
  },
});

/**
 * The exact mean and (biased) variance of every BN layer's input over a whole data set, in inference
 * mode, layer by layer: layer i's input depends on the statistics of the BN layers before it, so those
 * are set first. Batches are merged with Chan's formula (float64), M2 = Σ (x − mean)² never E[x²] − E[x]².
 * Leaves the model holding these statistics.
 */
function populationStatistics(model: models.Sequential, bns: BatchNormalization[], set: Digits): Shadow {
  const result: Shadow = { momentum: NaN, mean: [], variance: [] };
  const rows = Int32Array.from({ length: set.count }, (_, i) => i);
  for (const bn of bns) {
    const C = bn.movingMean.size, index = model.layers.indexOf(bn);
    const mean = new Float64Array(C), m2 = new Float64Array(C);
    let n = 0;
    for (let start = 0; start < set.count; start += 1000) {
      const x = noGrad(() => runLayers(model, batchOf(set, rows.subarray(start, Math.min(set.count, start + 1000))).x, false, index).data);
      const v = x.dataSync(), b = x.shape[0];
      for (let c = 0; c < C; c++) {
        let bm = 0;
        for (let r = 0; r < b; r++) bm += v[r * C + c];
        bm /= b;
        let bm2 = 0;
        for (let r = 0; r < b; r++) { const d = v[r * C + c] - bm; bm2 += d * d; }
        const delta = bm - mean[c], total = n + b;
        mean[c] += (delta * b) / total;
        m2[c] += bm2 + (delta * delta * n * b) / total;
      }
      n += b;
    }
    result.mean.push(mean);
    result.variance.push(m2.map((q) => q / n));
    setMovingStatistics(model, bns.slice(0, result.mean.length), result);
  }
  return result;
}

/** Put a shadow's moving averages into the BN layers' buffers (through loadStateDict, which checks names and shapes). */
function setMovingStatistics(model: models.Sequential, bns: BatchNormalization[], s: Shadow): void {
  const state = model.stateDict();
  bns.forEach((bn, i) => {
    for (const [key, values] of [['movingMean', s.mean[i]], ['movingVariance', s.variance[i]]] as const) {
      const name = `${bn.name}.${key}`;
      if (!state.has(name)) throw new Error(`inference: the model has no buffer '${name}' (it has ${[...state.keys()].join(', ')})`);
      state.set(name, fromTypedArray(Float32Array.from(values), [values.length]));
    }
  });
  model.loadStateDict(state);
}
