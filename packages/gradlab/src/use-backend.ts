/**
 * Choosing a backend by name, loading its package the first time it is named.
 *
 * The cpu backend is part of @gradlab/tensor. The gpu backend is a package of its own, @gradlab/gpu,
 * installed separately because it brings GPU.js (and, for headless-gl, native code) along; importing it
 * registers the backend 'gpu'. A program that imports it can call setBackend('gpu'). A program that only
 * has a name — a --backend flag, the GRADLAB_BACKEND variable — calls useBackend, which imports the
 * package on demand and says how to install it when it is missing:
 *
 *   await useBackend('gpu');              // the best GPU.js mode available here
 *   await useBackend('gpu:webasm');       // a mode of your choice (gpu:<mode>-async: the async contract)
 *   await useBackend();                   // GRADLAB_BACKEND if it is set, else 'cpu'
 */
import { setBackend } from '@gradlab/tensor';

/** Backends that live in a package of their own, by name. */
const BACKEND_PACKAGES: Readonly<Record<string, string>> = { gpu: '@gradlab/gpu' };

/** What useBackend needs from a backend package: apply a 'name:mode' choice, return the active name. */
interface BackendPackage { applyBackendSpec(spec: string): string }

type Importer = (specifier: string) => Promise<unknown>;

// A plain dynamic import. Its specifier is a variable, so TypeScript neither resolves nor type-checks
// the package: gradlab builds and installs without it.
const importPackage: Importer = (specifier) => import(specifier);

const environmentBackend = (): string | undefined =>
  (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.GRADLAB_BACKEND;

/**
 * Make `spec` the active backend: 'cpu', 'gpu', 'gpu:<mode>' or 'gpu:<mode>-async', or any name given
 * to registerBackend. Default: the GRADLAB_BACKEND environment variable, else 'cpu'. Imports
 * @gradlab/gpu when the gpu backend is named and not yet registered (or a mode is given). Returns the
 * name of the backend now active.
 */
export async function useBackend(spec: string = environmentBackend() ?? 'cpu'): Promise<string> {
  if (typeof spec !== 'string' || spec.trim() === '') {
    throw new Error(`useBackend: expected a backend such as 'cpu', 'gpu' or 'gpu:webasm', got ${JSON.stringify(spec)}`);
  }
  const [name, mode] = spec.trim().split(':');
  const pkg = BACKEND_PACKAGES[name];
  if (pkg === undefined) {
    if (mode !== undefined) throw new Error(`useBackend('${spec}'): only a backend from a package (${Object.keys(BACKEND_PACKAGES).join(', ')}) takes a mode after ':'`);
    setBackend(name); // throws, naming the registered backends, for an unknown one
    return name;
  }
  if (mode === undefined) {
    try { setBackend(name); return name; } catch { /* not registered yet: its package registers it */ }
  }
  const loaded = await loadBackendPackage(spec, pkg);
  return loaded.applyBackendSpec(spec.trim());
}

/**
 * Import the package `pkg` for the backend choice `spec`. A package that is not installed gives an
 * error naming it and how to install it; one that is installed but fails to load gives its own error.
 */
export async function loadBackendPackage(spec: string, pkg: string, load: Importer = importPackage): Promise<BackendPackage> {
  let module: unknown;
  try {
    module = await load(pkg);
  } catch (error) {
    const { code, message } = (error ?? {}) as { code?: string; message?: string };
    // Node's ES modules say ERR_MODULE_NOT_FOUND, require() MODULE_NOT_FOUND; either may be about a
    // dependency of the package rather than the package, so the message must name the package.
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String(message).includes(`'${pkg}'`)) {
      throw new Error(`useBackend('${spec}'): the ${spec.split(':')[0]} backend is in the package ${pkg}, which is not installed here. ` +
        `Install it beside gradlab (npm install ${pkg}, or pnpm add ${pkg}) and run again.`, { cause: error });
    }
    throw new Error(`useBackend('${spec}'): ${pkg} is installed but did not load: ${String(message ?? error)}`, { cause: error });
  }
  const applyBackendSpec = (module as Partial<BackendPackage> | null)?.applyBackendSpec;
  if (typeof applyBackendSpec !== 'function') {
    throw new Error(`useBackend('${spec}'): ${pkg} loaded but has no applyBackendSpec function (a different version of the package?)`);
  }
  return { applyBackendSpec };
}
