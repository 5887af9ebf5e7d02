/**
 * gradlab in a real browser: the page bundle (browser/entry.ts: gradlab, @gradlab/gpu and the
 * kernel checks, bundled by esbuild) runs in Debian's headless Chromium, driven by playwright-core.
 * WebGL2 there is real GLSL ES 3.0 on SwiftShader (Chromium's software GPU): --use-angle=swiftshader
 * with --enable-unsafe-swiftshader. (--disable-gpu is NOT passed: it turns WebGL off.) The other
 * flags keep Chromium from reaching for the network, which this machine does not have (browser/harness.ts).
 * WebGPU has its own page and test: browser-webgpu.test.ts.
 *
 * Skipped, with the reason in its name, where /usr/bin/chromium is not installed.
 */
import { existsSync } from 'node:fs';
import { CHROMIUM, runPage } from './browser/harness';

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
    report = await runPage<Report>('entry.ts', ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--enable-unsafe-webgpu']) as Report;
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
