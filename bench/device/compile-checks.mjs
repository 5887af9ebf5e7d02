// The backend conformance suite (packages/tensor/test/conformance/checks.ts) is TypeScript inside a test
// folder, so no build writes it to dist/. check.mjs needs it as JavaScript: esbuild turns it into one ES
// module that imports @gradlab/tensor from `tensorSpecifier` (so that the checks and the backend under
// test share one copy of the tensor package, and with it one registry of backends).
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CHECKS_SOURCE = path.join(ROOT, 'packages/tensor/test/conformance/checks.ts');

/** Write checks.ts as one ES module to `outFile`, importing the tensor package from `tensorSpecifier`. */
export async function compileChecks(outFile, tensorSpecifier) {
  const { build } = await import('esbuild'); // a devDependency of the repository root: present where the repo is built
  await build({
    entryPoints: [CHECKS_SOURCE], bundle: true, format: 'esm', platform: 'node', target: 'node20', outfile: outFile, logLevel: 'silent',
    plugins: [{
      name: 'tensor-from-dist',
      setup(b) { b.onResolve({ filter: /^@gradlab\/tensor$/ }, () => ({ path: tensorSpecifier, external: true })); },
    }],
  });
  return outFile;
}
