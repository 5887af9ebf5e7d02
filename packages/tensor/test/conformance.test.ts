/**
 * The backend conformance suite (conformance/checks.ts) on the cpu backend. Its float32 kernels run
 * against the same checks in float64 (every kernel's other code path: float64 arithmetic, the
 * JavaScript gemm rather than WebAssembly's), for the checks whose maths does not depend on the dtype.
 * The gpu package runs the whole list against this backend for every GPU.js mode it has.
 */
import { allChecks, runCheck } from './conformance/checks';

const checks = allChecks().filter((c) => c.float);

test('the suite holds the fused kernels of every family', () => {
  const names = checks.map((c) => c.name).join('\n');
  for (const kernel of ['batchNormForward', 'batchNormBackward', 'groupNormForward', 'groupNormBackward', 'softmaxCrossEntropy',
    'sigmoidCrossEntropy', 'lstmCellForward', 'lstmSequenceBackward', 'sgdUpdate', 'adamUpdate', 'rmspropUpdate']) {
    expect(names).toContain(kernel);
  }
});

test.each(checks.map((c) => [c.name, c] as const))('cpu float32 against float64: %s', (_, check) => {
  const result = runCheck(check, 'cpu', 'float64');
  expect(result.detail).toBe('');
  expect(result.ok).toBe(true);
});
