/**
 * The device: one GPU.js instance in one mode, and what we know about it.
 *
 * GPU.js turns one JavaScript kernel function into whatever the machine can run:
 *   headlessgl  GLSL ES 1.0 fragment shaders through headless-gl (Node; needs an X display or Xvfb)
 *   webgl2      GLSL ES 3.0 fragment shaders (a browser)
 *   webgl       GLSL ES 1.0 fragment shaders (an older browser)
 *   webasm      WebAssembly with f32x4 SIMD, on the CPU (anywhere)
 *   cpu         plain JavaScript, on the CPU (anywhere): the reference
 *   webgpu      WGSL compute shaders (a browser with WebGPU); asynchronous only, never auto-selected
 * The GL modes and webgpu keep a kernel's result on the device (a texture, a storage buffer: "texture
 * modes"); webasm and cpu return a Float32Array, so there "device memory" is ordinary memory.
 *
 * Synchronous or asynchronous contract. By default every kernel call computes (or queues on the GPU)
 * and returns its result. With `async: true` (always for webgpu, which has no synchronous readback)
 * GPU.js's `asyncMode` is on: every kernel call returns a Promise, and webasm splits kernels of 4,096
 * outputs or more over a pool of worker threads. Ops still return their tensors at once, holding
 * pending storages (storage.ts); only reading values changes: `await tensor.data()`.
 */
import gpujs from 'gpu.js';
import type { GPU as GPUInstance } from 'gpu.js';

export type GpuMode = 'headlessgl' | 'webgl2' | 'webgl' | 'webasm' | 'cpu' | 'webgpu';
/**
 * Best first: a real GPU beats SIMD on the CPU, which beats plain JavaScript. These are the modes
 * 'auto' chooses from; webgpu is not among them, because it is asynchronous only and so changes how
 * values are read (`await tensor.data()`): a program opts into it by name.
 */
export const MODE_ORDER: readonly GpuMode[] = ['headlessgl', 'webgl2', 'webgl', 'webasm', 'cpu'];
/** Every mode a Device accepts by name. */
export const ALL_MODES: readonly GpuMode[] = [...MODE_ORDER, 'webgpu'];
/** Modes that run only under GPU.js's async contract. */
export const ASYNC_ONLY_MODES: ReadonlySet<GpuMode> = new Set(['webgpu']);
export const TEXTURE_MODES: ReadonlySet<GpuMode> = new Set(['headlessgl', 'webgl2', 'webgl', 'webgpu']);

const { GPU } = gpujs;

/** Whether GPU.js reports `mode` as usable here, and if not, why. */
export function modeSupport(mode: GpuMode): { ok: boolean; reason: string } {
  const flags: Record<GpuMode, [boolean, string]> = {
    headlessgl: [GPU.isHeadlessGLSupported, 'headless-gl found no OpenGL context (is the `gl` package built, and is there a display? run under `xvfb-run -a`)'],
    webgl2: [GPU.isWebGL2Supported, 'no WebGL2 context (not a browser, or WebGL2 disabled)'],
    webgl: [GPU.isWebGLSupported, 'no WebGL context (not a browser, or WebGL disabled)'],
    webasm: [GPU.isWebAssemblySupported, 'WebAssembly is not available'],
    cpu: [true, ''],
    webgpu: [GPU.isWebGPUSupported, 'no WebGPU (`navigator.gpu` is missing: not a browser, or WebGPU disabled)'],
  };
  const [ok, reason] = flags[mode];
  return { ok, reason: ok ? '' : reason };
}

/** The modes usable on this machine, best first. */
export function availableModes(): GpuMode[] {
  return MODE_ORDER.filter((m) => modeSupport(m).ok);
}

export interface DeviceOptions {
  /** A GPU.js mode, or 'auto' (default): the first of MODE_ORDER that works here. */
  mode?: GpuMode | 'auto';
  /**
   * Largest number of elements one texture (one "tile") holds. Tensors with more elements are split
   * over several textures. Default: min(maxTextureSize², 2²²). Tests set it small to exercise tiling.
   */
  tileElements?: number;
  /**
   * Run under GPU.js's asynchronous contract: kernels return Promises, ops return pending tensors,
   * and values are read with `await tensor.data()`. In mode webasm this is what engages its worker
   * threads. Default false, except for webgpu, which is asynchronous only.
   */
  async?: boolean;
  /** webasm with async: the most worker threads per kernel (GPU.js's default: hardwareConcurrency). */
  poolSize?: number;
  /**
   * webgpu: multiply matrices with the hand-written tiled WGSL kernel (kernels/matmul-wgsl.ts) rather
   * than GPU.js's one-thread-per-output kernel (kernels/matmul.ts, the reference). Default true.
   */
  wgslMatmul?: boolean;
  /** Write the "running on mode X" line (default true; it is written once per process). */
  log?: boolean;
}

let announced = false;

/**
 * Why 2²²: positions inside a kernel are computed in float32 arithmetic on the GL backends, which
 * holds integers exactly only up to 2²⁴; keeping one tile well under that leaves room for the
 * rounding of a GPU's approximate division (see docs/gpu.md, "Precision").
 */
const DEFAULT_TILE_LIMIT = 1 << 22;

