/**
 * Publishability: what a user of the library does, done here from the outside (tensors, autograd and a
 * Keras-style model, the three layers of the library).
 *
 *  1. `pnpm pack` gradlab and every workspace package it depends on (pack rewrites `workspace:*` to
 *     real versions, as publish would);
 *  2. `npm install` the tarballs into a scratch project in os.tmpdir(), outside the workspace, so that
 *     nothing can resolve back into the sources (ndarray and friends come from the registry);
 *  3. run a plain Node ESM script that imports `gradlab`, and
 *  4. type-check TypeScript files against the installed declarations with the workspace's tsc: a
 *     correct file must pass and a deliberately wrong one must fail.
 *
 * It needs the packages built (`pnpm test` builds first; beforeAll runs the incremental build too, so
 * this file also works alone) and network access to the npm registry.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

jest.setTimeout(180_000);

const ROOT = path.resolve(__dirname, '..');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

interface Manifest {
  name: string;
  version: string;
  license?: string;
  private?: boolean;
  type?: string;
  files?: string[];
  exports?: Record<string, { types?: string; import?: string }>;
  dependencies?: Record<string, string>;
}

const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;

/** The workspace packages by name, each with its directory and manifest. */
function workspacePackages(): Map<string, { dir: string; manifest: Manifest }> {
  const out = new Map<string, { dir: string; manifest: Manifest }>();
  for (const entry of fs.readdirSync(path.join(ROOT, 'packages'))) {
    const dir = path.join(ROOT, 'packages', entry);
    const file = path.join(dir, 'package.json');
    if (!fs.existsSync(file)) continue;
    const manifest = readJson<Manifest>(file);
    out.set(manifest.name, { dir, manifest });
  }
  return out;
}

/** `gradlab` and the workspace packages it needs, following `workspace:` dependencies. */
function closureOf(root: string, all: Map<string, { dir: string; manifest: Manifest }>): string[] {
  const seen = new Set<string>();
  const stack = [root];
  while (stack.length > 0) {
    const name = stack.pop() as string;
    if (seen.has(name)) continue;
    seen.add(name);
    const pkg = all.get(name);
    if (!pkg) throw new Error(`packaging: workspace package ${name} not found under packages/`);
    for (const [dep, range] of Object.entries(pkg.manifest.dependencies ?? {})) {
      if (range.startsWith('workspace:')) stack.push(dep);
    }
  }
  return [...seen].sort();
}

