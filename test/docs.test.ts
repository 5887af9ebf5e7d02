/**
 * The docs' snippets run, and print what the docs say they print.
 *
 * The README and the pages in docs/ opt in with the marker `snippets are tested: test/docs.test.ts` (in an HTML comment). Every
 * ```js block of such a page is run as an ES module from packages/gradlab/ (where `import … from
 * 'gradlab'` resolves to the built package, as the page tells readers to do), and the lines it prints
 * must equal, in order, the `// → …` comments written in the block. The expected values were worked out
 * by hand when the page was written; the page explains each one.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, '..');
const DOCS = path.join(ROOT, 'docs');
const MARKER = 'snippets are tested: test/docs.test.ts';

interface Snippet { page: string; line: number; code: string; expected: string[] }

/** The ```js blocks of a page, with the `// →` lines each should print. */
export function snippetsOf(page: string, text: string): Snippet[] {
  const out: Snippet[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```js') continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end].trim() !== '```') end++;
    const code = lines.slice(start, end).join('\n');
    const expected = [...code.matchAll(/\/\/ → (.*)$/gm)].map((m) => m[1].trim());
    out.push({ page, line: start, code, expected });
    i = end;
  }
  return out;
}

const candidates = [
  path.join(ROOT, 'README.md'),
  ...fs.readdirSync(DOCS).filter((f) => f.endsWith('.md')).map((f) => path.join(DOCS, f)),
];
const pages = candidates
  .map((file) => ({ page: path.relative(ROOT, file), text: fs.readFileSync(file, 'utf8') }))
  .filter(({ text }) => text.includes(MARKER));
const snippets = pages.flatMap(({ page, text }) => snippetsOf(page, text));

describe('docs snippets', () => {
  beforeAll(() => {
    // Incremental: a no-op when `pnpm test` has just built.
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'packages/gradlab'],
      { cwd: ROOT, stdio: 'pipe' });
  });

  test('the snippet parser finds blocks and their expectations', () => {
    const sample = ['text', '```js', "console.log(1 + 1); // → 2", '```', '```ts', '// → not run', '```'].join('\n');
    const found = snippetsOf('sample.md', sample);
    expect(found).toHaveLength(1);
    expect(found[0].expected).toEqual(['2']);
    expect(found[0].line).toBe(2);
  });

  test('the README and docs/tensor.md are among the tested pages and have snippets', () => {
    expect(pages.map((p) => p.page)).toEqual(expect.arrayContaining(['README.md', path.join('docs', 'tensor.md')]));
    expect(snippets.filter((s) => s.page === 'README.md').length).toBeGreaterThan(0);
    expect(snippets.filter((s) => s.page === path.join('docs', 'tensor.md')).length).toBeGreaterThan(5);
  });

  test.each(snippets.map((s) => [`${s.page}:${s.line}`, s] as const))('%s prints what the page says', (_name, snippet) => {
    const result = spawnSync(process.execPath, ['--input-type=module'], {
      cwd: path.join(ROOT, 'packages', 'gradlab'),
      input: snippet.code,
      encoding: 'utf8',
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const printed = result.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    expect(printed).toEqual(snippet.expected);
  });
});
