import type { Tensor } from './tensor.js';
import type { DType, TypedArray } from './dtype.js';
import type { Storage } from './storage.js';
import { envVar } from './env.js';

/** Elementwise maps of one tensor. */
export type UnaryOp = 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'tanh' | 'sigmoid' | 'relu' | 'square' | 'sign'
  | 'reciprocal' | 'floor' | 'ceil' | 'round' | 'sin' | 'cos' | 'softplus' | 'log1p' | 'expm1';
/** Elementwise maps of two broadcast tensors. Comparisons give 0/1 in int32. */
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum'
  | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';
export type ReduceOp = 'sum' | 'mean' | 'max' | 'min' | 'prod';

export const COMPARISONS: ReadonlySet<BinaryOp> = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);

/**
 * Geometry of a 2-D convolution or pooling window on channels-last data, worked out once by the
 * front end (ops/conv.ts) so that every backend receives the same numbers.
 *   out = floor((in + padBefore + padAfter − filter) / stride) + 1
 */
export interface Conv2DInfo {
  batch: number;
  inHeight: number; inWidth: number; inChannels: number;
  outHeight: number; outWidth: number; outChannels: number;
  filterHeight: number; filterWidth: number;
  strideHeight: number; strideWidth: number;
  padTop: number; padLeft: number; padBottom: number; padRight: number;
}

/**
 * Optional fused kernels. A backend may provide them (the gpu backend does); code that has its own
 * loops for the same maths (the fused ops of @gradlab/layers) calls them when `getBackend(x.backend)`
 * has them and keeps its own path otherwise, so the CPU backend needs none of them. Inputs are float32
 * (or int32 labels); shapes are as written. All rows/columns are of a matrix: x [M, C] with C the
 * feature axis.
 */
export interface FusedKernels {
  /**
   * BatchNorm (training mode) over the rows of x [M, C], rows weighted by mask [M] (0/1) or all 1:
   *   mean, variance (biased) per column; invstd = 1/√(variance + ε); x̂ = (x − mean)·invstd; y = γ·x̂ + β.
   */
  batchNormForward?(x: Tensor, gamma: Tensor, beta: Tensor, epsilon: number, mask: Tensor | null):
    { y: Tensor; xHat: Tensor; mean: Tensor; variance: Tensor; invstd: Tensor };
  /** dx = γ·invstd·(dy − m·Σdy/N − m·x̂·Σ(dy·x̂)/N),  dγ = Σ dy·x̂,  dβ = Σ dy  (N = Σ m). */
  batchNormBackward?(dy: Tensor, xHat: Tensor, invstd: Tensor, gamma: Tensor, mask: Tensor | null):
    { dx: Tensor; dGamma: Tensor; dBeta: Tensor };
  /** LayerNorm over the columns of each row of x [M, C]: x̂ = (x − mean_r)·invstd_r, y = γ·x̂ + β; invstd [M]. */
  layerNormForward?(x: Tensor, gamma: Tensor, beta: Tensor, epsilon: number): { y: Tensor; xHat: Tensor; invstd: Tensor };
  /** With g = dy·γ:  dx = invstd_r·(g − mean_c g − x̂·mean_c(g·x̂)),  dγ = Σ_r dy·x̂,  dβ = Σ_r dy. */
  layerNormBackward?(dy: Tensor, xHat: Tensor, invstd: Tensor, gamma: Tensor): { dx: Tensor; dGamma: Tensor; dBeta: Tensor };
  /**
   * Row-wise softmax of logits [N, C] and the cross-entropy against int32 labels [N]:
   *   loss_r = log Σ_k e^{z_rk} − z_{r,label_r}   (stable: shifted by the row max).
   * Its gradient is (softmax − onehot(label))·dloss_r, which the caller forms. A label that is not an
   * integer in [0, C) gives NaN for its row (callers need not read device labels back to check them).
   */
  softmaxCrossEntropy?(logits: Tensor, labels: Tensor): { loss: Tensor; softmax: Tensor };
  /**
   * The LSTM cell's gate arithmetic (gate order i, f, c̃, o): z [B, 4u] pre-activations, cPrev [B, u]:
   *   gates = (σ(z_i), σ(z_f), tanh(z_c), σ(z_o)) [B, 4u],  c = f·cPrev + i·c̃,  tanhC = tanh(c),  h = o·tanhC.
   */
  lstmCellForward?(z: Tensor, cPrev: Tensor): { h: Tensor; c: Tensor; gates: Tensor; tanhC: Tensor };
  /** Backward of lstmCellForward from dh and dc (the gradient reaching c from the next step): dz [B, 4u], dcPrev [B, u]. */
  lstmCellBackward?(dh: Tensor, dc: Tensor, gates: Tensor, tanhC: Tensor, cPrev: Tensor): { dz: Tensor; dcPrev: Tensor };
}

