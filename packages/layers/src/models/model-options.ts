/**
 * The arguments of Model's compile, fit, evaluate, trainOnBatch and predict (model.ts), and the option
 * names each of them knows: any other name is refused, naming it (options.ts), since JavaScript would
 * otherwise pass over a misspelt option without a word.
 */
import type { Tensor } from '@gradlab/tensor';
import type { LossSpec } from '../losses.js';
import type { Dataset } from '../data/dataset.js';
import type { GivenBatch, ModelX, ModelY } from './fit-data.js';
import type { PerOutput } from './outputs.js';
import type { Optimizer } from '../optimizers/index.js';
import type { Callback } from '../callbacks.js';
import type { ProgressOutput } from './progress.js';

export interface CompileArgs {
  /** 'adam', 'sgd', 'rmsprop' (Keras defaults) or an optimizer, made with or without parameters. */
  optimizer: string | Optimizer;
  /**
   * 'sparse_categorical_crossentropy', 'categorical_crossentropy', 'binary_crossentropy', 'mse', a Loss or a
   * function; for a model with several outputs also a list (one per output) or an object keyed by output name.
   */
  loss: PerOutput<LossSpec>;
  /** Several outputs only: each output's weight in the total loss (a list or an object keyed by output name; default 1). */
  lossWeights?: PerOutput<number>;
  /** e.g. ['accuracy']; with several outputs a list of lists or an object keyed by output name (one plain list: every output). Never weighted by sampleWeight (Keras 3). */
  metrics?: PerOutput<string[]>;
  /**
   * Keras's weighted_metrics: metrics (same names and forms as metrics) in which each example counts by its
   * sampleWeight (times classWeight in training): Σ wᵢ·scoreᵢ / Σ wᵢ. Logged as 'weighted_<name>' where
   * metrics already has the name.
   */
  weightedMetrics?: PerOutput<string[]>;
}

export interface FitOptions {
  /** Train until this epoch (0-based count; with initialEpoch k, epochs k … epochs−1 run). Default 1. */
  epochs?: number;
  /** Default 32 (tensors only: a dataset is already batched). */
  batchSize?: number;
  /** Shuffle the training examples before each epoch. Default true (tensors only: a dataset shuffles itself). */
  shuffle?: boolean;
  /** Seed of the shuffling (default: the global generator, see setSeed). */
  seed?: number;
  /** Hold out this last fraction of x and y (taken before shuffling, as Keras) for validation. Tensors only. */
  validationSplit?: number;
  /**
   * Evaluated after each epoch: [x, y] or [x, y, sampleWeight] tensors (lists or objects keyed by name for
   * several inputs or outputs; sampleWeight as fit's) or a dataset of batches (which may carry sampleWeight).
   * With weights, val_loss is the weighted loss, as Keras's.
   */
  validationData?: [ModelX, ModelY] | [ModelX, ModelY, SampleWeight] | Dataset<GivenBatch>;
  /** Evaluate at most this many validation batches each epoch. Default: all of them. */
  validationSteps?: number;
  /** Batches per epoch. Default: all (tensors), one pass (dataset); with a dataset, one iterator runs on across epochs. */
  stepsPerEpoch?: number;
  /** The epoch to start at (to resume a run). Default 0. */
  initialEpoch?: number;
  /** Each class's weight in the loss, { 0: 1, 1: 5 }: the class is read from y (its value, or its one-hot position). One output only, as Keras. */
  classWeight?: Record<number, number>;
  /**
   * One weight per example of x (tensors; a dataset's batches carry their own sampleWeight). With several
   * outputs, as Keras 3: one tensor weighs every output; a list (outputs' order) or an object keyed by output name, each its own.
   */
  sampleWeight?: SampleWeight;
  callbacks?: Callback[];
  /** 0 silent, 1 progress bar, 2 one line per epoch; 'auto' (default): 1 on a terminal, else 2. */
  verbose?: 0 | 1 | 2 | 'auto';
  /** Where progress goes (default process.stdout, or the console where there is none, as in a browser). */
  output?: ProgressOutput;
}

/** One weight per example: one tensor [n], or with several outputs a list or an object keyed by output name, one per output. */
export type SampleWeight = Tensor | Tensor[] | Record<string, Tensor>;

export interface EvaluateOptions {
  /** Default 32 (tensors only). */
  batchSize?: number;
  /** Evaluate at most this many batches. Default: all. */
  steps?: number;
  /**
   * One weight per example of x, as fit's (tensors; a dataset's batches carry their own): the loss is then
   * the weighted loss fit trains on, Σ wᵢ·lossᵢ / n, and weightedMetrics are weighted (Keras's evaluate).
   */
  sampleWeight?: SampleWeight;
}

export interface TrainOnBatchOptions {
  /** One weight per example, as fit's. */
  sampleWeight?: SampleWeight;
  /** Each class's weight, as fit's (one output only). */
  classWeight?: Record<number, number>;
}

export interface PredictOptions {
  /** Default 32 (tensors only). */
  batchSize?: number;
  /** Predict at most this many batches. Default: all. */
  steps?: number;
}

/** The option names fit, evaluate, predict and trainOnBatch know; any other is refused, naming it (optionProblem). */
export const FIT_OPTIONS: ReadonlyArray<keyof FitOptions> = [
  'epochs', 'batchSize', 'shuffle', 'seed', 'validationSplit', 'validationData', 'validationSteps', 'stepsPerEpoch',
  'initialEpoch', 'classWeight', 'sampleWeight', 'callbacks', 'verbose', 'output',
];
export const EVALUATE_OPTIONS: ReadonlyArray<keyof EvaluateOptions> = ['batchSize', 'steps', 'sampleWeight'];
export const PREDICT_OPTIONS: ReadonlyArray<keyof PredictOptions> = ['batchSize', 'steps'];
export const TRAIN_ON_BATCH_OPTIONS: ReadonlyArray<keyof TrainOnBatchOptions> = ['sampleWeight', 'classWeight'];