const run = (cmd: string, args: string[], cwd: string): string =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** tsc on one file in the scratch project; returns its exit status and what it printed. */
function typecheck(dir: string, file: string): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [
    TSC, '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext',
    file,
  ], { cwd: dir, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('packaging: gradlab installs from its tarballs and works outside the workspace', () => {
  const all = workspacePackages();
  const names = closureOf('gradlab', all);
  let scratch = '';

  beforeAll(() => {
    // Incremental: a no-op when `pnpm test` has just built.
    run(process.execPath, [TSC, '-b', 'packages/gradlab'], ROOT);

    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'gradlab-packaging-'));
    const tarballs = path.join(scratch, 'tarballs');
    fs.mkdirSync(tarballs);
    for (const name of names) run('pnpm', ['pack', '--pack-destination', tarballs], all.get(name)!.dir);

    const project = path.join(scratch, 'project');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'),
      JSON.stringify({ name: 'gradlab-user', version: '1.0.0', private: true, type: 'module' }, null, 2));
    const files = fs.readdirSync(tarballs).filter((f) => f.endsWith('.tgz')).map((f) => path.join(tarballs, f));
    run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...files], project);
  });

  afterAll(() => {
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  const project = () => path.join(scratch, 'project');

  test('every package in the closure is publishable: name, version, MIT, exports with types, files, LICENSE', () => {
    expect(names).toEqual(expect.arrayContaining(['gradlab', '@gradlab/tensor', '@gradlab/autograd']));
    for (const name of names) {
      const { dir, manifest } = all.get(name)!;
      expect(manifest.private).not.toBe(true);
      expect(manifest.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(manifest.license).toBe('MIT');
      expect(manifest.type).toBe('module');
      expect(manifest.exports?.['.']?.types).toMatch(/\.d\.ts$/);
      expect(manifest.exports?.['.']?.import).toMatch(/\.js$/);
      expect(manifest.files).toEqual(expect.arrayContaining(['dist', 'LICENSE']));
      expect(fs.readFileSync(path.join(dir, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    }
  });

  test('the installed manifests have real versions, not workspace: ranges, and ship LICENSE and dist', () => {
    for (const name of names) {
      const installed = path.join(project(), 'node_modules', ...name.split('/'));
      const manifest = readJson<Manifest>(path.join(installed, 'package.json'));
      for (const range of Object.values(manifest.dependencies ?? {})) expect(range).not.toMatch(/^workspace:/);
      expect(fs.existsSync(path.join(installed, 'LICENSE'))).toBe(true);
      expect(fs.existsSync(path.join(installed, manifest.exports!['.'].types!))).toBe(true);
      expect(fs.existsSync(path.join(installed, manifest.exports!['.'].import!))).toBe(true);
    }
  });

  test('plain Node ESM imports gradlab from node_modules: tensors, gradients and a Keras-style model', () => {
    // The script checks nothing itself: it prints what it computed and the test compares it with
    // values derived by hand in the comments below.
    const script = `
import { tensor, arange, zeros, Variable, defineOp, layers, models } from 'gradlab';
import { fileURLToPath } from 'node:url';

const a = tensor([[1, 2, 3], [4, 5, 6]]);
const b = tensor([10, 20, 30]);
const sum = a.add(b);                 // broadcast a row over both rows
const t = arange(6).reshape([2, 3]).T; // a view: strides change, nothing is copied

// The engine through the public API: a user-defined op, y = x², dy/dx = 2x.
const square = defineOp('square', {
  forward: (ctx, [x]) => ctx.save(x).mul(x),
  backward: (ctx, dy) => [dy.mul(ctx.saved[0]).mul(2)],
});
const x = new Variable(tensor([1, -2, 3]), { requiresGrad: true });
const y = square([x], undefined);
y.backward(tensor([1, 1, 1]));

// The built-in differentiable ops: L = Σ (w · u + w), so ∂L/∂w = u + 1 and ∂L/∂u = w.
const w = new Variable(tensor([[1, 2], [3, 4]]), { requiresGrad: true });
const u = new Variable(tensor([10, 20]), { requiresGrad: true });
const L = w.mul(u).add(w).sum();
L.backward();

// The Keras-style layer: Dense(3) on 4 inputs then Dense(2): (4·3 + 3) + (3·2 + 2) = 23 parameters.
const model = new models.Sequential();
model.add(layers.Dense(3, { activation: 'relu', inputShape: [4] }));
model.add(layers.Dense(2));
const predicted = await model.predict(zeros([5, 4]));

console.log(JSON.stringify({
  resolved: fileURLToPath(import.meta.resolve('gradlab')),
  sum: sum.toArray(), sumShape: sum.shape, dtype: sum.dtype,
  transposed: t.toArray(), transposedShape: t.shape,
  y: y.toArray(), grad: x.grad ? x.grad.toArray() : null,
  L: L.item(), dw: w.grad ? w.grad.toArray() : null, du: u.grad ? u.grad.toArray() : null,
  predictedShape: predicted.shape, params: model.countParams().total,
}));
`;
    fs.writeFileSync(path.join(project(), 'use.mjs'), script);
    const out = JSON.parse(run(process.execPath, ['use.mjs'], project())) as Record<string, unknown>;
    // Resolved inside the scratch project, not into the workspace's sources.
    expect(String(out.resolved).startsWith(fs.realpathSync(project()))).toBe(true);
    expect(String(out.resolved)).toContain(path.join('node_modules', 'gradlab', 'dist'));
    // [[1+10, 2+20, 3+30], [4+10, 5+20, 6+30]]
    expect(out.sum).toEqual([[11, 22, 33], [14, 25, 36]]);
    expect(out.sumShape).toEqual([2, 3]);
    expect(out.dtype).toBe('float32');
    // arange(6) as [[0,1,2],[3,4,5]], transposed.
    expect(out.transposed).toEqual([[0, 3], [1, 4], [2, 5]]);
    expect(out.transposedShape).toEqual([3, 2]);
    // y = x² = [1, 4, 9]; dy/dx = 2x = [2, -4, 6].
    expect(out.y).toEqual([1, 4, 9]);
    expect(out.grad).toEqual([2, -4, 6]);
    // L = (10+1)·1 + (20+1)·2 + (10+1)·3 + (20+1)·4 = 11 + 42 + 33 + 84 = 170
    expect(out.L).toBe(170);
    // ∂L/∂w = u + 1 on every row; ∂L/∂u sums w over the broadcast rows: [1+3, 2+4]
    expect(out.dw).toEqual([[11, 21], [11, 21]]);
    expect(out.du).toEqual([4, 6]);
    expect(out.predictedShape).toEqual([5, 2]);
    expect(out.params).toBe(23);
  });

  test("without @gradlab/gpu installed, useBackend('gpu') says which package to install, and how", () => {
    // gradlab declares @gradlab/gpu an optional peer: npm installs gradlab without it.
    expect(fs.existsSync(path.join(project(), 'node_modules', '@gradlab', 'gpu'))).toBe(false);
    fs.writeFileSync(path.join(project(), 'gpu.mjs'), `
import { useBackend, backendName } from 'gradlab';
try { await useBackend('gpu'); console.log('no error'); } catch (error) { console.log(error.message); }
console.log(backendName());
`);
    expect(run(process.execPath, ['gpu.mjs'], project())).toBe(
      "useBackend('gpu'): the gpu backend is in the package @gradlab/gpu, which is not installed here. " +
      'Install it beside gradlab (npm install @gradlab/gpu, or pnpm add @gradlab/gpu) and run again.\ncpu\n');
  });

  test('a TypeScript file type-checks against the installed declarations; a wrong-typed one fails', () => {
    fs.writeFileSync(path.join(project(), 'good.ts'), `
import { tensor, zeros, Tensor, Variable, noGrad, layers, models } from 'gradlab';
import type { DType, Shape } from 'gradlab';

const a: Tensor = tensor([[1, 2], [3, 4]], { dtype: 'float64' });
const b: Tensor = a.add(1).mul(zeros([2, 2], 'float64'));
const dtype: DType = b.dtype;
const shape: Shape = b.transpose().shape;
const size: number = b.size;
const v = new Variable(a, { requiresGrad: true });
const grad: Tensor | null = v.grad;
const detached: Variable = noGrad(() => v.detach());
const loss: Variable = v.mul(v).sum();
loss.backward();
const lossValue: number = loss.item();
const model: models.Sequential = new models.Sequential();
model.add(layers.Dense(2, { activation: 'relu', inputShape: [2] }));
export const prediction: Promise<Tensor> = model.predict(a.astype('float32'));
export const summary = { dtype, shape, size, grad, requiresGrad: detached.requiresGrad, lossValue };
`);
    const good = typecheck(project(), 'good.ts');
    expect(good.output).toBe('');
    expect(good.status).toBe(0);

    // The same import, one line that must not compile: Tensor.size is a number.
    fs.writeFileSync(path.join(project(), 'bad.ts'), `
import { tensor } from 'gradlab';
const n: string = tensor([1]).size;
export { n };
`);
    const bad = typecheck(project(), 'bad.ts');
    expect(bad.status).not.toBe(0);
    expect(bad.output).toMatch(/bad\.ts\(3,7\): error TS2322: Type 'number' is not assignable to type 'string'/);
  });
  test('every installed package declares engines and ships no .tsbuildinfo; require() from CommonJS loads gradlab', () => {
    const files = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]));
    for (const name of names) {
      const installed = path.join(project(), 'node_modules', ...name.split('/'));
      expect({ name, engines: readJson<{ engines?: { node?: string } }>(path.join(installed, 'package.json')).engines?.node }).toEqual({ name, engines: '>=20' });
      expect(files(installed).filter((f) => f.endsWith('.tsbuildinfo'))).toEqual([]);
    }
    fs.writeFileSync(path.join(project(), 'use.cjs'), "const { tensor } = require('gradlab'); console.log(JSON.stringify(tensor([1, 2]).add(1).toArray()));");
    expect(run(process.execPath, ['use.cjs'], project()).trim()).toBe('[2,3]');
  });
});
