// Builds what the device machine needs to run gradlab, into <repo>/.device/ (ignored by .gitignore; the
// device tool carries it when its `run` call names it in `carry`). The device machine has no Node and
// reaches no registry, so everything travels:
//   .device/node.xz        this machine's Node binary (`process.execPath`: Node 20), xz-compressed;
//   .device/app.tar.xz     app/: the built packages (packages/*/package.json and dist/), bench/device,
//                          bench/models, bench/lib, the conformance suite as JavaScript, and node_modules/
//                          with the packages' runtime dependencies copied flat (gpu.js, acorn, gpu-mock.js,
//                          ndarray, and webgpu with only Dawn's linux-x64 .node) and @gradlab/* and gradlab
//                          as links into app/packages;
//   .device/manifest.json  what is inside, with sizes, and the limit it was checked against.
// It refuses to finish over 64 MiB (the device tool's limit for everything that travels).
//
// Run from the repository root: node bench/device/build-bundle.mjs [--no-build] [--out=.device]
// (it runs `pnpm run build` first unless --no-build). Then bench/device/run.sh on the device unpacks it.
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileChecks } from './compile-checks.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = Object.fromEntries(process.argv.slice(2).map((a) => { const [k, v = 'true'] = a.replace(/^--/, '').split('='); return [k, v]; }));
const OUT = path.resolve(ROOT, args.out ?? '.device');
const LIMIT = 64 * 1024 * 1024;
/** The workspace packages the benchmarks import, and the npm packages none of them needs at run time. */
const PACKAGES = ['tensor', 'autograd', 'layers', 'gpu', 'gradlab'];
/** `gl` (headless-gl) is gpu.js's optional native addon, built here against Debian 12's GL libraries: it is not carried. */
const NOT_CARRIED = new Set(['gl']);

function run(cmd, argv, options = {}) {
  const r = spawnSync(cmd, argv, { stdio: 'inherit', cwd: ROOT, ...options });
  if (r.status !== 0) throw new Error(`build-bundle: \`${cmd} ${argv.join(' ')}\` failed (exit ${r.status})`);
}

/** The folder of npm package `name` as Node would find it from `fromDir` (walking up node_modules), real path. */
function packageDir(name, fromDir) {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return realpathSync(candidate);
    if (path.dirname(dir) === dir) throw new Error(`build-bundle: cannot find package '${name}' from ${fromDir} (run pnpm install)`);
  }
}

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/** Every runtime dependency (not @types/*, not NOT_CARRIED), transitively, as name → real folder; one version each. */
function runtimeDependencies() {
  const found = new Map();
  const visit = (dir) => {
    const pkg = readJson(path.join(dir, 'package.json'));
    for (const name of Object.keys(pkg.dependencies ?? {})) {
      if (name.startsWith('@types/') || name.startsWith('@gradlab/') || NOT_CARRIED.has(name)) continue;
      const at = packageDir(name, dir);
      if (found.has(name)) {
        if (found.get(name) !== at) throw new Error(`build-bundle: two versions of '${name}' (${found.get(name)}, ${at}): the flat node_modules holds one`);
        continue;
      }
      found.set(name, at);
      visit(at);
    }
  };
  for (const p of PACKAGES) visit(path.join(ROOT, 'packages', p));
  return found;
}

/** Size of a file or a folder's files, in bytes (links not followed). */
function sizeOf(p) {
  const s = lstatSync(p);
  if (s.isSymbolicLink()) return 0;
  if (!s.isDirectory()) return s.size;
  return readdirSync(p).reduce((n, e) => n + sizeOf(path.join(p, e)), 0);
}

if (args.build !== 'false' && args['no-build'] !== 'true') run('pnpm', ['run', 'build']);
for (const p of PACKAGES) {
  if (!existsSync(path.join(ROOT, 'packages', p, 'dist/index.js'))) throw new Error(`build-bundle: packages/${p} is not built (pnpm run build)`);
}

