// Bundle sizes of gradlab for a page, minified and gzipped (level 9), as docs/formats.md reports them:
//   node bench/bundle-size.mjs       (after pnpm run build; bundles the built dist/ with esbuild)
// Each entry is bundled for the browser as an ES module; "with gpu" adds @gradlab/gpu and GPU.js.
import { build } from 'esbuild';
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
  const code = out.outputFiles[0].contents;
  console.log(`${name}: ${(code.byteLength / 1024).toFixed(0)} KB min, ${(gzipSync(code, { level: 9 }).byteLength / 1024).toFixed(1)} KB min+gz`);
}
