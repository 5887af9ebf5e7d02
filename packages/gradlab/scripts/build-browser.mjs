// The ready single-file browser builds of gradlab, made from the compiled dist/ (run after `tsc -b`;
// the root `pnpm run build` runs both). Nothing to install for a page: load a file from a CDN.
//
//   dist/browser/gradlab.min.js        ES module:  import * as gl from 'https://unpkg.com/gradlab/dist/browser/gradlab.min.js'
//   dist/browser/gradlab.iife.min.js   classic <script src="…/gradlab.iife.min.js">: a global `gradlab`
//   dist/browser/browser-gemm-worker.js the gemm thread for a cross-origin-isolated Web Worker (docs/formats.md);
//                                      the ES module build finds it beside itself, through import.meta.url
//
// @gradlab/gpu, h5wasm and the Node folder handler are imported on demand through specifiers in
// variables, so they are not in these files (useBackend('gpu') needs a bundler or an import map).
import { build } from 'esbuild';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(pkg, 'dist/browser');
const common = { bundle: true, minify: true, platform: 'browser', target: 'es2022', legalComments: 'none', logLevel: 'warning', absWorkingDir: pkg };

await build({ ...common, entryPoints: [path.join(pkg, 'dist/index.js')], format: 'esm', outfile: path.join(outdir, 'gradlab.min.js') });
// An IIFE has no import.meta: the gemm worker's URL is null there (packages/tensor/src/cpu/worker-url.ts)
// and gemm stays on one thread; esbuild's warning that import.meta is empty is expected, so it is silenced.
await build({
  ...common, entryPoints: [path.join(pkg, 'dist/index.js')], format: 'iife', globalName: 'gradlab',
  outfile: path.join(outdir, 'gradlab.iife.min.js'), logOverride: { 'empty-import-meta': 'silent' },
});
// The gemm helper for a cross-origin-isolated Web Worker, beside gradlab.min.js where its import.meta.url points.
const tensorDist = path.dirname(createRequire(path.join(pkg, 'package.json')).resolve('@gradlab/tensor'));
await build({ ...common, entryPoints: [path.join(tensorDist, 'cpu/browser-gemm-worker.js')], format: 'esm', outfile: path.join(outdir, 'browser-gemm-worker.js') });
