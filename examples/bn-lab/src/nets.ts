/**
 * The networks of the lab: fully connected, 784 → hidden layers → 10, with or without a normalisation
 * layer in each hidden layer. The BN paper's Figure 1 network is `mlp({ hidden: [100, 100, 100],
 * activation: 'sigmoid', norm: 'batch' })`.
 *
 * Every hidden layer is written out as Dense (linear) → [norm] → Activation, or Dense → Activation →
 * [norm] for `placement: 'after'` (the article's Keras code puts BatchNormalization after a ReLU Dense).
 * With norm 'none' both are the same plain Dense + activation. The Dense layers are created in the same
 * order in every variant, so with the same seed they start from the same weights: the networks being
 * compared differ only in their normalisation layers.
 */
import { layers, models, initializers, setSeed, fromTypedArray, globalRandom } from 'gradlab';
import type { Layer, Tensor } from 'gradlab';

export type Norm = 'none' | 'batch' | 'layer' | 'group';
export type Placement = 'before' | 'after';

export interface NetSpec {
  hidden: number[];
  activation: 'sigmoid' | 'relu';
  norm: Norm;
  /** Normalise before the activation (BN paper, ResNet) or after it (the article's Keras code). Default 'before'. */
  placement?: Placement;
  /** BatchNormalization momentum (Keras 0.99). */
  momentum?: number;
  /** BatchNormalization fused (default) or the composite graph. */
  fused?: boolean;
  /** GroupNormalization groups (must divide every hidden width). */
  groups?: number;
  /**
   * Kernel initialisation: `{ std }` draws N(0, std²) for every kernel (the BN paper's "small random
   * Gaussian values"); `{ heScale }` draws N(0, (heScale·√(2/fan_in))²), He's normal init times a factor.
   * Default: Keras's glorot_uniform.
   */
  init?: Init;
  /** The output layer's kernel initialisation, when it should differ from the hidden layers' `init`. */
  outputInit?: Init;
  seed: number;
}

export type Init = { std: number } | { heScale: number };

export const INPUTS = 784;
export const CLASSES = 10;

function kernelInitializer(init: Init | undefined): initializers.Initializer | 'glorot_uniform' {
  if (!init) return 'glorot_uniform';
  if ('std' in init) return initializers.randomNormal(0, init.std);
  return (shape: readonly number[], rng = globalRandom): Tensor => {
    const std = init.heScale * Math.sqrt(2 / shape[0]);
    const data = new Float32Array(shape[0] * shape[1]);
    for (let i = 0; i < data.length; i++) data[i] = rng.normal(0, std);
    return fromTypedArray(data, shape);
  };
}

function normLayer(spec: NetSpec): Layer {
  switch (spec.norm) {
    case 'batch': return layers.BatchNormalization({ momentum: spec.momentum ?? 0.99, fused: spec.fused ?? true });
    case 'layer': return layers.LayerNormalization();
    case 'group': return layers.GroupNormalization({ groups: spec.groups ?? 10 });
    default: throw new Error(`normLayer: no layer for norm '${spec.norm}'`);
  }
}

/** A Sequential for the spec, built (weights drawn) from `spec.seed`. Its last layer is Dense(10, softmax). */
export function mlp(spec: NetSpec): models.Sequential {
  setSeed(spec.seed);
  const kernel = kernelInitializer(spec.init);
  const model = new models.Sequential();
  spec.hidden.forEach((units, i) => {
    model.add(layers.Dense(units, { kernelInitializer: kernel, ...(i === 0 ? { inputShape: [INPUTS] } : {}) }));
    const act = layers.Activation(spec.activation);
    if (spec.norm === 'none') model.add(act);
    else if ((spec.placement ?? 'before') === 'before') { model.add(normLayer(spec)); model.add(act); }
    else { model.add(act); model.add(normLayer(spec)); }
  });
  model.add(layers.Dense(CLASSES, { activation: 'softmax', kernelInitializer: spec.outputInit ? kernelInitializer(spec.outputInit) : kernel }));
  return model;
}

/** Index of the last hidden layer's Activation layer (its input is "the sigmoid input" of Figure 1(b, c)). */
export function lastActivationIndex(model: models.Sequential): number {
  for (let i = model.layers.length - 1; i >= 0; i--) if (model.layers[i].className === 'Activation') return i;
  throw new Error(`${model.name}: no Activation layer`);
}

/** A short description: "784-100-100-100-10 sigmoid, BN before the activation". */
export function describeNet(spec: NetSpec): string {
  const names: Record<Norm, string> = { none: 'no normalisation', batch: 'BatchNormalization', layer: 'LayerNormalization', group: `GroupNormalization (${spec.groups ?? 10} groups)` };
  const where = spec.norm === 'none' ? '' : ` ${spec.placement ?? 'before'} each activation`;
  return `${[INPUTS, ...spec.hidden, CLASSES].join('-')} ${spec.activation}, ${names[spec.norm]}${where}`;
}