// node.xz is kept from an earlier build of the same Node binary (xz -9 of 99 MB takes minutes); the rest is rebuilt.
const node = process.execPath;
const earlier = existsSync(path.join(OUT, 'manifest.json')) ? readJson(path.join(OUT, 'manifest.json')).node : null;
mkdirSync(OUT, { recursive: true });
const reuseNode = existsSync(path.join(OUT, 'node.xz')) && earlier?.from === node && earlier?.version === process.version && earlier?.bytes === statSync(node).size;
for (const f of readdirSync(OUT, { withFileTypes: true }).map((e) => e.name).filter((f) => !(reuseNode && f === 'node.xz'))) {
  rmSync(path.join(OUT, f), { recursive: true, force: true });
}
const app = path.join(OUT, 'app');
mkdirSync(app, { recursive: true });

// The packages: package.json and dist/ (no sources, no tests, no maps' sources).
for (const p of PACKAGES) {
  const to = path.join(app, 'packages', p);
  mkdirSync(to, { recursive: true });
  cpSync(path.join(ROOT, 'packages', p, 'package.json'), path.join(to, 'package.json'));
  cpSync(path.join(ROOT, 'packages', p, 'dist'), path.join(to, 'dist'), { recursive: true, filter: (f) => !/\.(d\.ts|map|tsbuildinfo)$/.test(f) });
}
// The scripts that run there.
for (const dir of ['bench/device', 'bench/lib']) cpSync(path.join(ROOT, dir), path.join(app, dir), { recursive: true });
mkdirSync(path.join(app, 'bench/models'), { recursive: true });
for (const f of ['models-gradlab.mjs', 'package.json']) cpSync(path.join(ROOT, 'bench/models', f), path.join(app, 'bench/models', f));
// The conformance suite, importing the same tensor package as the backend does.
await compileChecks(path.join(app, 'bench/device/conformance-checks.mjs'), '../../packages/tensor/dist/index.js');

// node_modules: the workspace packages as links, the npm ones copied flat.
const modules = path.join(app, 'node_modules');
mkdirSync(path.join(modules, '@gradlab'), { recursive: true });
for (const p of PACKAGES) {
  const link = p === 'gradlab' ? path.join(modules, 'gradlab') : path.join(modules, '@gradlab', p);
  symlinkSync(path.relative(path.dirname(link), path.join(app, 'packages', p)), link);
}
const deps = runtimeDependencies();
for (const [name, from] of deps) {
  const to = path.join(modules, name);
  // webgpu ships Dawn for four platforms (87 MB): the device machine is linux-x64, so only that one travels.
  const keep = name === 'webgpu' ? (f) => !/\.dawn\.node$/.test(f) || f.endsWith('linux-x64.dawn.node') : () => true;
  cpSync(from, to, { recursive: true, dereference: true, filter: (f) => keep(f) && !path.relative(from, f).split(path.sep).includes('node_modules') });
}
if (!existsSync(path.join(modules, 'webgpu/dist/linux-x64.dawn.node'))) throw new Error('build-bundle: webgpu/dist/linux-x64.dawn.node is missing (gpu.js depends on webgpu; run pnpm install)');

// Compress: the app as one tar.xz (links stay links inside it), Node as one .xz.
run('tar', ['-C', OUT, '-cJf', path.join(OUT, 'app.tar.xz'), 'app'], { env: { ...process.env, XZ_OPT: '-9 -T2' } });
const appBytes = sizeOf(app);
rmSync(app, { recursive: true, force: true });
if (!reuseNode) {
  const xz = spawnSync('xz', ['-9', '-T2', '-c', node], { maxBuffer: 1 << 30 });
  if (xz.status !== 0) throw new Error(`build-bundle: xz failed: ${xz.stderr}`);
  writeFileSync(path.join(OUT, 'node.xz'), xz.stdout);
}

const files = Object.fromEntries(['node.xz', 'app.tar.xz'].map((f) => [f, statSync(path.join(OUT, f)).size]));
const total = Object.values(files).reduce((a, b) => a + b, 0);
const manifest = {
  built: new Date().toISOString(), node: { version: process.version, from: node, bytes: statSync(node).size },
  app_bytes_unpacked: appBytes, packages: PACKAGES, npm_dependencies: Object.fromEntries([...deps].map(([n, d]) => [n, readJson(path.join(d, 'package.json')).version])),
  not_carried: [...NOT_CARRIED], files, total_bytes: total, limit_bytes: LIMIT,
};
writeFileSync(path.join(OUT, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
console.log(JSON.stringify(manifest, null, 2));
if (total > LIMIT) throw new Error(`build-bundle: ${total} bytes, over the device tool's ${LIMIT} (the working tree travels too)`);
