/**
 * gradlab's gpu backend on WebGPU in a real browser: the page (browser/webgpu-entry.ts) runs in Debian's
 * headless Chromium with WebGPU on SwiftShader's Vulkan, in software: --enable-unsafe-webgpu turns
 * WebGPU on for Linux, --enable-features=Vulkan with --use-vulkan=swiftshader gives Dawn SwiftShader's
 * Vulkan, and --use-angle=swiftshader --enable-unsafe-swiftshader keep WebGL on SwiftShader too. The
 * page is a file:// URL (browser/harness.ts): navigator.gpu exists only in a secure context.
 *
 * Every check of the conformance suite on GPU.js's webgpu mode (WGSL compute shaders, the async
 * contract) against the cpu backend, and one training step of a small conv model and a small LSTM model
 * against the cpu backend (loss 1e-4 relative; each gradient 1e-3 relative in norm: BatchNorm over 4
 * rows divides by a small standard deviation, which magnifies float32 rounding).
 *
 * Skipped, with the reason in its name, where /usr/bin/chromium is not installed or no adapter answers
 * (browser/probe-webgpu.mjs asks first, in a child process).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { CHROMIUM, runPage } from './browser/harness';
import type { AdapterReport, WebGPUReport } from './browser/webgpu-entry';

const FLAGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'];

/** The adapter this Chromium offers with FLAGS, asked in a child process (browser/probe-webgpu.mjs). */
function probe(): AdapterReport {
  if (!existsSync(CHROMIUM)) return { available: false, reason: `${CHROMIUM} is not installed (apt-get install chromium)`, info: {} };
  const child = spawnSync(process.execPath, [join(__dirname, 'browser/probe-webgpu.mjs'), ...FLAGS], { encoding: 'utf8', timeout: 120_000 });
  try {
    return JSON.parse(child.stdout.trim().split('\n').pop() ?? '') as AdapterReport;
  } catch {
    return { available: false, reason: `the WebGPU probe failed: ${(child.stderr || String(child.error)).split('\n')[0]}`, info: {} };
  }
}

const offered = probe();
if (!offered.available) {
  // A mode or tool this machine lacks is reported as skipped, with the reason in the test's name (never silently passed).
  test.skip(`browser webgpu: skipped — ${offered.reason}`, () => undefined);
} else {
  let report: WebGPUReport;
  beforeAll(async () => {
    report = await runPage<WebGPUReport>('webgpu-entry.ts', FLAGS) as WebGPUReport;
  }, 900_000);

  test('the page ran to the end, and its adapter is the one the probe found', () => {
    expect(report.error).toBeUndefined();
    expect(report.adapter).toEqual(offered);
  });
  test(`an adapter answers: ${JSON.stringify(offered.info)}`, () => {
    expect(Object.values(offered.info).join(' ')).toMatch(/\w/);
  });
  test('every check of the conformance suite passes on the webgpu mode', () => {
    expect(report.results.length).toBeGreaterThan(100);
    expect(report.results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
  });
  test('the short list with 256-element tiles, and the matmul and conv checks on GPU.js\'s kernels (the WGSL path\'s reference), pass', () => {
    expect(report.tiled.length).toBeGreaterThan(10);
    expect(report.reference.map((r) => r.name)).toEqual(expect.arrayContaining(['matmul [150,45] @ [45,260]', 'conv2d 3x3 valid']));
    expect([...report.tiled, ...report.reference].filter((r) => !r.ok).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
  });
  test('one training step of a conv model and an LSTM model agrees with the cpu backend', () => {
    expect(report.steps.map((s) => s.model)).toEqual(['conv', 'lstm']);
    for (const s of report.steps) {
      expect(Math.abs(s.lossGpu - s.lossCpu)).toBeLessThanOrEqual(1e-4 * Math.abs(s.lossCpu));
      expect(s.worstGradient.relative).toBeLessThanOrEqual(1e-3);
    }
    expect(report.dispatches).toBeGreaterThan(report.results.length);
  });
  test('20 rounds of convolutions and matmuls inside tidy() leave the live buffers and storages where they were', () => {
    expect(report.memory.before.length).toBe(2);
    expect(report.memory.after).toEqual(report.memory.before);
  });
}