export class Device {
  readonly mode: GpuMode;
  /** True under GPU.js's async contract: kernel calls return Promises, storages may be pending. */
  readonly async: boolean;
  /** The mode as GRADLAB_BACKEND writes it: 'webasm', 'webasm-async', 'webgpu'. */
  readonly label: string;
  readonly poolSize: number | undefined;
  /** webgpu: matmul through kernels/matmul-wgsl.ts (see DeviceOptions). */
  readonly wgslMatmul: boolean;
  readonly gpu: GPUInstance;
  /** True when results stay in textures (GL modes); false when they are Float32Arrays. */
  readonly textures: boolean;
  readonly maxTextureSize: number;
  /** How many textures one shader may read (GL's MAX_TEXTURE_IMAGE_UNITS); bounds the tiles of a kernel's inputs. */
  readonly maxTextureUnits: number;
  readonly tileElements: number;
  /** Textures this backend created and has not deleted yet: the device-memory leak detector. */
  liveTextures = 0;
  /** GpuStorages made and not disposed yet (in every mode; the webasm and cpu modes have no textures). */
  liveStorages = 0;
  /** Every texture created so far, and every kernel compiled (cache misses). */
  texturesCreated = 0;
  kernelsCompiled = 0;
  /** Milliseconds spent on first calls of new kernels (compile + first run), for the benchmark. */
  compileMs = 0;
  /**
   * Downloads of device values to the host (GpuStorage.read() that was not answered from its cache),
   * and uploads of host values to the device. In the GL modes every readback is a full stop: it waits
   * for the GPU to finish everything queued. Tests count them per training step.
   */
  readbacks = 0;
  uploads = 0;
  /**
   * Kernel runs started (one per output tile; uploads included): on a real GPU each is one dispatch
   * (a draw call or a compute pass), with a fixed cost of several microseconds however small its
   * output. bench/gpu.mjs prints them per training step, to show where fusing would pay.
   */
  dispatches = 0;
  /** Kernel runs not finished yet (async contract only): what settle() waits for. */
  readonly inFlight = new Set<Promise<unknown>>();

  constructor(options: DeviceOptions = {}) {
    const requested = options.mode ?? 'auto';
    let mode: GpuMode;
    if (requested === 'auto') {
      mode = availableModes()[0];
    } else {
      if (!ALL_MODES.includes(requested)) {
        throw new Error(`gpu: unknown mode '${String(requested)}' (modes: ${ALL_MODES.join(', ')}, or 'auto')`);
      }
      const support = modeSupport(requested);
      if (!support.ok) throw new Error(`gpu: mode '${requested}' is not available here: ${support.reason}`);
      mode = requested;
    }
    this.mode = mode;
    if (options.async === false && ASYNC_ONLY_MODES.has(mode)) {
      throw new Error(`gpu: mode '${mode}' has no synchronous contract (WebGPU reads back only asynchronously); leave async unset or true`);
    }
    this.async = options.async ?? ASYNC_ONLY_MODES.has(mode);
    this.label = this.async && !ASYNC_ONLY_MODES.has(mode) ? `${mode}-async` : mode;
    this.poolSize = options.poolSize;
    this.wgslMatmul = options.wgslMatmul ?? true;
    this.gpu = new GPU({ mode });
    this.textures = TEXTURE_MODES.has(mode);
    // webgpu keeps results in storage buffers, not textures: no GL limits to probe (and its kernels
    // cannot run synchronously). A compute shader may bind 8 storage buffers by default, one of
    // them the output: 7 inputs.
    const limits = !this.textures ? { maxTextureSize: Infinity, maxTextureUnits: Infinity }
      : mode === 'webgpu' ? { maxTextureSize: Infinity, maxTextureUnits: 7 } : probeLimits(this.gpu);
    this.maxTextureSize = limits.maxTextureSize;
    this.maxTextureUnits = limits.maxTextureUnits;
    const limit = Math.min(this.maxTextureSize ** 2, DEFAULT_TILE_LIMIT);
    this.tileElements = options.tileElements ?? (this.textures ? limit : 1 << 24);
    if (!(this.tileElements >= 1)) throw new Error(`gpu: tileElements must be a positive integer, got ${this.tileElements}`);
    if ((options.log ?? true) && !announced) {
      announced = true;
      const why = requested === 'auto' ? `auto-selected from ${availableModes().join(', ')}` : 'as requested';
      const contract = this.async ? ', asynchronous contract: read values with `await tensor.data()`' : '';
      console.info(`@gradlab/gpu: kernels run on GPU.js mode '${mode}' (${why}${contract})`);
    }
  }

  /**
   * Resolves when every kernel started so far has finished and every storage disposed meanwhile has
   * been freed (immediately under the synchronous contract). Failures are left to whoever reads the
   * failed tensor.
   */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Free every compiled kernel and the GL context. Tensors on this device are unusable afterwards. */
  destroy(): void {
    void this.gpu.destroy();
  }
}

/** The largest texture side and the texture units of the GL context, found by compiling one tiny kernel. */
function probeLimits(gpu: GPUInstance): { maxTextureSize: number; maxTextureUnits: number } {
  const probe = gpu.createKernel('function() { return 1; }', { output: [1] });
  probe();
  const kernel = (probe as unknown as { kernel: { context: WebGLLike; constructor: { features?: { maxTextureSize?: number } } } }).kernel;
  const maxTextureSize = kernel.constructor.features?.maxTextureSize ?? 4096;
  const MAX_TEXTURE_IMAGE_UNITS = 0x8872;
  const units = Number(kernel.context?.getParameter(MAX_TEXTURE_IMAGE_UNITS));
  probe.destroy();
  // GPU.js keeps a few units for itself (the output, its own helpers): leave it 4. And never more than
  // 15: under headless-gl (Mesa), a kernel with 16 or more texture inputs reads its 16th input wrongly
  // (as zeros) every time it runs after the first, although the context reports 32 units.
  return { maxTextureSize, maxTextureUnits: Number.isFinite(units) && units > 0 ? Math.min(Math.max(units - 4, 1), MAX_INPUT_TEXTURES) : 12 };
}

interface WebGLLike { getParameter(name: number): unknown }

/** The most textures one kernel reads, whatever the context reports (see probeLimits). */
const MAX_INPUT_TEXTURES = 15;
