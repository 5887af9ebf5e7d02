/**
 * The examples' --backend flag in plain Node, through the built image example: 'gpu:cpu' (GPU.js's
 * JavaScript mode, which needs no GL) imports @gradlab/gpu on demand, nothing else importing it, and the
 * untrained model's test loss on 8 images (--epochs 0: evaluate, save, load back, predict) is the cpu
 * backend's; GRADLAB_BACKEND chooses the same when no flag is given; and a backend package that is not
 * installed gives an error naming it and how to install it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readResults } from '../../common/src/results';
import type { RunResults } from '../../common/src/results';
import { DEFAULT_DIR, FILES } from '../src/data';

jest.setTimeout(300_000);

const ROOT = path.resolve(__dirname, '../../..');
const installed = Object.values(FILES).every((f) => fs.existsSync(path.join(process.env.FASHION_MNIST_DIR ?? DEFAULT_DIR, f)));

let scratch = '';
beforeAll(() => {
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'examples/image'], { cwd: ROOT, stdio: 'pipe' });
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'gradlab-image-backend-'));
});
afterAll(() => { if (scratch) fs.rmSync(scratch, { recursive: true, force: true }); });

/** The image example with --epochs 0 on 8 test images, in its own folder: exit status, output, results. */
function untrainedRun(label: string, args: string[], env: Record<string, string> = {}): { status: number | null; output: string; results: RunResults } {
  const out = path.join(scratch, label);
  const environment: NodeJS.ProcessEnv = { ...process.env, GRADLAB_THREADS: '1', ...env };
  if (!('GRADLAB_BACKEND' in env)) delete environment.GRADLAB_BACKEND;
  const run = spawnSync(process.execPath, ['examples/image/dist/train.js', '--epochs', '0', '--test-subset', '8',
    '--out', out, '--model', path.join(out, 'model'), ...args], { cwd: ROOT, encoding: 'utf8', env: environment });
  const output = `${run.stdout}${run.stderr}`;
  const file = path.join(out, 'image.json');
  if (!fs.existsSync(file)) throw new Error(`image ${args.join(' ')} wrote no results (exit ${run.status}):\n${output.slice(-3000)}`);
  return { status: run.status, output, results: readResults(file) };
}

(installed ? describe : describe.skip)('image example: --backend gpu loads @gradlab/gpu on demand', () => {
  test("--backend gpu:cpu and GRADLAB_BACKEND=gpu:cpu run on the gpu backend and give the cpu backend's test loss", () => {
    const cpu = untrainedRun('cpu', ['--backend', 'cpu']);
    const gpu = untrainedRun('gpu-flag', ['--backend', 'gpu:cpu']);
    const fromEnvironment = untrainedRun('gpu-env', [], { GRADLAB_BACKEND: 'gpu:cpu' });
    for (const run of [cpu, gpu, fromEnvironment]) {
      expect(run.status).toBe(0);
      expect(run.output).toMatch(/loaded back/);
      expect(Number.isFinite(run.results.test.loss)).toBe(true);
    }
    expect(cpu.results.machine.backend).toBe('cpu');
    expect(cpu.output).not.toMatch(/@gradlab\/gpu/);
    for (const run of [gpu, fromEnvironment]) {
      expect(run.results.machine.backend).toBe('gpu:cpu');
      expect(run.output).toMatch(/@gradlab\/gpu: kernels run on GPU\.js mode 'cpu'/);
      // the same seed builds the same weights: float32 sums in another order differ by rounding only
      expect(Math.abs(run.results.test.loss - cpu.results.test.loss)).toBeLessThan(1e-4 * Math.abs(cpu.results.test.loss));
    }
  });

  test('an unknown backend fails at once, naming the backends there are', () => {
    const run = spawnSync(process.execPath, ['examples/image/dist/train.js', '--backend', 'tpu'], { cwd: ROOT, encoding: 'utf8' });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/setBackend: no backend named 'tpu' \(registered: cpu/);
  });
});

test('in plain Node, a backend package that is not installed gives an error naming it and how to install it', () => {
  // The built module, as the examples load it, asked for a package that no node_modules holds.
  const module = path.join(ROOT, 'packages', 'gradlab', 'dist', 'use-backend.js');
  const script = `
    const { loadBackendPackage } = await import(${JSON.stringify(new URL(`file://${module}`).href)});
    try { await loadBackendPackage('gpu', 'gradlab-backend-package-that-is-not-installed'); console.log('loaded?'); }
    catch (error) { console.log(error.message); console.log(error.cause?.code); }`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: scratch, encoding: 'utf8' });
  expect(run.stderr).toBe('');
  expect(run.stdout).toBe(
    "useBackend('gpu'): the gpu backend is in the package gradlab-backend-package-that-is-not-installed, which is not installed here. " +
    'Install it beside gradlab (npm install gradlab-backend-package-that-is-not-installed, or pnpm add ' +
    'gradlab-backend-package-that-is-not-installed) and run again.\nERR_MODULE_NOT_FOUND\n');
});
