/**
 * GRADLAB_THREADS, GRADLAB_GEMM, GRADLAB_CONV and GRADLAB_BACKEND are read once, at start-up, so each case runs a
 * fresh node process on the built package (dist/; `pnpm run build` first).
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

const BUILT = pathToFileURL(path.join(__dirname, '..', 'dist', 'index.js')).href;

/** Import @gradlab/tensor with `env` set, run one op, print the thread count; the process's output and status. */
function start(env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const script = `const t = await import(${JSON.stringify(BUILT)}); t.tensor([1, 2]).add(1).dataSync(); console.log('threads', t.numThreads());`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8',
  });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

test.each(['0', '-1', 'abc', '1.5'])('GRADLAB_THREADS=%s is refused, naming the variable', (value) => {
  const run = start({ GRADLAB_THREADS: value });
  expect(run.status).not.toBe(0);
  expect(run.stderr).toContain(`GRADLAB_THREADS must be a positive integer (1 = the main thread only), got "${value}"`);
});

test('GRADLAB_THREADS=64 is lowered to the maximum with a warning; 3 is taken as it is', () => {
  const many = start({ GRADLAB_THREADS: '64' });
  expect(many.status).toBe(0);
  expect(many.stderr).toContain('GRADLAB_THREADS=64: gradlab uses at most 9 threads; using 9');
  expect(many.stdout).toContain('threads 9');
  const three = start({ GRADLAB_THREADS: '3' });
  expect([three.status, three.stderr, three.stdout.trim()]).toEqual([0, '', 'threads 3']);
});

test('GRADLAB_GEMM, GRADLAB_CONV and GRADLAB_BACKEND nonsense is refused, naming the variable and the values it takes', () => {
  const gemm = start({ GRADLAB_GEMM: 'fast' });
  expect(gemm.status).not.toBe(0);
  expect(gemm.stderr).toContain('GRADLAB_GEMM="fast" is not a value gradlab knows; use one of: wasm, js');
  const backend = start({ GRADLAB_BACKEND: 'tpu' });
  expect(backend.status).not.toBe(0);
  expect(backend.stderr).toContain('GRADLAB_BACKEND="tpu" is not a backend gradlab knows; use one of: cpu, gpu, gpu:<mode>');
  const conv = start({ GRADLAB_CONV: 'winograd' });
  expect(conv.status).not.toBe(0);
  expect(conv.stderr).toContain('GRADLAB_CONV="winograd" is not a value gradlab knows; use one of: direct, patches');
  const fine: Array<Record<string, string>> = [{ GRADLAB_GEMM: 'js' }, { GRADLAB_BACKEND: 'cpu' }, { GRADLAB_CONV: 'patches' }, { GRADLAB_CONV: 'direct' }];
  for (const ok of fine) expect(start(ok).status).toBe(0);
});

test('the WebAssembly kernels\' opt-outs (GRADLAB_POOL, GRADLAB_BATCHNORM, GRADLAB_MUL_ADD) take js or wasm, and refuse nonsense by name', () => {
  // read when the kernel is first used, so the script runs each op on float32 tensors large enough for it
  const script = (op: string) => `const t = await import(${JSON.stringify(BUILT)}); const x = t.randn([2, 16, 16, 8]); ${op}; console.log('ok');`;
  const ops: Record<string, string> = {
    GRADLAB_POOL: "t.maxPool2d(x, { poolSize: [2, 2], strides: [2, 2], padding: 'valid' }).dataSync()",
    GRADLAB_BATCHNORM: 't.batchNormForward(x, t.ones([8]), t.zeros([8]), 1e-3, null).y.dataSync()',
    GRADLAB_MUL_ADD: 't.mulAdd(x, t.ones([8]), t.zeros([8])).dataSync()',
  };
  for (const [name, op] of Object.entries(ops)) {
    const run = (value: string) => spawnSync(process.execPath, ['--input-type=module', '-e', script(op)], { env: { PATH: process.env.PATH ?? '', [name]: value }, encoding: 'utf8' });
    const bad = run('fast');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain(`${name}="fast" is not a value gradlab knows; use one of: wasm, js`);
    for (const fine of ['js', 'wasm']) expect(run(fine).stdout.trim()).toBe('ok');
  }
});

test('GRADLAB_BACKEND=gpu without @gradlab/gpu imported warns at the first op, which runs on the cpu', () => {
  const run = start({ GRADLAB_BACKEND: 'gpu' });
  expect(run.status).toBe(0);
  expect(run.stderr).toContain("GRADLAB_BACKEND=gpu asks for the GPU, but @gradlab/gpu is not imported, so ops run on the cpu; import '@gradlab/gpu'");
});
