// jest runs the TypeScript sources as CommonJS, where `import.meta` does not exist: this twin of
// packages/gpu/src/module-url.ts gives a file inside packages/gpu, from which gpu.js resolves.
const path = require('node:path');
const { pathToFileURL } = require('node:url');
exports.gpuModuleUrl = pathToFileURL(path.join(__dirname, '../../packages/gpu/src/index.ts')).href;
