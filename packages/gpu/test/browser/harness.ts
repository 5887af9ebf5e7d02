/**
 * What the browser tests share: bundling a page entry (gradlab and @gradlab/gpu from their sources,
 * with the conformance checks) with esbuild, and running it in Debian's headless Chromium through
 * playwright-core until it leaves its report in `window.__gradlab`.
 *
 * The page is a file:// URL, not `page.setContent` on about:blank: WebGPU (`navigator.gpu`) exists only
 * in a secure context, which file:// is and a set-content about:blank is not. The flags keep Chromium
 * from reaching for the network, which this machine does not have.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import type { Plugin } from 'esbuild';
import { chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const root = resolve(__dirname, '../../../..');

/** The workspace packages from their sources (as jest maps them); node: modules (save/load) as empty stubs. */
const workspace: Plugin = {
  name: 'gradlab-workspace',
  setup(b) {
    b.onResolve({ filter: /^@gradlab\/[a-z]+$/ }, (a) => ({ path: join(root, 'packages', a.path.split('/')[1], 'src/index.ts') }));
    b.onResolve({ filter: /^gradlab$/ }, () => ({ path: join(root, 'packages/gradlab/src/index.ts') }));
    b.onResolve({ filter: /^node:/ }, (a) => ({ path: a.path, namespace: 'node-stub' }));
    // Node built-ins are not in a page: the bundle gets empty stand-ins for the names gradlab's file code
    // imports (saving and loading are never called in the page)
    b.onLoad({ filter: /.*/, namespace: 'node-stub' }, () => ({
      contents: 'export default {}; export const promises = {}; export const constants = {}; export const randomBytes = undefined; export const threadId = 0;',
      loader: 'js',
    }));
  },
};

/** One page entry (a file of test/browser/) as a classic script. */
export async function bundle(entry: string): Promise<string> {
  const out = await build({
    entryPoints: [join(__dirname, entry)], bundle: true, write: false, format: 'iife', platform: 'browser',
    target: 'es2022', plugins: [workspace], logLevel: 'silent', nodePaths: [join(root, 'packages/gpu/node_modules')],
    // tensor's cpu/worker-url.ts resolves its worker file against import.meta.url, which an iife bundle
    // has not got; any valid URL will do (in a browser the gemm worker is never started)
    define: { 'import.meta.url': JSON.stringify('https://gradlab.invalid/bundle.js') },
  });
  return out.outputFiles[0].text;
}

/**
 * Run `entry`'s bundle in headless Chromium with `args` and resolve to the report it leaves in
 * window.__gradlab (or `{ error }` when the bundle did not start). GRADLAB_BROWSER_REPORT=<file> keeps it.
 */
export async function runPage<R extends object>(entry: string, args: string[]): Promise<R | { error: string }> {
  const code = await bundle(entry);
  const dir = mkdtempSync(join(tmpdir(), 'gradlab-chromium-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>gradlab gpu checks</title>');
  const browser = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', ...args, '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
  });
  try {
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(String(e.stack ?? e)));
    await page.goto(pathToFileURL(join(dir, 'index.html')).href);
    await page.addScriptTag({ content: code });
    const report = (await page.evaluate(() => (globalThis as unknown as { __gradlab?: Promise<R> }).__gradlab))
      ?? { error: `the bundle did not start: ${pageErrors.join('\n') || 'no page error reported'}` };
    if (process.env.GRADLAB_BROWSER_REPORT) writeFileSync(process.env.GRADLAB_BROWSER_REPORT, JSON.stringify(report, null, 2));
    return report;
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
