/**
 * Where the gemm worker's code is. Its own module because `import.meta` exists only in ES modules:
 * the jest configuration maps this file to a CommonJS twin (test/support/worker-url.cjs).
 *
 * null where the module has no URL of its own: a classic <script> (IIFE) bundle replaces import.meta
 * by an empty object, and `new URL('./gemm-worker.js', undefined)` would throw "Invalid URL" as the
 * bundle loads. gemm then stays on the calling thread, as it does in every browser.
 */
const moduleUrl: unknown = import.meta.url;
const besideThisModule = (file: string): URL | null => (typeof moduleUrl === 'string' && moduleUrl !== '' ? new URL(file, moduleUrl) : null);
/** Node's gemm helper (worker_threads). */
export const gemmWorkerUrl: URL | null = besideThisModule('./gemm-worker.js');
/**
 * The browser's gemm helper (a module Web Worker, browser-threads.ts). In a bundle, import.meta.url is
 * the bundle's URL: the helper must sit beside it (gradlab's dist/browser/ ships it beside gradlab.min.js).
 */
export const browserGemmWorkerUrl: URL | null = besideThisModule('./browser-gemm-worker.js');
