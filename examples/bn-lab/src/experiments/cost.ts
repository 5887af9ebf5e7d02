/**
 * Experiment 6 — cost: time and memory of a training step with and without BN, and BN's fused op
 * against the composite graph of primitives (BatchNormalization({ fused: false })); LayerNorm and
 * GroupNorm alongside. Memory is what the step's graph holds for backward, counted exactly (memory.ts);
 * with `node --expose-gc` (as `pnpm bn-lab` runs it) the growth of the process's array buffers over
 * the forward pass is measured too.
 */
import { losses, optimizers } from 'gradlab';
import type { Analysis, Check, LabContext, Measured, Quantity } from '../lab.js';
import { check, defineExperiment, num } from '../lab.js';
import { BatchStream } from '../mnist.js';
import { describeNet, mlp } from '../nets.js';
import type { NetSpec, Norm } from '../nets.js';
import { graphMemory } from '../memory.js';
import type { GraphMemory } from '../memory.js';
import { logits } from '../train.js';
import { svgBars } from '../bars.js';

interface Variant { key: string; label: string; norm: Norm; fused?: boolean }
const VARIANTS: Variant[] = [
  { key: 'none', label: 'no normalisation', norm: 'none' },
  { key: 'bn-fused', label: 'BatchNorm, fused', norm: 'batch', fused: true },
  { key: 'bn-composite', label: 'BatchNorm, composite', norm: 'batch', fused: false },
  { key: 'ln', label: 'LayerNorm (fused)', norm: 'layer' },
  { key: 'gn', label: 'GroupNorm (fused, 10 groups)', norm: 'group' },
];

interface Config { name: string; hidden: number[]; activation: 'sigmoid' | 'relu'; batchSize: number; warmup: number; measured: number }

