/**
 * gradlab in a real browser: the page bundle (browser/entry.ts: gradlab, @gradlab/gpu and the
 * kernel checks, bundled by esbuild) runs in Debian's headless Chromium, driven by playwright-core.
 * WebGL2 there is real GLSL ES 3.0 on SwiftShader (Chromium's software GPU): --use-angle=swiftshader
 * with --enable-unsafe-swiftshader. (--disable-gpu is NOT passed: it turns WebGL off.) The other
 * flags keep Chromium from reaching for the network, which this machine does not have.
 *
 * Skipped, with the reason in its name, where /usr/bin/chromium is not installed.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import type { Plugin } from 'esbuild';
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const root = resolve(__dirname, '../../..');

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

async function bundle(): Promise<string> {
  const out = await build({
    entryPoints: [join(__dirname, 'browser/entry.ts')], bundle: true, write: false, format: 'iife', platform: 'browser',
    target: 'es2022', plugins: [workspace], logLevel: 'silent', nodePaths: [join(root, 'packages/gpu/node_modules')],
    // tensor's cpu/worker-url.ts resolves its worker file against import.meta.url, which an iife bundle
    // has not got; any valid URL will do (in a browser the gemm worker is never started)
    define: { 'import.meta.url': JSON.stringify('https://gradlab.invalid/bundle.js') },
  });
  return out.outputFiles[0].text;
}

interface Report {
  error?: string; userAgent: string; webgpu: { available: boolean; reason: string };
  modes: { mode: string; available: boolean; reason: string; results: { name: string; ok: boolean; detail: string }[];
    training?: { firstLoss: number; lastLoss: number; liveTexturesBefore: number; liveTexturesAfter: number; texturesCreated: number } }[];
}

if (!existsSync(CHROMIUM)) {
  // A mode or tool this machine lacks is reported as skipped, with the reason in the test's name (never silently passed).
  test.skip(`browser: skipped — ${CHROMIUM} is not installed (apt-get install chromium)`, () => undefined);
} else {
  let report: Report;
  beforeAll(async () => {
    const code = await bundle();
    const profile = mkdtempSync(join(tmpdir(), 'gradlab-chromium-'));
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true,
      args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--enable-unsafe-webgpu', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
    });
    try {
      const page = await browser.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(String(e.stack ?? e)));
      await page.setContent('<!doctype html><title>gradlab gpu checks</title>');
      await page.addScriptTag({ content: code });
      report = (await page.evaluate(() => (globalThis as unknown as { __gradlab?: Promise<Report> }).__gradlab))
        ?? ({ error: `the bundle did not start: ${pageErrors.join('\n') || 'no page error reported'}` } as Report);
      if (process.env.GRADLAB_BROWSER_REPORT) writeFileSync(process.env.GRADLAB_BROWSER_REPORT, JSON.stringify(report, null, 2));
    } finally {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    }
  }, 600_000);

  test('the page ran to the end', () => expect(report.error).toBeUndefined());
  test('WebGL2 is offered (SwiftShader) and every kernel check passes on it', () => {
    const webgl2 = report.modes.find((m) => m.mode === 'webgl2')!;
    expect(webgl2.reason).toBe('');
    expect(webgl2.results.length).toBeGreaterThan(100);
    expect(webgl2.results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
  });
  test('WebGL2: 200 training steps lower the loss and leave the live texture count where it was', () => {
    const t = report.modes.find((m) => m.mode === 'webgl2')!.training!;
    expect(t.lastLoss).toBeLessThan(t.firstLoss * 0.5);
    expect(t.liveTexturesAfter).toBe(t.liveTexturesBefore);
    expect(t.texturesCreated).toBeGreaterThan(1000);
  });
  test('webgl and webasm in the page: the tiled checks pass where the mode exists', () => {
    for (const m of report.modes.filter((r) => r.mode !== 'webgl2' && r.available)) {
      expect(m.results.filter((r) => !r.ok).map((r) => `${m.mode} ${r.name}: ${r.detail}`)).toEqual([]);
    }
  });
  test('WebGPU: whether this Chromium offers an adapter is reported', () => {
    expect(typeof report.webgpu.available).toBe('boolean');
    expect(report.webgpu.reason.length).toBeGreaterThan(0);
  });
}
