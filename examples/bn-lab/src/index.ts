/** The BN lab as a library: the data, the networks, the training loop, the experiments and the report. */
export * from './mnist.js';
export * from './nets.js';
export * from './train.js';
export * from './memory.js';
export * from './bars.js';
export * from './lab.js';
export { EXPERIMENTS, findExperiment } from './experiments/index.js';
export { renderReport, readRuns, readLongRun, writeReport, refresh } from './report.js';
export * from './seeds.js';
