// Bundle sizes of gradlab for a page, minified and gzipped (level 9), as docs/formats.md reports them:
//   node bench/bundle-size.mjs       (after pnpm run build; bundles the built dist/ with esbuild)
// Each entry is bundled for the browser as an ES module; "with gpu" adds @gradlab/gpu and GPU.js.
// Then the ready-made files that `pnpm run build` puts in packages/gradlab/dist/browser/, as they are.
import { build } from 'esbuild';
import * as fs from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entries = {
  'tensor only: import { tensor } from "gradlab"': "import { tensor } from 'gradlab'; console.log(tensor([1, 2]).add(1).toArray());",
  'CPU-only, everything: import * as gradlab from "gradlab"': "import * as gradlab from 'gradlab'; console.log(Object.keys(gradlab).length);",
  'with gpu: gradlab and @gradlab/gpu': "import * as gradlab from 'gradlab'; import * as gpu from '@gradlab/gpu'; console.log(Object.keys(gradlab).length, Object.keys(gpu).length);",
};
for (const [name, contents] of Object.entries(entries)) {
  const out = await build({
    stdin: { contents, resolveDir: path.join(root, 'packages/gradlab'), loader: 'js' },
    bundle: true, write: false, minify: true, format: 'esm', platform: 'browser', target: 'es2022', logLevel: 'error',
    nodePaths: [path.join(root, 'packages/gpu/node_modules')],
  });
  report(name, out.outputFiles[0].contents);
}
const prebuilt = path.join(root, 'packages/gradlab/dist/browser');
for (const file of ['gradlab.min.js', 'gradlab.iife.min.js', 'browser-gemm-worker.js']) {
  if (!fs.existsSync(path.join(prebuilt, file))) { console.log(`ready-made ${file}: missing (run pnpm run build)`); continue; }
  report(`ready-made dist/browser/${file}`, fs.readFileSync(path.join(prebuilt, file)));
}

function report(name, code) {
  console.log(`${name}: ${(code.byteLength / 1024).toFixed(0)} KB min, ${(gzipSync(code, { level: 9 }).byteLength / 1024).toFixed(1)} KB min+gz`);
}
