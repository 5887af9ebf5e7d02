// jest runs the TypeScript sources as CommonJS, where `import.meta` does not exist: this twin of
// packages/tensor/src/cpu/worker-url.ts points the gemm workers at the compiled worker
// (`pnpm test` builds before it runs jest; without a build, gemm stays single-threaded).
const path = require('node:path');
const { pathToFileURL } = require('node:url');
exports.gemmWorkerUrl = pathToFileURL(path.join(__dirname, '../../packages/tensor/dist/cpu/gemm-worker.js'));
// jest runs on Node: the browser's gemm helper is never started there.
exports.browserGemmWorkerUrl = null;
