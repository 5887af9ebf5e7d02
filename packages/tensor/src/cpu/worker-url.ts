/**
 * Where the gemm worker's code is. Its own module because `import.meta` exists only in ES modules:
 * the jest configuration maps this file to a CommonJS twin (test/support/worker-url.cjs).
 *
 * null where the module has no URL of its own: a classic <script> (IIFE) bundle replaces import.meta
 * by an empty object, and `new URL('./gemm-worker.js', undefined)` would throw "Invalid URL" as the
 * bundle loads. gemm then stays on the calling thread, as it does in every browser.
 */
const moduleUrl: unknown = import.meta.url;
export const gemmWorkerUrl: URL | null = typeof moduleUrl === 'string' && moduleUrl !== '' ? new URL('./gemm-worker.js', moduleUrl) : null;
