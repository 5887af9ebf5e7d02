/** `models`: Sequential and loading saved models. */
export * from './sequential.js';
export * from './save.js';
