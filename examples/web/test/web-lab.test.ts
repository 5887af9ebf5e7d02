/**
 * The BN lab page (examples/web): built by its own build script into a scratch folder, served on
 * 127.0.0.1 and opened in Debian's headless Chromium (playwright-core), where it trains 50 steps. The
 * page's losses must fall, its charts must have drawn, and its losses must equal — bit for bit — those
 * of the same Lab code run here in Node on the same data.js with the same seed.
 *
 * The graph layout and the settings checks run without a browser. Without /usr/bin/chromium the page
 * tests are skipped, with the reason in their name.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { setNumThreads } from 'gradlab';
import { decodeSubset } from '../src/data';
import type { EncodedSubset } from '../src/data';
import { FIGURE_1, Lab } from '../src/lab';
import { layout, parseDot, dotToSvg } from '../src/graph';

jest.setTimeout(300_000);

const CHROMIUM = '/usr/bin/chromium';
const ROOT = path.resolve(__dirname, '../../..');
const run = (args: string[]): string => execFileSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Build the page (after the bn-lab build its script reads MNIST with) into a fresh folder; returns it. */
function buildSite(): string {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'gradlab-web-'));
  run([path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'examples/bn-lab']);
  run(['examples/web/build.mjs', '--out', out, '--train', '1200', '--test', '500']);
  return out;
}

/** What data.js sets, read the way a page reads it: run the script with its own globalThis. */
function readDataJs(site: string): EncodedSubset {
  const sandbox = { globalThis: {} as { GRADLAB_MNIST?: EncodedSubset } };
  vm.runInNewContext(fs.readFileSync(path.join(site, 'data.js'), 'utf8'), sandbox);
  return sandbox.globalThis.GRADLAB_MNIST!;
}

