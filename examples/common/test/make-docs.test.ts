import * as fs from 'node:fs';
import * as path from 'node:path';
import { BEGIN, END, detailsMarkers, readAllResults, renderResultsTable, replaceDetails, replaceTable, tableInPage } from '../src/make-docs';
import type { RunResults } from '../src/results';

const ROOT = path.resolve(__dirname, '../../..');

const run = (example: string, accuracy: number, reached: boolean): RunResults => ({
  example,
  description: `data of ${example}`,
  settings: { epochs: 2, batchSize: 32, subset: 0, seed: 1 },
  data: {},
  model: { params: 10, trainable: 8, nonTrainable: 2 },
  epochs: [{ epoch: 1, loss: 1, accuracy: 0.5, seconds: 100 }, { epoch: 2, loss: 0.5, accuracy: 0.8, seconds: 140 }],
  test: { loss: 0.4, accuracy, examples: 10000 },
  target: { accuracy: 0.9, reached },
  secondsPerEpoch: 120,
  cpuSecondsPerEpoch: 65,
  totalSeconds: 240,
  machine: { cpu: 'Some CPU', cores: 2, memoryGiB: 24, platform: 'Linux', node: 'v20.1.0', backend: 'cpu' },
  date: '2025-01-01T00:00:00.000Z',
});

describe('docs/examples.md results table', () => {
  test('one row per run with accuracy, target, epochs, time per epoch and machine', () => {
    const table = renderResultsTable([run('image', 0.9123, true), run('text', 0.8, false)]);
    const lines = table.split('\n');
    expect(lines.length).toBe(4);
    expect(lines[2]).toContain('| [image](results/image.svg) | data of image | 91.23% on 10,000 | 90.00% (reached) | 2 | 2:00 | 1:05 |');
    expect(lines[2]).toContain('Some CPU, 2 cores, Node 20.1.0, cpu');
    expect(lines[3]).toContain('(**not reached**)');
  });

  test('replacing the table keeps the rest of the page', () => {
    const page = `# Title\n\nintro\n\n${BEGIN}\nold table\n${END}\n\nafter\n`;
    const out = replaceTable(page, '| new |');
    expect(out).toBe(`# Title\n\nintro\n\n${BEGIN}\n| new |\n${END}\n\nafter\n`);
    expect(tableInPage(out)).toBe('| new |');
    expect(() => replaceTable('no markers', 'x')).toThrow(/lacks the markers/);
  });

  test("a run's details go between its own markers; a run without details or a page without markers is left alone", () => {
    const [begin, end] = detailsMarkers('speech');
    const page = `# T\n\n${begin}\nold\n${end}\n\nafter\n`;
    const speech = { ...run('speech', 0.9, true), details: '| new |' };
    expect(replaceDetails(page, [run('image', 0.9, true), speech])).toBe(`# T\n\n${begin}\n| new |\n${end}\n\nafter\n`);
    expect(replaceDetails(page, [run('speech', 0.9, true)])).toBe(page);
    expect(replaceDetails('no markers', [speech])).toBe('no markers');
  });

  const page = path.join(ROOT, 'docs', 'examples.md');
  (fs.existsSync(page) ? test : test.skip)('the committed page matches the committed results files (run `pnpm docs:examples`)', () => {
    const runs = readAllResults(path.join(ROOT, 'docs', 'results'));
    const text = fs.readFileSync(page, 'utf8');
    expect(tableInPage(text)).toBe(renderResultsTable(runs));
    expect(replaceDetails(text, runs)).toBe(text);
  });
});
