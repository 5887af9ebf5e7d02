/**
 * What the examples' quick-mode tests share: build the example, run `--quick` in a scratch folder, and
 * read back what it wrote. The run is a real training run (a small one), so the tests assert on the
 * accuracy the script itself measured, on its exit status and on its save → load → predict step.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readResults } from './results.js';
import type { RunResults } from './results.js';

export interface QuickRun { status: number | null; output: string; results: RunResults; dir: string }

/** tsc -b the example (incremental), then run its --quick mode; `root` is the repository. */
export function runQuick(root: string, example: 'image' | 'speech' | 'text', extraArgs: string[] = []): QuickRun {
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-b', `examples/${example}`], { cwd: root, stdio: 'pipe' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `gradlab-${example}-quick-`));
  const result = spawnSync(process.execPath, [
    `examples/${example}/dist/train.js`, '--quick', '--out', dir, '--model', path.join(dir, 'model'), ...extraArgs,
  ], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const output = `${result.stdout}${result.stderr}`;
  const file = path.join(dir, `${example}-quick.json`);
  if (!fs.existsSync(file)) throw new Error(`${example} --quick wrote no results (exit ${result.status}):\n${output.slice(-3000)}`);
  return { status: result.status, output, results: readResults(file), dir };
}
