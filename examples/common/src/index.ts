/** Shared code of the three examples: flags, progress, results files, SVG plots. */
export * from './cli.js';
export * from './progress.js';
export * from './results.js';
export * from './plot.js';
export * from './epochs.js';
/** The speech example's own loop (per-epoch augmentation); image and text train with model.fit. */
export * from './loop.js';
