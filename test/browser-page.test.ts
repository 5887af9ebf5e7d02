/**
 * gradlab as a page uses it: the packages are packed (`pnpm pack`, as publish would) and installed
 * from their tarballs into a scratch project outside the workspace, a page is bundled from them with
 * esbuild, and Debian's headless Chromium (playwright-core) opens it from a local server that sends
 *
 *   Content-Security-Policy: script-src 'self'     (no 'unsafe-eval', no inline scripts)
 *
 * on every response. The page (test/browser-page/) trains the article's speech model with fit, saves
 * it to IndexedDB, is reloaded and predicts identically from the saved model; a Web Worker trains the
 * same model and hands its progress and weights to the page; a classic <script> (IIFE) bundle loads.
 * The ready-made files of gradlab/dist/browser/ are served from the installed tarball as a CDN serves
 * them and each trains a step; and under /isolated/ (COOP + COEP: cross-origin isolated) a Web Worker's
 * gemm and convolutions run on 2 threads and match the one-thread run without those headers bit for bit.
 *
 * It needs network access to the npm registry (ndarray comes from there) and /usr/bin/chromium;
 * without Chromium it is skipped, with the reason in its name.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';

jest.setTimeout(600_000);

const CHROMIUM = '/usr/bin/chromium';
const ROOT = path.resolve(__dirname, '..');
const PAGE_SOURCES = path.join(__dirname, 'browser-page');
const PACKAGES = ['tensor', 'autograd', 'layers', 'gradlab'];
const CSP = "script-src 'self'";

const run = (cmd: string, args: string[], cwd: string): string => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Pack the core packages (not @gradlab/gpu) and install the tarballs into a fresh project; returns its folder. */
function installFromTarballs(scratch: string): string {
  run(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'packages/gradlab'], ROOT);
  run(process.execPath, [path.join(ROOT, 'packages/gradlab/scripts/build-browser.mjs')], ROOT); // dist/browser/, as `pnpm run build` makes it
  const tarballs = path.join(scratch, 'tarballs');
  fs.mkdirSync(tarballs);
  for (const name of PACKAGES) run('pnpm', ['pack', '--pack-destination', tarballs], path.join(ROOT, 'packages', name));
  const project = path.join(scratch, 'project');
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'page', private: true, type: 'module' }));
  const files = fs.readdirSync(tarballs).map((f) => path.join(tarballs, f));
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...files], project);
  for (const file of fs.readdirSync(PAGE_SOURCES)) fs.copyFileSync(path.join(PAGE_SOURCES, file), path.join(project, file));
  fs.copyFileSync(path.join(ROOT, 'examples/speech/src/model.ts'), path.join(project, 'model.ts')); // the article's speech model
  return project;
}

/** The installed gradlab's ready-made browser files under /cdn/gradlab/dist/browser/, as a CDN serves them from the tarball. */
function cdnFiles(project: string): Record<string, string> {
  const dir = path.join(project, 'node_modules/gradlab/dist/browser');
  const files: Record<string, string> = {};
  for (const name of fs.readdirSync(dir)) files[`/cdn/gradlab/dist/browser/${name}`] = fs.readFileSync(path.join(dir, name), 'utf8');
  for (const name of ['cdn-step.js', 'cdn-module.js', 'cdn-classic.js', 'threads-page.js', 'threads-worker.js']) files[`/${name}`] = fs.readFileSync(path.join(project, name), 'utf8');
  return files;
}

/** The page's files: ES module bundles for the page and the worker, an IIFE for a classic script, and pages on the ready-made builds. */
async function bundlePage(project: string): Promise<Record<string, string>> {
  const bundle = async (entry: string, format: 'esm' | 'iife'): Promise<string> => {
    const out = await build({
      entryPoints: [path.join(project, entry)], absWorkingDir: project, bundle: true, write: false, minify: true,
      format, platform: 'browser', target: 'es2022', logLevel: 'silent',
    });
    return out.outputFiles[0].text;
  };
  const html = (script: string): string => `<!doctype html><meta charset="utf-8"><title>gradlab</title>${script}`;
  return {
    '/app.js': await bundle('app.mjs', 'esm'),
    '/worker.js': await bundle('worker.mjs', 'esm'),
    '/classic.js': await bundle('classic.mjs', 'iife'),
    '/index.html': html('<script type="module" src="./app.js"></script>'),
    '/classic.html': html('<script src="./classic.js"></script>'),
    ...cdnFiles(project),
    '/cdn-module.html': html('<script src="./cdn-step.js"></script><script type="module" src="./cdn-module.js"></script>'),
    '/threads.html': html('<script type="module" src="./threads-page.js"></script>'),
    '/cdn-classic.html': html('<script src="./cdn/gradlab/dist/browser/gradlab.iife.min.js"></script><script src="./cdn-step.js"></script><script src="./cdn-classic.js"></script>'),
  };
}

