/**
 * WebGPU in Node: GPU.js's webgpu mode looks for `navigator.gpu`, which only browsers have. The npm
 * package `webgpu` (Dawn, Chrome's WebGPU implementation, built as a Node addon; gpu.js depends on it)
 * provides the same API. `installNodeWebGPU()` loads it and puts its `navigator.gpu` and WebGPU classes
 * on globalThis, so that `useGpu({ mode: 'webgpu' })` then runs gradlab's kernels as WGSL compute
 * shaders on the machine's GPU (through Vulkan on Linux).
 *
 * It says why when it cannot: the addon is built for one glibc/libstdc++ and refuses older ones
 * (Debian 12's libstdc++ lacks GLIBCXX_3.4.32; Ubuntu 24.04's has it), and a machine without a GPU or
 * Vulkan driver gives no adapter.
 */

import { gpuModuleUrl } from './module-url.js';

export type NodeWebGPUResult =
  | { ok: true; adapter: Record<string, unknown> }
  | { ok: false; reason: string };

type Dawn = { create(flags: string[]): { requestAdapter(options?: object): Promise<{ info?: Record<string, unknown> } | null> }; globals: object };

/** Node's built-in modules at run time (this package also loads in browsers, where there are none). */
function nodeModules() {
  const proc = (globalThis as { process?: NodeJS.Process }).process;
  if (typeof proc?.getBuiltinModule !== 'function') return undefined;
  return { module: proc.getBuiltinModule('node:module'), url: proc.getBuiltinModule('node:url') };
}

/**
 * Make WebGPU available to GPU.js in Node, from the `webgpu` package that gpu.js depends on. Resolves to
 * `{ ok: true, adapter }` when an adapter answers, else `{ ok: false, reason }`; never throws. In a
 * browser, or where `navigator.gpu` already exists, it only asks for the adapter.
 */
export async function installNodeWebGPU(): Promise<NodeWebGPUResult> {
  const g = globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<{ info?: Record<string, unknown> } | null> } }; GPUDevice?: { prototype: object } };
  if (!g.navigator?.gpu) {
    const node = nodeModules();
    if (!node) return { ok: false, reason: 'no navigator.gpu, and not in Node (where the webgpu package could provide it)' };
    let dawn: Dawn;
    try {
      // gpu.js is this package's dependency and webgpu is gpu.js's: resolve webgpu from gpu.js's
      // folder (pnpm links each package's dependencies beside it, not at the top).
      const fromHere = node.module.createRequire(gpuModuleUrl);
      const fromGpuJs = node.module.createRequire(fromHere.resolve('gpu.js'));
      dawn = (await import(node.url.pathToFileURL(fromGpuJs.resolve('webgpu')).href)) as Dawn;
    } catch (error) {
      return { ok: false, reason: `the webgpu package (Dawn) does not load: ${String((error as Error).message).split('\n')[0]}` };
    }
    Object.assign(globalThis, dawn.globals);
    // GPU.js assigns a plain function to device.onuncapturederror, which Dawn's binding rejects: keep
    // the handler as a property instead (Dawn still logs uncaptured errors itself).
    const proto = g.GPUDevice?.prototype;
    if (proto) {
      Object.defineProperty(proto, 'onuncapturederror', {
        configurable: true,
        set(this: { __onError?: unknown }, fn: unknown) { this.__onError = fn; },
        get(this: { __onError?: unknown }) { return this.__onError ?? null; },
      });
    }
    Object.defineProperty(globalThis, 'navigator', { value: { ...(g.navigator ?? {}), gpu: dawn.create([]) }, configurable: true });
  }
  const adapter = await g.navigator!.gpu!.requestAdapter();
  if (!adapter) return { ok: false, reason: 'navigator.gpu.requestAdapter() gave no adapter (no GPU, or no Vulkan driver for it)' };
  return { ok: true, adapter: { ...(adapter.info ?? {}) } };
}
