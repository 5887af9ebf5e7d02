/** Shared code of the three examples: flags, progress, results files, SVG plots. */
export * from './cli.js';
export * from './progress.js';
export * from './results.js';
export * from './plot.js';
export * from './epochs.js';