/**
 * Optional kernels for the ops that move values rather than compute with them. The front end
 * (ops/join.ts, ops/indexing.ts) checks the arguments and works out the shapes, then calls these when
 * the input's backend has them and no input is float64; otherwise it builds the result on the CPU and
 * hands it to the input's backend, which is all the CPU backend needs (so it has none of them).
 * A backend that has them checks no index it would have to read back: an index that is not an integer
 * in range gives NaN in a float result (gather, oneHot) or adds nothing (scatterAdd).
 */
export interface MoveKernels {
  /** Join along `axis`; every input has outShape except along the axis; the result is `dtype`. */
  concat?(tensors: readonly Tensor[], axis: number, outShape: number[], dtype: DType): Tensor;
  /** x surrounded by `value`: paddings[k] = [before, after] on axis k. */
  pad?(x: Tensor, paddings: [number, number][], value: number, outShape: number[], dtype: DType): Tensor;
  /** out[i…, j…, k…] = x[i…, indices[j…], k…] along `axis`. */
  gather?(x: Tensor, indices: Tensor, axis: number, outShape: number[]): Tensor;
  /** Zeros of `shape`, then out[i…, indices[j…], k…] += updates[i…, j…, k…] along `axis`. */
  scatterAdd?(shape: number[], indices: Tensor, updates: Tensor, axis: number): Tensor;
  /** out[…, c] = 1 where indices[…] = c, else 0:  shape indices.shape + [depth]. */
  oneHot?(indices: Tensor, depth: number, dtype: DType): Tensor;
}

/**
 * The heavy kernels. The ops in ops/*.ts validate arguments, work out output shapes and then call the
 * active backend, so a new backend (GPU.js) plugs in here without touching anything above.
 * Inputs may be any strided view; outputs are fresh contiguous tensors owned by the backend.
 */
export interface Backend extends FusedKernels, MoveKernels {
  readonly name: string;
  /** Wrap CPU values in this backend's storage (uploading them if the backend is a device). */
  upload(data: TypedArray): Storage;
  /** A contiguous copy of `x` (cast to `dtype` if given). */
  copy(x: Tensor, dtype?: DType): Tensor;
  unary(op: UnaryOp, x: Tensor): Tensor;
  /** `outShape` is the broadcast shape; `dtype` the promoted result dtype. */
  binary(op: BinaryOp, a: Tensor, b: Tensor, outShape: number[], dtype: DType): Tensor;
  /** cond ? a : b, all three broadcast to outShape. */
  where(cond: Tensor, a: Tensor, b: Tensor, outShape: number[], dtype: DType): Tensor;
  /** Reduce over `axes` (sorted, normalised); the result keeps the reduced axes with size 1. */
  reduce(op: ReduceOp, x: Tensor, axes: number[]): Tensor;
  /** Index of the max (or min) along one axis, kept with size 1; int32. */
  argReduce(op: 'argmax' | 'argmin', x: Tensor, axis: number): Tensor;
  /** Population variance (divides by N − correction) over axes, kept with size 1; two passes. */
  variance(x: Tensor, axes: number[], correction: number): Tensor;
  /** a [...batchA, M, K] @ b [...batchB, K, N] with batch dims broadcast: [...batch, M, N]. */
  matmul(a: Tensor, b: Tensor, outShape: number[]): Tensor;
  conv2d(x: Tensor, filter: Tensor, info: Conv2DInfo): Tensor;
  conv2dBackpropInput(dy: Tensor, filter: Tensor, info: Conv2DInfo): Tensor;
  conv2dBackpropFilter(x: Tensor, dy: Tensor, info: Conv2DInfo): Tensor;
  maxPool2d(x: Tensor, info: Conv2DInfo): Tensor;
  maxPool2dBackward(dy: Tensor, x: Tensor, info: Conv2DInfo): Tensor;
  avgPool2d(x: Tensor, info: Conv2DInfo): Tensor;
  avgPool2dBackward(dy: Tensor, info: Conv2DInfo): Tensor;
}

