/** The image example's reusable pieces (the BN lab reads MNIST with the same IDX reader). */
export * from './idx.js';
