/**
 * Every gpu kernel against the CPU backend (the list is in checks.ts), once per GPU.js mode:
 *   - cpu and webasm run here, in-process;
 *   - headlessgl needs an OpenGL context, which jest's process has only when it runs under Xvfb:
 *     headlessgl.test.ts starts this same file under `xvfb-run` with GRADLAB_GPU_TEST_MODES=headlessgl
 *     (and GRADLAB_GPU_TEST_REQUIRE=1, so a missing mode fails instead of skipping).
 * A mode that is missing here is reported as a skipped test whose name says why; with
 * GRADLAB_GPU_TEST_REQUIRE=1 it is a failure instead.
 * Each mode also runs the checks marked `tiled` with tiles of 64 elements, so every output is cut
 * into several textures and every input is read across several of them.
 */
import * as T from '@gradlab/tensor';
import { setBackend } from '@gradlab/tensor';
import { registerGpuBackend, modeSupport, MODE_ORDER } from '@gradlab/gpu';
import type { GpuBackend, GpuMode } from '@gradlab/gpu';
import { allChecks, runCheck } from '../../tensor/test/conformance/checks';

const modes = (process.env.GRADLAB_GPU_TEST_MODES ?? 'cpu,webasm').split(',').map((m) => m.trim()) as GpuMode[];
const required = process.env.GRADLAB_GPU_TEST_REQUIRE === '1';
const checks = allChecks();

afterAll(() => setBackend('cpu'));

for (const mode of modes) {
  if (!MODE_ORDER.includes(mode)) throw new Error(`GRADLAB_GPU_TEST_MODES: unknown mode '${mode}'`);
  const support = modeSupport(mode);
  if (!support.ok && !required) {
    // A mode or tool this machine lacks is reported as skipped, with the reason in the test's name (never silently passed).
    test.skip(`${mode}: skipped — ${support.reason}`, () => undefined);
    continue;
  }
  describe(`gpu mode ${mode}`, () => {
    const name = `gpu-test-${mode}`;
    const tiledName = `gpu-test-${mode}-tiled`;
    beforeAll(() => {
      registerGpuBackend({ mode, log: false }, name);
      registerGpuBackend({ mode, log: false, tileElements: 64 }, tiledName);
    });
    test('the mode is available', () => expect(support).toEqual({ ok: true, reason: '' }));
    test.each(checks.map((c) => [c.name, c] as const))('%s', (_, check) => {
      const result = runCheck(check, name);
      expect(result.detail).toBe('');
      expect(result.ok).toBe(true);
    });
    test.each(checks.filter((c) => c.tiled).map((c) => [c.name, c] as const))('tiled (64 elements per texture): %s', (_, check) => {
      const result = runCheck(check, tiledName);
      expect(result.detail).toBe('');
      expect(result.ok).toBe(true);
    });
    test('moving values (concat, pad, gather, scatterAdd, oneHot) reads nothing back; a bad index on the device gives NaN', () => {
      const device = (T.getBackend(name) as GpuBackend).device;
      const moves = checks.filter((c) => c.name.startsWith('move:'));
      const inputs = moves.map((c) => c.inputs().map((x) => x.contiguousOn(name))); // made on the cpu, uploaded
      setBackend(name);
      try {
        const readbacks = device.readbacks;
        moves.forEach((check, k) => check.run(...inputs[k]));
        expect(device.readbacks).toBe(readbacks);
        const x = T.randn([4, 3], { seed: 1 });
        const picked = T.gather(x, T.tensor([1, 4, 0], { dtype: 'int32' }), 0).dataSync();
        expect(Array.from(picked.subarray(0, 3))).toEqual(Array.from(x.dataSync().subarray(3, 6)));
        expect(Array.from(picked.subarray(3, 6)).every(Number.isNaN)).toBe(true);
        // a kernel run again with new inputs reads every one of them (16 or more texture inputs did not: device.ts)
        const stack = moves.find((c) => c.name.includes('stack of 40'))!;
        for (let run = 0; run < 2; run++) expect(runCheck(stack, name).detail).toBe('');
        setBackend(name);
        // indices on the host are still checked, with the CPU's message
        expect(() => T.gather(x, T.tensor([1, 4, 0], { dtype: 'int32' }).contiguousOn('cpu'), 0)).toThrow(/index 4 is out of range for axis 0 of size 4/);
      } finally {
        setBackend('cpu');
      }
    });
  });
}
