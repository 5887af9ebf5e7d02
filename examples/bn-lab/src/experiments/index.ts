/** The seven experiments, in the order of the issue and the report. */
import type { Experiment } from '../lab.js';
import { convergence } from './convergence.js';
import { learningRate } from './learning-rate.js';
import { initialisation } from './initialisation.js';
import { batchSize } from './batch-size.js';
import { inference } from './inference.js';
import { cost } from './cost.js';
import { placement } from './placement.js';

export const EXPERIMENTS: Experiment[] = [convergence, learningRate, initialisation, batchSize, inference, cost, placement];

export function findExperiment(id: string): Experiment {
  const exp = EXPERIMENTS.find((e) => e.id === id || String(e.number) === id);
  if (!exp) throw new Error(`bn-lab: unknown experiment '${id}' (known: ${EXPERIMENTS.map((e) => `${e.number} ${e.id}`).join(', ')}, all)`);
  return exp;
}