/** What makes a page cross-origin isolated (and gives it SharedArrayBuffer). */
const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/** A path's file and policy headers: the strict CSP; under /wasm/ the same files with WebAssembly allowed; under /isolated/ cross-origin isolated too. */
function policyFor(pathname: string): { file: string; headers: Record<string, string> } {
  const wasm = { 'Content-Security-Policy': `${CSP} 'wasm-unsafe-eval'` };
  if (pathname.startsWith('/wasm/')) return { file: pathname.slice('/wasm'.length), headers: wasm };
  if (pathname.startsWith('/isolated/')) return { file: pathname.slice('/isolated'.length), headers: { ...wasm, ...ISOLATION } };
  return { file: pathname, headers: { 'Content-Security-Policy': CSP } };
}

/** Every path the server was asked for, in order. */
const requested: string[] = [];

/** Serve `files` on 127.0.0.1, each response with the headers of policyFor. */
async function serve(files: Record<string, string>): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    requested.push(pathname);
    const { file, headers } = policyFor(pathname);
    const body = files[file];
    if (body === undefined) { res.writeHead(404).end(); return; }
    const type = file.endsWith('.html') ? 'text/html' : 'text/javascript';
    res.writeHead(200, { 'Content-Type': `${type}; charset=utf-8`, ...headers, 'Cache-Control': 'no-store' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

interface Result { error?: string; [key: string]: unknown }

if (!fs.existsSync(CHROMIUM)) {
  // Without a browser the page cannot run: report it as skipped, with the reason in the name (.ci/run installs chromium).
  test.skip(`browser page: skipped — ${CHROMIUM} is not installed (apt-get install chromium)`, () => undefined);
} else {
  describe('a page built from the packed tarballs, under a strict CSP', () => {
    let scratch = '';
    let server: http.Server;
    let context: BrowserContext;
    let base = '';
    let files: Record<string, string>;
    const messages: string[] = [];

    beforeAll(async () => {
      scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'gradlab-page-'));
      files = await bundlePage(installFromTarballs(scratch));
      server = await serve(files);
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      context = await chromium.launchPersistentContext(path.join(scratch, 'profile'), {
        executablePath: CHROMIUM, headless: true,
        args: ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
    });

    afterAll(async () => {
      // Each step on its own: beforeAll may have failed before any of them was made.
      await context?.close();
      if (server) await new Promise((resolve) => server.close(resolve));
      if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
    });

    /** Open `file` and wait for the window.__result its script leaves; console lines and page errors go to `messages`. */
    async function open(page: Page, file: string): Promise<Result> {
      page.on('console', (m) => messages.push(`${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => messages.push(`pageerror: ${e.message}`));
      await page.goto(`${base}${file}`);
      await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined, undefined, { timeout: 300_000 });
      const result = await page.evaluate(() => Promise.race([
        (window as unknown as { __result: Promise<Result> }).__result,
        new Promise<Result>((resolve) => setTimeout(() => resolve({ error: 'no result within 300 s' }), 300_000)),
      ]));
      if (result.error) throw new Error(`${file}: ${result.error}\n${messages.join('\n')}`);
      return result;
    }

    test('fit trains in the page, the model saved to IndexedDB predicts identically after a reload, with eval refused', async () => {
      const page = await context.newPage();
      const trained = await open(page, '/index.html?phase=train');
      // The CSP is in force: compiling a string is refused, so gradlab ran without eval.
      expect(trained.evalAllowed).toBe('EvalError');
      // WebAssembly may not compile under this policy either: float32 gemm fell back to the JavaScript kernel.
      expect(trained.gemm).toBe('js');
      const losses = trained.losses as number[];
      expect(losses).toHaveLength(2);
      expect(losses.every(Number.isFinite)).toBe(true);
      // verbose: 2 wrote one line per epoch through the console (a page has no process.stdout).
      expect(messages.filter((m) => /^log: 2\/2 - \d+s - loss: \d/.test(m))).toHaveLength(2);

      const reloaded = await open(page, '/index.html?phase=load');
      expect(reloaded.optimizer).toBe('Adam');
      const before = trained.predictions as number[];
      expect(before).toHaveLength(16 * 10);
      expect(reloaded.predictions).toEqual(before);
      expect(messages.filter((m) => /Content Security Policy|pageerror/.test(m))).toEqual([]);
    });

    test('a Web Worker trains the same model: the page gets its progress per batch and its weights', async () => {
      const page = await context.newPage();
      const inPage = await open(page, '/index.html?phase=train');
      const inWorker = await open(page, '/index.html?phase=worker');
      const progress = inWorker.progress as Array<{ epoch: number; batch: number | null; logs: { loss: number } }>;
      // 16 examples in batches of 8: two batches and an epoch end, twice.
      expect(progress.map((p) => [p.epoch, p.batch])).toEqual([[0, 0], [0, 1], [0, null], [1, 0], [1, 1], [1, null]]);
      // Same seed, same data, same code: the worker's training is the page's, bit for bit.
      expect(inWorker.losses).toEqual(inPage.losses);
      expect(progress.filter((p) => p.batch === null).map((p) => p.logs.loss)).toEqual(inPage.losses);
      expect(inWorker.predictions).toEqual(inPage.predictions);
    });

    test("with 'wasm-unsafe-eval' added to the policy, float32 gemm runs on the WebAssembly kernel, and eval is still refused", async () => {
      const page = await context.newPage();
      const trained = await open(page, '/wasm/index.html?phase=train');
      expect(trained.gemm).toBe('wasm');
      expect(trained.evalAllowed).toBe('EvalError');
      expect((trained.losses as number[]).every(Number.isFinite)).toBe(true);
    });

    test('a classic <script> (IIFE) bundle loads and trains a step', async () => {
      const page = await context.newPage();
      const result = await open(page, '/classic.html');
      expect(Number.isFinite(result.loss)).toBe(true);
    });

    test.each([
      ['the ES module build (gradlab.min.js) in a <script type="module">', '/cdn-module.html'],
      ['the IIFE build (gradlab.iife.min.js, a global gradlab) in a classic <script>', '/cdn-classic.html'],
    ])('%s, served from the tarball as a CDN serves it, loads and trains a step', async (_, file) => {
      const page = await context.newPage();
      const result = await open(page, file);
      expect(Number.isFinite(result.loss)).toBe(true);
      expect(result.threads).toBe(1); // a page's main thread may not block in Atomics.wait: gemm stays on it
      expect(messages.filter((m) => /Content Security Policy|pageerror/.test(m))).toEqual([]);
    });

    test('in a Web Worker of a cross-origin-isolated page gemm and the convolutions run on 2 threads with the one-thread results; without isolation on one', async () => {
      const isolated = await open(await context.newPage(), '/isolated/threads.html');
      const plain = await open(await context.newPage(), '/wasm/threads.html');
      expect([isolated.crossOriginIsolated, plain.crossOriginIsolated]).toEqual([true, false]);
      // the default: one per core (at most 4) where threads can run, else 1
      expect(isolated.defaultThreads).toBe(Math.min(isolated.hardwareConcurrency as number, 4));
      expect(plain.defaultThreads).toBe(1);
      // setNumThreads(2) then startThreads(): the helper Web Worker started where SharedArrayBuffer exists
      expect(isolated.threads).toBe(2);
      expect(plain.threads).toBe(1);
      expect(requested).toContain('/isolated/cdn/gradlab/dist/browser/browser-gemm-worker.js'); // the helper beside gradlab.min.js
      expect(requested).not.toContain('/wasm/cdn/gradlab/dist/browser/browser-gemm-worker.js');
      expect([isolated.gemm, plain.gemm]).toEqual(['wasm', 'wasm']);
      // each thread computes its band with the same kernel and the same order of sums: bit for bit the same
      expect((isolated.losses as number[]).every(Number.isFinite)).toBe(true);
      expect(isolated.losses).toEqual(plain.losses);
      expect(isolated.predictions).toEqual(plain.predictions);
      // the convolutions too: each thread computes its own part of the output, so two threads equal one bit for bit
      const convolutions = isolated.convolutions as number[][];
      expect(convolutions.map((c) => c.length)).toEqual([3 * 12 * 10 * 8, 3 * 12 * 10 * 3, 3 * 3 * 3 * 8]);
      expect(convolutions.flat().every(Number.isFinite)).toBe(true);
      expect(convolutions).toEqual(plain.convolutions);
    });

    test('a bundled worker in an isolated page without browser-gemm-worker.js beside its bundle trains on one thread, as without isolation', async () => {
      // the helper's URL (beside /worker.js) is a 404 here: the helpers fail to load and gemm stays on the worker's thread
      const isolated = await open(await context.newPage(), '/isolated/index.html?phase=worker');
      const plain = await open(await context.newPage(), '/wasm/index.html?phase=worker');
      expect([isolated.threads, plain.threads]).toEqual([1, 1]);
      expect(requested).toContain('/isolated/browser-gemm-worker.js'); // it tried the helper (a 404), only where isolated
      expect(requested).not.toContain('/wasm/browser-gemm-worker.js');
      expect(isolated.losses).toEqual(plain.losses);
      expect(isolated.predictions).toEqual(plain.predictions);
    });

    test('bundle sizes (min+gz), printed for the docs', () => {
      const size = (name: string): number => gzipSync(files[name], { level: 9 }).byteLength;
      console.log(`browser page bundles, min+gz: app ${size('/app.js')} B, worker ${size('/worker.js')} B, classic ${size('/classic.js')} B`);
      const prebuilt = (name: string): string => `${name} ${Buffer.byteLength(files[`/cdn/gradlab/dist/browser/${name}`])} B min, ${size(`/cdn/gradlab/dist/browser/${name}`)} B min+gz`;
      console.log(`ready-made builds: ${prebuilt('gradlab.min.js')}; ${prebuilt('gradlab.iife.min.js')}; ${prebuilt('browser-gemm-worker.js')}`);
      expect(size('/app.js')).toBeGreaterThan(0);
    });
  });
}
