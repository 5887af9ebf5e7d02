/**
 * @gradlab/gpu: gradlab's second backend. The heavy ops run as GPU.js kernels — WebGL/WebGL2
 * shaders in a browser, headless-gl in Node, WebAssembly SIMD or plain JavaScript on any CPU —
 * behind the same Backend interface as the CPU kernels, so model code does not change:
 *
 *   import { setBackend } from 'gradlab';
 *   setBackend('gpu');                           // the best mode available here (logged once)
 *   registerGpuBackend({ mode: 'webasm' });      // or a mode of your choice
 *   GRADLAB_BACKEND=gpu:headlessgl node train.js // or from the environment
 *   useGpu({ mode: 'webasm', async: true });     // GPU.js's async contract (webasm's worker threads);
 *   GRADLAB_BACKEND=gpu:webasm-async              // values are then read with `await tensor.data()`
 *
 * Importing this package registers the backend under the name 'gpu' (the mode is chosen when it is
 * first used) and applies GRADLAB_BACKEND if it is set.
 */
import { registerBackend, setBackend } from '@gradlab/tensor';
import { ALL_MODES, Device } from './device.js';
import type { DeviceOptions, GpuMode } from './device.js';
import { createGpuBackend } from './backend.js';

export { Device, MODE_ORDER, ALL_MODES, ASYNC_ONLY_MODES, TEXTURE_MODES, availableModes, modeSupport } from './device.js';
export type { DeviceOptions, GpuMode } from './device.js';
export { GpuStorage } from './storage.js';
export { createGpuBackend } from './backend.js';
export type { GpuBackend } from './backend.js';
export { tidy, keep } from './tidy.js';
export { cachedKernelCount } from './program.js';
export { installNodeWebGPU } from './node-webgpu.js';
export type { NodeWebGPUResult } from './node-webgpu.js';

let current: Device | null = null;

/**
 * (Re)register the backend named `name` (default 'gpu') on a device with these options. The device
 * is created when the backend is first used, so registering costs nothing.
 */
export function registerGpuBackend(options: DeviceOptions = {}, name = 'gpu'): void {
  registerBackend(name, () => {
    current = new Device(options);
    return createGpuBackend(current, name);
  });
}

/** Register the gpu backend with these options and make it the active one. */
export function useGpu(options: DeviceOptions = {}): void {
  registerGpuBackend(options);
  setBackend('gpu');
}

/** The device behind the 'gpu' backend, once it has been used (null before). */
export function gpuDevice(): Device | null {
  return current;
}

/**
 * Apply a backend choice written as `cpu`, `gpu`, `gpu:<mode>` or `gpu:<mode>-async` (the
 * GRADLAB_BACKEND syntax; `-async` selects GPU.js's asynchronous contract, and `gpu:webgpu` implies
 * it). Returns the backend name now active.
 */
export function applyBackendSpec(spec: string): string {
  const [name, modeSpec] = spec.trim().split(':');
  if (name === 'gpu') {
    const async = modeSpec?.endsWith('-async') ?? false;
    const mode = async ? modeSpec!.slice(0, -'-async'.length) : modeSpec;
    if (mode !== undefined && mode !== 'auto' && !ALL_MODES.includes(mode as GpuMode)) {
      throw new Error(`GRADLAB_BACKEND: unknown gpu mode '${modeSpec}' (modes: ${ALL_MODES.join(', ')}, auto; ` +
        `add -async for the asynchronous contract, e.g. gpu:webasm-async)`);
    }
    useGpu({ mode: (mode ?? 'auto') as GpuMode | 'auto', ...(async ? { async: true } : {}) });
    return 'gpu';
  }
  setBackend(name);
  return name;
}

registerGpuBackend();

const env = typeof process !== 'undefined' ? process.env?.GRADLAB_BACKEND : undefined;
if (env) applyBackendSpec(env);