describe('the lab without a browser', () => {
  const tiny = (): Lab => {
    const digits = { images: new Uint8Array(64 * 784).map((_, i) => (i * 37) % 256), labels: new Uint8Array(64).map((_, i) => i % 10), count: 64, pixels: 784 };
    return new Lab({ train: digits, test: digits }, { ...FIGURE_1, batchSize: 16 }, 32);
  };

  test('a bad setting is refused where it enters, naming it and the value', () => {
    const digits = { images: new Uint8Array(10 * 784), labels: new Uint8Array(10), count: 10, pixels: 784 };
    expect(() => new Lab({ train: digits, test: digits }, { ...FIGURE_1, lr: -1 })).toThrow('BN lab: lr should be a positive number, got -1');
    expect(() => new Lab({ train: digits, test: digits }, { ...FIGURE_1 })).toThrow('batchSize should be an integer from 2 to 10 (the training images), got 60');
    expect(() => decodeSubset(undefined)).toThrow('data.js did not load');
  });

  test("the graph of one step is laid out with every arrow pointing down a row, one box per toDot node", () => {
    const dot = tiny().graphDot();
    const graph = parseDot(dot);
    expect(graph.nodes).toHaveLength((dot.match(/\[label=/g) ?? []).length);
    expect(graph.edges).toHaveLength((dot.match(/ -> /g) ?? []).length);
    // the fused BatchNormalization and the sigmoids are ops of the step
    expect(graph.nodes.filter((n) => n.op && /^sigmoid/.test(n.lines[0]))).toHaveLength(3);
    const { placed } = layout(graph);
    for (const [from, to] of graph.edges) expect(placed.get(from)!.row).toBeLessThan(placed.get(to)!.row);
    expect((dotToSvg(dot).match(/<rect /g) ?? []).length).toBe(graph.nodes.length);
    expect(() => parseDot('digraph "x" {\n  nonsense\n}')).toThrow('parseDot: cannot read the line "  nonsense"');
  });
});

if (!fs.existsSync(CHROMIUM)) {
  // Without a browser the page cannot run: report it as skipped, with the reason in the name (.ci/run installs chromium).
  test.skip(`BN lab page: skipped — ${CHROMIUM} is not installed (apt-get install chromium)`, () => undefined);
} else {
  describe('the BN lab page in headless Chromium', () => {
    let site = '';
    let server: http.Server;
    let context: BrowserContext;
    let base = '';
    const errors: string[] = [];
    let cpuLosses: number[] = [];

    beforeAll(async () => {
      site = buildSite();
      server = http.createServer((req, res) => {
        const file = path.join(site, new URL(req.url ?? '/', 'http://x').pathname);
        if (!fs.existsSync(file)) { res.writeHead(404).end(); return; }
        res.writeHead(200, { 'Content-Type': file.endsWith('.html') ? 'text/html' : 'text/javascript' }).end(fs.readFileSync(file));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      context = await chromium.launchPersistentContext(path.join(site, 'profile'), {
        executablePath: CHROMIUM, headless: true,
        args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
    }, 300_000);

    afterAll(async () => {
      await context?.close();
      await new Promise((resolve) => server?.close(resolve));
      if (site) fs.rmSync(site, { recursive: true, force: true });
    });

    async function open(url: string): Promise<Page> {
      const page = await context.newPage();
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      await page.goto(url);
      await page.waitForSelector('body[data-step="0"]', { timeout: 120_000 });
      return page;
    }

    /** Canvases with fewer than 1% of their pixels drawn (not the white background) — charts that did not draw. */
    const blankCanvases = (page: Page, selector = 'canvas'): Promise<string[]> => page.evaluate((sel) => [...document.querySelectorAll<HTMLCanvasElement>(sel)].flatMap((c, i) => {
      const { data } = c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
      let inked = 0;
      for (let p = 0; p < data.length; p += 4) if (data[p] < 200 || data[p + 1] < 200 || data[p + 2] < 200) inked++;
      return inked < 0.01 * c.width * c.height ? [`canvas ${i} (${c.parentElement?.id || c.id})`] : [];
    }), selector);

    test('it trains 50 steps: the losses fall, every chart draws, and they equal Node\'s for the same seed', async () => {
      const page = await open(`${base}/index.html`);
      await page.click('#steps50');
      await page.waitForSelector('body[data-step="50"]', { timeout: 240_000 });
      const inPage = await page.evaluate(() => {
        const lab = (window as unknown as { gradlabLab: Lab }).gradlabLab;
        return { plain: lab.plain.losses, normed: lab.normed.losses, settings: lab.settings, svgBoxes: document.querySelectorAll('#graph svg rect').length };
      });
      expect(inPage.settings).toEqual(FIGURE_1); // the form's defaults are the lab's Figure 1 settings
      expect(inPage.normed).toHaveLength(50);
      const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
      // loss falls: the last ten steps' mean well below the first ten's, for the BN network
      expect(mean(inPage.normed.slice(-10))).toBeLessThan(0.8 * mean(inPage.normed.slice(0, 10)));
      expect(await blankCanvases(page)).toEqual([]);
      expect(inPage.svgBoxes).toBeGreaterThan(20);

      // The same Lab code here in Node, on the page's data.js, one thread as in the page.
      setNumThreads(1);
      const lab = new Lab(decodeSubset(readDataJs(site)), FIGURE_1);
      lab.train(50);
      expect(inPage.normed).toEqual(lab.normed.losses);
      expect(inPage.plain).toEqual(lab.plain.losses);
      expect(errors).toEqual([]);
      cpuLosses = lab.normed.losses;
    });

    test('the gpu backend is offered where WebGL2 is (here SwiftShader\'s) and trains like the cpu, or is disabled with the reason', async () => {
      const page = await open(`${base}/index.html`);
      const option = await page.$eval('option[value="gpu"]', (o) => ({ disabled: (o as HTMLOptionElement).disabled, text: o.textContent }));
      if (option.disabled) {
        expect(option.text).toMatch(/^gpu: not here \(.+\)$/);
        return;
      }
      await page.selectOption('select[name="backend"]', 'gpu');
      await page.click('#reset');
      await page.waitForFunction(() => /^step 0 on gpu/.test(document.getElementById('status')!.textContent ?? ''), undefined, { timeout: 240_000 });
      const losses = await page.evaluate(() => (window as unknown as { gradlabLab: Lab }).gradlabLab.train(3)[1]);
      // float32 shaders sum in another order than the cpu's kernels: equal to a few decimals, not bitwise
      losses.forEach((loss, i) => expect(loss).toBeCloseTo(cpuLosses[i], 3));
      expect(errors).toEqual([]);
    });

    test('opened from file:// it loads and draws too (data.js and lab.js are classic scripts)', async () => {
      const page = await open(pathToFileURL(path.join(site, 'index.html')).href);
      expect(await page.textContent('#status')).toMatch(/^step 0 on cpu/);
      // at step 0 the loss chart has no curve yet: the histograms and bands must have drawn
      expect(await blankCanvases(page, '.pair canvas')).toEqual([]);
      // the histograms of the activations (sigmoid outputs) draw too
      await page.selectOption('select[name="side"]', 'output');
      expect(await blankCanvases(page, '.pair canvas')).toEqual([]);
      // a bad setting is refused on Reset, in words that name it
      await page.fill('input[name="lr"]', '-1');
      await page.click('#reset');
      expect(await page.textContent('#status')).toBe('BN lab: lr should be a positive number, got -1');
      expect(errors).toEqual([]);
    });
  });
}
