import { kebab, parseCli, usage } from '../src/cli';
import type { CliSpec } from '../src/cli';
import { escapeXml, learningCurves, niceTicks, svgChart } from '../src/plot';
import { ProgressBar, barText, formatDuration } from '../src/progress';
import { meanEpochSeconds } from '../src/results';

describe('command-line flags', () => {
  const spec: CliSpec<{ size: number }> = {
    name: 'image',
    description: 'test',
    defaults: { epochs: 5, batchSize: 32, subset: 0, seed: 1, backend: 'cpu', quick: false, out: 'docs/results', recalibrate: 0, size: 28 },
    quick: { epochs: 1, subset: 2000, out: '.tmp/quick' },
    extra: { size: { type: 'string', description: 'image side' } },
  };

  test('defaults, explicit flags (kebab-case) and --quick defaults, explicit flags winning', () => {
    expect(parseCli(spec, [])).toMatchObject({ epochs: 5, batchSize: 32, subset: 0, quick: false, size: 28, help: false });
    expect(parseCli(spec, ['--batch-size', '64', '--size', '64', '--backend', 'gpu'])).toMatchObject({ batchSize: 64, size: 64, backend: 'gpu' });
    expect(parseCli(spec, ['--quick'])).toMatchObject({ quick: true, epochs: 1, subset: 2000, out: '.tmp/quick', batchSize: 32 });
    expect(parseCli(spec, ['--quick', '--epochs', '3'])).toMatchObject({ quick: true, epochs: 3, subset: 2000 });
    expect(parseCli(spec, ['--help']).help).toBe(true);
  });

  test('GRADLAB_BACKEND chooses the backend when --backend is absent; the flag wins', () => {
    const saved = process.env.GRADLAB_BACKEND;
    try {
      delete process.env.GRADLAB_BACKEND;
      expect(parseCli(spec, []).backend).toBe('cpu');
      process.env.GRADLAB_BACKEND = 'gpu:webasm';
      expect(parseCli(spec, []).backend).toBe('gpu:webasm');
      expect(parseCli(spec, ['--quick']).backend).toBe('gpu:webasm');
      expect(parseCli(spec, ['--backend', 'cpu']).backend).toBe('cpu');
    } finally {
      if (saved === undefined) delete process.env.GRADLAB_BACKEND; else process.env.GRADLAB_BACKEND = saved;
    }
  });

  test('bad values and unknown flags fail with the flag named', () => {
    expect(() => parseCli(spec, ['--epochs', 'two'])).toThrow("--epochs: expected a non-negative integer, got 'two'");
    expect(() => parseCli(spec, ['--batch-size', '1.5'])).toThrow(/--batch-size: expected a non-negative integer/);
    expect(() => parseCli(spec, ['--epohcs', '2'])).toThrow(/epohcs/);
  });

  test('usage lists every flag with its default', () => {
    const text = usage(spec);
    for (const flag of ['--epochs', '--batch-size', '--subset', '--seed', '--backend', '--quick', '--size']) expect(text).toContain(flag);
    expect(text).toContain('(default 28)');
    expect(kebab('batchSize')).toBe('batch-size');
    // Where each output goes, from the spec's own defaults.
    expect(text).toContain('docs/results/image.json and image.svg');
    expect(text).toContain('--quick: .tmp/quick/image-quick.json and .svg');
  });
});

describe('SVG plots', () => {
  test('nice ticks: steps of 1, 2 or 5 × 10^k inside the range', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    // (0.93 − 0.37)/5 = 0.112: the first of 0.1, 0.2, 0.5, 1 at least that is 0.2
    expect(niceTicks(0.37, 0.93, 5)).toEqual([0.4, 0.6, 0.8]);
    expect(niceTicks(0.37, 0.93, 8)).toEqual([0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
    expect(niceTicks(1, 10, 5)).toEqual([2, 4, 6, 8, 10]);
    expect(niceTicks(3, 3)).toEqual([3]);
  });

  test('a chart has its title, panel titles, axis labels, a legend entry and a path per series', () => {
    const svg = svgChart({
      title: 'Loss & <accuracy>',
      panels: [{ title: 'loss', xLabel: 'epoch', yLabel: 'cross-entropy', series: [
        { name: 'train', points: [[1, 0.9], [2, 0.5], [3, 0.3]] },
        { name: 'validation', points: [[1, 1.0], [2, 0.7], [3, 0.6]], dashed: true },
      ] }],
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('Loss &amp; &lt;accuracy&gt;');
    for (const text of ['>loss<', '>epoch<', '>cross-entropy<', '>train<', '>validation<']) expect(svg).toContain(text);
    expect(svg.match(/<path /g)?.length).toBe(2);
    expect(svg.match(/stroke-dasharray="6 4"/g)?.length).toBe(1);
    expect(svg.match(/<circle /g)?.length).toBe(6);
    // Tags balance: every opened <svg>/<text> closes.
    expect(svg.match(/<text /g)?.length).toBe(svg.match(/<\/text>/g)?.length);
    expect(escapeXml('"a" < b')).toBe('&quot;a&quot; &lt; b');
  });

  test('higher values are drawn higher up (smaller y)', () => {
    const svg = svgChart({ title: 't', panels: [{ title: 'p', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [[0, 0], [1, 10]] }] }] });
    const [first, second] = [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(second[0]).toBeGreaterThan(first[0]);
    expect(second[1]).toBeLessThan(first[1]);
  });

  test('learning curves: loss and accuracy panels, validation dashed when present', () => {
    const epochs = [1, 2, 3].map((e) => ({ epoch: e, loss: 1 / e, accuracy: 1 - 0.2 / e, valLoss: 1.1 / e, valAccuracy: 1 - 0.3 / e, seconds: 1 }));
    const svg = learningCurves('run', epochs);
    expect(svg.match(/<path /g)?.length).toBe(4);
    expect(svg).toContain('>validation accuracy<');
    expect(meanEpochSeconds(epochs)).toBe(1);
    const noVal = learningCurves('run', epochs.map(({ epoch, loss, accuracy }) => ({ epoch, loss, accuracy })));
    expect(noVal.match(/<path /g)?.length).toBe(2);
  });
});

describe('progress bar', () => {
  test('bar text and durations', () => {
    expect(barText(0, 10)).toBe('[>.........]');
    expect(barText(0.5, 10)).toBe('[=====>....]');
    expect(barText(1, 10)).toBe('[==========]');
    expect([formatDuration(42), formatDuration(187), formatDuration(3723)]).toEqual(['42s', '3:07', '1:02:03']);
  });

  test('in a log (not a terminal) it prints a few lines, not one per tick', () => {
    const lines: string[] = [];
    const bar = new ProgressBar('work', 100, { write: (t: string) => lines.push(t), isTTY: false });
    for (let i = 0; i < 100; i++) bar.tick();
    bar.done();
    expect(lines.length).toBeLessThanOrEqual(5);
    expect(lines[lines.length - 1]).toMatch(/^work 100\/100 \[=+\]/);
  });
});
