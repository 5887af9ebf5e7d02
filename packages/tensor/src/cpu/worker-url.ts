/**
 * Where the gemm worker's code is. Its own module because `import.meta` exists only in ES modules:
 * the jest configuration maps this file to a CommonJS twin (test/support/worker-url.cjs).
 */
export const gemmWorkerUrl: URL = new URL('./gemm-worker.js', import.meta.url);
