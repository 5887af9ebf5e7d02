/**
 * The headlessgl mode: real WebGL shaders (GLSL ES through headless-gl and ANGLE, on Mesa's software
 * OpenGL). headless-gl needs an X display, which a jest worker does not have, so this test starts
 * jest again, for kernels, memory, fused, models, layers and optimizers (.test.ts) only, under `xvfb-run -a` (a throwaway X server)
 * with GRADLAB_GPU_TEST_MODES=headlessgl and GRADLAB_GPU_TEST_REQUIRE=1, and checks its JSON report:
 * every test passed, none skipped. (Running the whole of jest under xvfb-run would work too, but
 * would tie every other package's tests to an X server.)
 *
 * Where xvfb-run or a built `gl` package is missing the test is skipped and its name says which.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../../..');
const gpuPackage = resolve(__dirname, '..');

/** Why headlessgl cannot run here, or '' when it can. */
function missing(): string {
  if (spawnSync('sh', ['-c', 'command -v xvfb-run'], { encoding: 'utf8' }).status !== 0) {
    return 'xvfb-run is not installed (apt-get install xvfb)';
  }
  const probe = spawnSync('xvfb-run', ['-a', process.execPath, '-e',
    "const { GPU } = require('gpu.js'); process.exit(GPU.isHeadlessGLSupported ? 0 : 3)"], { cwd: gpuPackage, encoding: 'utf8' });
  if (probe.status !== 0) {
    return `headless-gl gives no OpenGL context under Xvfb (is the gl package built? exit ${probe.status}: ${(probe.stderr || '').trim().split('\n').slice(-1)[0] ?? ''})`;
  }
  return '';
}

const reason = missing();

if (reason) {
  // A mode or tool this machine lacks is reported as skipped, with the reason in the test's name (never silently passed).
  test.skip(`headlessgl: skipped — ${reason}`, () => undefined);
} else {
  test('headlessgl: every kernel check, the fused kernels, the layers ops and optimizers, the three models and the 1,000-step memory test pass under Xvfb', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradlab-headlessgl-'));
    const report = join(dir, 'report.json');
    try {
      const run = spawnSync('xvfb-run', ['-a', process.execPath, require.resolve('jest/bin/jest'),
        'packages/gpu/test/kernels.test.ts', 'packages/gpu/test/memory.test.ts', 'packages/gpu/test/fused.test.ts', 'packages/gpu/test/models.test.ts', 'packages/gpu/test/layers.test.ts', 'packages/gpu/test/optimizers.test.ts', '--runInBand', '--json', `--outputFile=${report}`], {
        cwd: root, encoding: 'utf8', maxBuffer: 64 << 20,
        env: { ...process.env, GRADLAB_GPU_TEST_MODES: 'headlessgl', GRADLAB_GPU_TEST_REQUIRE: '1' },
      });
      const json = JSON.parse(readFileSync(report, 'utf8')) as {
        numPassedTests: number; numFailedTests: number; numPendingTests: number;
        testResults: { assertionResults: { fullName: string; status: string; failureMessages: string[] }[] }[];
      };
      const failures = json.testResults.flatMap((f) => f.assertionResults).filter((a) => a.status !== 'passed')
        .map((a) => `${a.status}: ${a.fullName}\n${a.failureMessages.join('\n').slice(0, 400)}`);
      expect(failures).toEqual([]);
      expect(json.numFailedTests).toBe(0);
      expect(json.numPendingTests).toBe(0);
      expect(json.numPassedTests).toBeGreaterThan(120);
      expect(run.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 900_000);
}