interface Measurement {
  variant: string;
  label: string;
  network: string;
  /** Median wall-clock milliseconds of one step (forward, backward, SGD update). */
  msPerStep: number;
  /** Median CPU milliseconds of one step (this process, worker threads included; on a shared machine the fairer figure). */
  cpuMsPerStep: number;
  graph: GraphMemory;
  /** Growth of process.memoryUsage().arrayBuffers over the forward pass, after a full GC; null without --expose-gc. */
  measuredForwardBytes: number | null;
  params: number;
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const kib = (bytes: number): string => `${num(bytes / 1024, 4)} KiB`;

/** One network of a variant, with its optimizer and its own stream of batches. */
interface Bench { variant: Variant; spec: NetSpec; model: ReturnType<typeof mlp>; optimizer: optimizers.SGD; stream: BatchStream; wall: number[]; cpu: number[] }

/** One training step; returns its wall and CPU milliseconds. */
function step(b: Bench): { wall: number; cpu: number } {
  const batch = b.stream.next();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const loss = losses.sparseCategoricalCrossentropy(logits(b.model, batch.x, true), batch.y, { fromLogits: true });
  b.optimizer.zeroGrad();
  loss.backward();
  b.optimizer.step();
  const c = process.cpuUsage(c0);
  return { wall: performance.now() - t0, cpu: (c.user + c.system) / 1000 };
}

/** Let V8 free what it can: two full collections with a turn of the event loop between (backing stores are released asynchronously). */
async function settle(gc: () => void): Promise<void> {
  gc();
  await new Promise((resolve) => setTimeout(resolve, 20));
  gc();
}

/**
 * Time the variants of one configuration interleaved — round after round, one step of each variant in
 * turn — so that the load of a shared machine falls on all of them alike; then count each graph's memory.
 */
async function measureConfig(ctx: LabContext, config: Config): Promise<Measurement[]> {
  const benches: Bench[] = VARIANTS.map((variant) => {
    const spec: NetSpec = { hidden: config.hidden, activation: config.activation, norm: variant.norm, fused: variant.fused, groups: 10, seed: ctx.seed };
    const model = mlp(spec);
    const optimizer = new optimizers.SGD(model.parameters(), { lr: 0.01 });
    return { variant, spec, model, optimizer, stream: new BatchStream(ctx.train, config.batchSize, ctx.seed), wall: [], cpu: [] };
  });
  for (let round = 0; round < config.warmup + config.measured; round++) {
    for (const b of benches) {
      const t = step(b);
      if (round >= config.warmup) { b.wall.push(t.wall); b.cpu.push(t.cpu); }
    }
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  const out: Measurement[] = [];
  for (const b of benches) {
    const batch = b.stream.next();
    let measuredForwardBytes: number | null = null;
    if (gc) await settle(gc);
    const before = process.memoryUsage().arrayBuffers;
    const loss = losses.sparseCategoricalCrossentropy(logits(b.model, batch.x, true), batch.y, { fromLogits: true });
    if (gc) measuredForwardBytes = process.memoryUsage().arrayBuffers - before;
    const graph = graphMemory(loss, [batch.x, batch.y, ...b.model.parameters().map((p) => p.data)]);
    out.push({
      variant: b.variant.key, label: b.variant.label, network: describeNet(b.spec),
      msPerStep: median(b.wall), cpuMsPerStep: median(b.cpu), graph, measuredForwardBytes,
      params: b.model.countParams().total,
    });
  }
  return out;
}

interface Settings { configs: Config[]; variants: string[]; seed: number; gc: boolean }
interface Figures { results: Array<{ config: string; measurements: Measurement[] }> }

export const cost = defineExperiment<Settings, Figures>({
  id: 'cost',
  number: 6,
  title: 'Cost: time and memory per training step',
  claim: {
    zh: '内存开销:批标准化需要存储每个小批量的均值和方差,可能会增加计算开销和内存使用。',
    en: 'Memory overhead: batch normalization has to store the mean and variance of every mini-batch, which can increase computation and memory use.',
  },
  method: 'One training step (forward, backward, SGD update) of the fully connected networks with no normalisation, BatchNormalization ' +
    '(the fused op, and the composite graph of about ten primitives), LayerNormalization and GroupNormalization, each before every activation. ' +
    'Time: the median wall-clock and CPU time of a step, after warm-up steps, the variants measured in turn, one step each per round, ' +
    'so that the load of a shared machine falls on all of them alike. Memory: the bytes that the graph of one step holds ' +
    'until backward, counted by walking it (intermediate results and tensors saved for backward; parameters and the input batch left out).',

  async run(ctx: LabContext): Promise<Measured<Settings, Figures>> {
    const configs: Config[] = ctx.quick
      ? [{ name: 'Figure 1 network, batch 60', hidden: [100, 100, 100], activation: 'sigmoid', batchSize: 60, warmup: 3, measured: 8 }]
      : [
        { name: 'Figure 1 network, batch 60', hidden: [100, 100, 100], activation: 'sigmoid', batchSize: 60, warmup: 20, measured: 100 },
        { name: '3 × 500 ReLU, batch 256', hidden: [500, 500, 500], activation: 'relu', batchSize: 256, warmup: 5, measured: 40 },
      ];
    const results: Array<{ config: Config; measurements: Measurement[] }> = [];
    for (const config of configs) {
      const measurements = await measureConfig(ctx, config);
      for (const m of measurements) ctx.log(`  ${config.name}, ${m.label}: ${num(m.msPerStep)} ms/step (${num(m.cpuMsPerStep)} ms CPU), graph ${kib(m.graph.total)} in ${m.graph.nodes} ops`);
      results.push({ config, measurements });
    }
    const settings: Settings = { configs, variants: VARIANTS.map((v) => v.label), seed: ctx.seed, gc: typeof (globalThis as { gc?: unknown }).gc === 'function' };
    return { settings, figures: { results: results.map((r) => ({ config: r.config.name, measurements: r.measurements })) } };
  },

  analyse({ settings, figures }: Measured<Settings, Figures>): Analysis {
    const results = figures.results.map((r) => ({ config: settings.configs.find((c) => c.name === r.config)!, measurements: r.measurements }));
    const findings: string[] = [];
    const checks: Check[] = [];
    const quantities: Quantity[] = [];
    for (const { config, measurements } of results) {
      const by = (k: string) => measurements.find((m) => m.variant === k)!;
      const none = by('none'), fused = by('bn-fused'), composite = by('bn-composite');
      const statsBytes = 2 * 4 * config.hidden.reduce((a, b) => a + b, 0); // mean and variance, float32, per BN feature
      findings.push(
        `${config.name}: a step takes ${num(none.cpuMsPerStep)} ms of CPU without normalisation, ${num(fused.cpuMsPerStep)} ms with fused BN ` +
          `(${num(fused.cpuMsPerStep / none.cpuMsPerStep)}×) and ${num(composite.cpuMsPerStep)} ms with the composite BN graph (${num(composite.cpuMsPerStep / none.cpuMsPerStep)}×); ` +
          `LayerNorm ${num(by('ln').cpuMsPerStep)} ms, GroupNorm ${num(by('gn').cpuMsPerStep)} ms.`,
        `${config.name}: the graph holds ${kib(none.graph.total)} for backward without normalisation, ${kib(fused.graph.total)} with fused BN ` +
          `(+${num(100 * (fused.graph.total / none.graph.total - 1))}%) and ${kib(composite.graph.total)} with the composite graph ` +
          `(+${num(100 * (composite.graph.total / none.graph.total - 1))}%, ${composite.graph.nodes} ops against ${fused.graph.nodes}). ` +
          `The batch means and variances the article mentions are ${kib(statsBytes)} of that; the rest is the normalised activations x̂ kept for backward ` +
          `(and, in the composite graph, every intermediate tensor).`,
      );
      if (none.measuredForwardBytes !== null) {
        findings.push(`${config.name}: measured growth of the process's array buffers over one forward pass: ` +
          measurements.map((m) => `${m.label} ${kib(m.measuredForwardBytes ?? NaN)}`).join(', ') + '.');
      }
      const extra = fused.graph.total - none.graph.total;
      checks.push(
        check(`${config.name}: BN makes the graph hold more memory`, { a: fused.graph.total / 1024, b: none.graph.total / 1024, unit: 'KiB' },
          `${kib(fused.graph.total)} vs ${kib(none.graph.total)}`, true),
        check(`${config.name}: the composite BN graph holds more than the fused op`, { a: composite.graph.total / 1024, b: fused.graph.total / 1024, unit: 'KiB' },
          `${kib(composite.graph.total)} vs ${kib(fused.graph.total)}`, true),
        check(`${config.name}: BN's extra memory is mostly the batch means and variances (the article's reason)`, { a: statsBytes / 1024, b: extra / 2048, unit: 'KiB' },
          `${kib(statsBytes)} of statistics in ${kib(extra)} extra`),
        check(`${config.name}: a step with BN takes more CPU time`, { a: fused.cpuMsPerStep, b: none.cpuMsPerStep, unit: 'ms' },
          `${num(fused.cpuMsPerStep)} vs ${num(none.cpuMsPerStep)} ms`),
        check(`${config.name}: the fused BN op is faster than the composite graph`, { a: composite.cpuMsPerStep, b: fused.cpuMsPerStep, unit: 'ms' },
          `${num(fused.cpuMsPerStep)} vs ${num(composite.cpuMsPerStep)} ms`),
      );
      quantities.push(
        ...measurements.map((m) => ({ name: `${config.name}: CPU time per step, ${m.label}`, value: m.cpuMsPerStep, unit: 'ms' as const })),
        ...measurements.map((m) => ({ name: `${config.name}: memory held for backward, ${m.label}`, value: m.graph.total / 1024, unit: 'KiB' as const })),
      );
    }
    const colors = ['#1f77b4', '#ff7f0e'];
    const categories = VARIANTS.map((v) => v.label);
    return {
      findings,
      checks,
      quantities,
      chart: { svg: svgBars('Cost of one training step (forward, backward, SGD), relative to the plain network', [
        { title: 'CPU time per step', yLabel: 'CPU time / plain network', categories, series:
          results.map((r, i) => ({ name: r.config.name, color: colors[i], values: r.measurements.map((m) => m.cpuMsPerStep / r.measurements[0].cpuMsPerStep) })) },
        { title: 'memory held for backward', yLabel: 'graph bytes / plain network', categories, series:
          results.map((r, i) => ({ name: r.config.name, color: colors[i], values: r.measurements.map((m) => m.graph.total / r.measurements[0].graph.total) })) },
      ]) },
    };
  },
});
