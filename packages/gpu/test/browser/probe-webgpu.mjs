// Does this Chromium, with the flags given on the command line, offer a WebGPU adapter? Prints one JSON
// line { available, reason, info }. browser-webgpu.test.ts runs it in a child process before jest
// registers its tests (registration is synchronous; asking a browser for an adapter is not), so that a
// machine without one reports the test as skipped, with the reason.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const dir = mkdtempSync(join(tmpdir(), 'gradlab-webgpu-probe-'));
let answer;
try {
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>probe</title>');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', ...process.argv.slice(2)] });
  try {
    const page = await browser.newPage();
    await page.goto(pathToFileURL(join(dir, 'index.html')).href); // a secure context: navigator.gpu needs one
    answer = await page.evaluate(async () => {
      if (!navigator.gpu) return { available: false, reason: 'navigator.gpu is missing (WebGPU disabled in this Chromium)', info: {} };
      const adapter = await navigator.gpu.requestAdapter();
      if (!adapter) return { available: false, reason: 'navigator.gpu.requestAdapter() gave no adapter', info: {} };
      const info = {};
      for (const key of ['vendor', 'architecture', 'device', 'description']) info[key] = String(adapter.info?.[key] ?? '');
      return { available: true, reason: '', info };
    });
  } finally {
    await browser.close();
  }
} catch (error) {
  answer = { available: false, reason: `Chromium did not start: ${String(error.message).split('\n')[0]}`, info: {} };
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(answer));
