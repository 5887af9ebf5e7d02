// jest runs the TypeScript sources as CommonJS, and h5wasm ships only ES modules (and an IIFE bundle for
// <script> tags): this twin evaluates that IIFE bundle and exports the module object it defines, so that
// formats/hdf5.ts's import('h5wasm') works under jest as it does in Node and in bundles.
const fs = require('node:fs');
const path = require('node:path');
const bundle = path.join(__dirname, '../../packages/layers/node_modules/h5wasm/dist/iife/h5wasm.js');
module.exports = new Function(`${fs.readFileSync(bundle, 'utf8')}\nreturn h5wasm;`)();
