/**
 * This package's location, for resolving the packages it depends on at run time (node-webgpu.ts finds
 * `webgpu` through gpu.js). Its own module because `import.meta` exists only in ES modules: the jest
 * configuration maps this file to a CommonJS twin (test/support/gpu-module-url.cjs).
 */
export const gpuModuleUrl: string = import.meta.url;