const registry = new Map<string, () => Backend>();
const instances = new Map<string, Backend>();
let active = 'cpu';

/**
 * GRADLAB_BACKEND: 'cpu', or a GPU form ('gpu', 'gpu:<mode>', 'gpu:<mode>-async') that @gradlab/gpu
 * applies when it is imported. Anything else is refused at start-up; a GPU form with no GPU package
 * imported is warned about at the first op, which then runs on the CPU.
 */
const backendRequest = envVar('GRADLAB_BACKEND')?.trim();
if (backendRequest !== undefined && !/^(cpu|gpu(:[a-z0-9-]+)?)$/.test(backendRequest)) {
  throw new Error(`GRADLAB_BACKEND=${JSON.stringify(backendRequest)} is not a backend gradlab knows; use one of: cpu, gpu, ` +
    'gpu:<mode>, gpu:<mode>-async (the gpu forms need @gradlab/gpu imported), or leave it unset');
}
let gpuRequestUnchecked = backendRequest?.startsWith('gpu') ?? false;

function checkGpuRequest(): void {
  gpuRequestUnchecked = false;
  if (!registry.has('gpu')) {
    console.warn(`GRADLAB_BACKEND=${backendRequest} asks for the GPU, but @gradlab/gpu is not imported, so ops run on the cpu; ` +
      "import '@gradlab/gpu' to use it");
  }
}

/** Make a backend available under `name`; it is created the first time it is used. */
export function registerBackend(name: string, factory: () => Backend): void {
  registry.set(name, factory);
  instances.delete(name);
}

/** Switch every later op to the backend registered as `name`. */
export function setBackend(name: string): void {
  if (!registry.has(name)) {
    throw new Error(`setBackend: no backend named '${name}' (registered: ${[...registry.keys()].join(', ')})`);
  }
  active = name;
}

/** The backend ops run on now, or the one registered under `name`. */
export function getBackend(name: string = active): Backend {
  if (gpuRequestUnchecked) checkGpuRequest();
  let backend = instances.get(name);
  if (!backend) {
    const factory = registry.get(name);
    if (!factory) throw new Error(`getBackend: no backend named '${name}'`);
    backend = factory();
    instances.set(name, backend);
  }
  return backend;
}

export function backendName(): string { return active; }

/**
 * True when `x` lives on a device backend (any but 'cpu') in float32. Code with its own typed-array
 * loops (the fused ops of @gradlab/layers) uses backend ops or fused kernels for such tensors instead,
 * since reading them into a loop would download them and uploading the result would copy it back.
 * float64 stays on the loops: a device computes in float32.
 */
export function isOnDevice(x: Tensor): boolean {
  return x.storage.backend !== 'cpu' && x.dtype === 'float32';
}

/**
 * The backend holding `x` when it offers the optional fused kernel `name`, `x` is float32 on a device
 * (isOnDevice) and none of the `other` inputs is float64 (the fused kernels take float32, and int32
 * labels); otherwise null, and the caller runs its own loops. On the CPU this is one string
 * comparison, so the CPU path costs nothing extra.
 */
export function fusedKernelFor<K extends keyof FusedKernels>(name: K, x: Tensor, ...other: (Tensor | null)[]):
  (Backend & Required<Pick<FusedKernels, K>>) | null {
  if (!isOnDevice(x) || other.some((t) => t !== null && t.dtype === 'float64')) return null;
  const backend = getBackend(x.backend);
  return backend[name] ? (backend as Backend & Required<Pick<FusedKernels, K>>) : null;
}
