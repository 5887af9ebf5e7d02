/**
 * The lab the page runs, and the Node test runs too (so the two can be compared loss for loss): the BN
 * paper's Figure 1 network, 784-100-100-100-10 with sigmoid units, trained twice on the same batches
 * from the same initial weights — once plain, once with a normalisation layer before every sigmoid.
 * The networks, the batches and the training step are examples/bn-lab's own code, imported.
 */
import { losses as lossFns, noGrad, optimizers, toDot } from 'gradlab';
import type { Tensor, models } from 'gradlab';
import { mlp } from '../../bn-lab/src/nets.js';
import type { NetSpec, Norm } from '../../bn-lab/src/nets.js';
import { BatchStream, batchOf } from '../../bn-lab/src/mnist.js';
import type { Digits } from '../../bn-lab/src/mnist.js';
import { accuracy, keepingState, logits, percentiles, runLayers, trainStep } from '../../bn-lab/src/train.js';

/** 'train': BN normalises with the batch's own statistics; 'inference': with its moving averages. */
export type Mode = 'train' | 'inference';

export interface LabSettings {
  norm: Exclude<Norm, 'none'>;
  lr: number;
  /** Kernels start as N(0, std²): the paper's "small random Gaussian values". */
  std: number;
  batchSize: number;
  /** SGD's momentum (0: plain gradient descent, as in the paper). */
  sgdMomentum: number;
  /** BatchNormalization's moving-average momentum (Keras's 0.99): how fast inference statistics follow. */
  bnMomentum: number;
  seed: number;
}

/** The settings of the lab's experiment 1 (examples/bn-lab/src/experiments/convergence.ts). */
export const FIGURE_1: LabSettings = { norm: 'batch', lr: 0.5, std: 0.1, batchSize: 60, sgdMomentum: 0, bnMomentum: 0.99, seed: 1 };

/** Percentile bands are recorded every this many steps (one probe forward per network). */
export const BAND_EVERY = 10;

export interface Band { step: number; p15: number; p50: number; p85: number }

/** One network of the pair and what it has logged. */
export interface Net {
  label: string;
  model: models.Sequential;
  optimizer: optimizers.SGD;
  stream: BatchStream;
  /** The loss of every step taken (before that step's update). */
  losses: number[];
  /** Figure 1(b, c): percentiles of the last hidden layer's first sigmoid input over the probe batch. */
  bands: Band[];
}

/** Refuse a setting where it enters, naming it and the value. */
function check(name: keyof LabSettings, value: number, ok: boolean, want: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok) throw new Error(`BN lab: ${name} should be ${want}, got ${String(value)}`);
}

export function checkSettings(s: LabSettings, trainCount: number): void {
  if (!['batch', 'layer', 'group'].includes(s.norm)) throw new Error(`BN lab: norm should be 'batch', 'layer' or 'group', got '${String(s.norm)}'`);
  check('lr', s.lr, s.lr > 0, 'a positive number');
  check('std', s.std, s.std > 0, 'a positive number');
  check('batchSize', s.batchSize, Number.isInteger(s.batchSize) && s.batchSize >= 2 && s.batchSize <= trainCount, `an integer from 2 to ${trainCount} (the training images)`);
  check('sgdMomentum', s.sgdMomentum, s.sgdMomentum >= 0 && s.sgdMomentum < 1, 'in [0, 1)');
  check('bnMomentum', s.bnMomentum, s.bnMomentum >= 0 && s.bnMomentum < 1, 'in [0, 1)');
  check('seed', s.seed, Number.isInteger(s.seed), 'an integer');
}

export class Lab {
  readonly plain: Net;
  readonly normed: Net;
  step = 0;
  private readonly probe: Tensor;

  constructor(readonly data: { train: Digits; test: Digits }, readonly settings: LabSettings, probeSize = 500) {
    checkSettings(settings, data.train.count);
    this.probe = batchOf(data.test, Int32Array.from({ length: Math.min(probeSize, data.test.count) }, (_, i) => i)).x;
    this.plain = this.makeNet('none');
    this.normed = this.makeNet(settings.norm);
    this.recordBands();
  }

  /** Same seed for both: the same initial kernels (mlp draws them in the same order) and the same batches. */
  private makeNet(norm: Norm): Net {
    const s = this.settings;
    const spec: NetSpec = { hidden: [100, 100, 100], activation: 'sigmoid', norm, init: { std: s.std }, momentum: s.bnMomentum, seed: s.seed };
    const names: Record<Norm, string> = { none: 'no normalisation', batch: 'BatchNormalization', layer: 'LayerNormalization', group: 'GroupNormalization' };
    return {
      label: names[norm], model: mlp(spec), optimizer: new optimizers.SGD({ lr: s.lr, momentum: s.sgdMomentum }),
      stream: new BatchStream(this.data.train, s.batchSize, s.seed), losses: [], bands: [],
    };
  }

  get nets(): Net[] { return [this.plain, this.normed]; }

  /** `steps` SGD steps on each network; returns the new losses of [plain, normed]. */
  train(steps: number): number[][] {
    const added: number[][] = [[], []];
    for (let i = 0; i < steps; i++) {
      this.nets.forEach((net, n) => {
        const batch = net.stream.next();
        const loss = trainStep(net.model, net.optimizer, batch.x, batch.y);
        net.losses.push(loss);
        added[n].push(loss);
      });
      this.step++;
      if (this.step % BAND_EVERY === 0) this.recordBands();
    }
    return added;
  }

  /** As Figure 1 does (and bn-lab): the probe's sigmoid input as training computes it, batch statistics. */
  private recordBands(): void {
    for (const net of this.nets) {
      const inputs = this.sigmoidValues(net, 'train');
      const last = inputs[inputs.length - 1];
      const unit0 = Float64Array.from({ length: last.rows }, (_, r) => last.values[r * last.width]);
      const [p15, p50, p85] = percentiles(unit0, [15, 50, 85]);
      net.bands.push({ step: this.step, p15, p50, p85 });
    }
  }

  /**
   * Every hidden sigmoid's input (or, with `side` 'output', its output: the activations) over the probe
   * batch, in `mode`; the model's state is left as it was.
   */
  sigmoidValues(net: Net, mode: Mode, side: 'input' | 'output' = 'input'): { values: Float32Array; rows: number; width: number }[] {
    const model = net.model;
    const found: { values: Float32Array; rows: number; width: number }[] = [];
    keepingState(model, () => noGrad(() => {
      model.layers.forEach((layer, i) => {
        if (layer.className !== 'Activation') return;
        const out = runLayers(model, this.probe, mode === 'train', side === 'input' ? i : i + 1).data;
        found.push({ values: Float32Array.from(out.dataSync()), rows: out.shape[0], width: out.shape[1] });
      });
    }));
    return found;
  }

  /** Accuracy on the test split (the probe and beyond), with the moving averages or with batch statistics. */
  accuracy(net: Net, mode: Mode): number {
    return accuracy(net.model, this.data.test, { batchStatistics: mode === 'train', batchSize: 500 });
  }

  /** The graph of one training step's loss for the normalised network, as Graphviz DOT (autograd's toDot). */
  graphDot(): string {
    const model = this.normed.model;
    const batch = batchOf(this.data.train, Int32Array.from({ length: this.settings.batchSize }, (_, i) => i));
    return keepingState(model, () => {
      const loss = lossFns.sparseCategoricalCrossentropy(logits(model, batch.x, true), batch.y, { fromLogits: true });
      return toDot(loss, { name: `one step, ${this.normed.label}` });
    });
  }
}
