import type { Tensor } from './tensor.js';
import type { DType, TypedArray } from './dtype.js';
import type { Storage } from './storage.js';
import { envVar } from './env.js';

/** Elementwise maps of one tensor. */
export type UnaryOp = 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'tanh' | 'sigmoid' | 'relu' | 'square' | 'sign'
  | 'reciprocal' | 'floor' | 'ceil' | 'round' | 'sin' | 'cos' | 'softplus' | 'log1p' | 'expm1';
/**
 * Elementwise maps of two broadcast tensors. Comparisons give 0/1 in int32. reluGrad(dy, x) is relu's
 * backward, dy where x > 0 and 0 elsewhere: one pass where dy·(x > 0) would take two and a 0/1 array.
 */
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum'
  | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'reluGrad';
export type ReduceOp = 'sum' | 'mean' | 'max' | 'min' | 'prod';

export const COMPARISONS: ReadonlySet<BinaryOp> = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);

/** What a convolution may do to its output before returning it: add a bias [F], then a ReLU. */
export interface ConvEpilogue {
  bias: Tensor | null;
  relu: boolean;
  /**
   * After the activation, y·scale + shift per filter ([F] each): a BatchNormalization at inference,
   * folded (Conv2D then BatchNormalization in a model's predict). Multiplied, rounded, then added, as
   * the mulAdd kernel does, so the fused result is the unfused one bit for bit.
   */
  affine?: { scale: Tensor; shift: Tensor } | null;
}

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
 * The fused kernels: each a formula that a model runs often enough to deserve one kernel rather than
 * a chain of elementwise ops (fewer passes over memory, no full-size temporaries). Every backend has
 * all of them. Each formula also exists once as a readable composite of primitives (the teaching
 * reference, in @gradlab/autograd's ops/ or @gradlab/layers); tests hold every backend's kernel
 * against it and against gradcheck. The front ends (ops/normalization.ts, ops/losses.ts,
 * ops/recurrent.ts, ops/optimizers.ts) check shapes and dtypes before a kernel is called, so the
 * kernels check nothing. x is read as a matrix [M, C], C = the last (feature) axis.
 */
export interface NormalizationKernels {
  /**
   * BatchNorm (training mode) over the rows of x [M, C], rows weighted by mask [M] (0/1) or all 1:
   *   mean, variance (biased) per column; invstd = 1/√(variance + ε); x̂ = (x − mean)·invstd; y = γ·x̂ + β.
   */
  batchNormForward(x: Tensor, gamma: Tensor, beta: Tensor, epsilon: number, mask: Tensor | null):
    { y: Tensor; xHat: Tensor; mean: Tensor; variance: Tensor; invstd: Tensor };
  /** dx = γ·invstd·(dy − m·Σdy/N − m·x̂·Σ(dy·x̂)/N),  dγ = Σ dy·x̂,  dβ = Σ dy  (N = Σ m). */
  batchNormBackward(dy: Tensor, xHat: Tensor, invstd: Tensor, gamma: Tensor, mask: Tensor | null):
    { dx: Tensor; dGamma: Tensor; dBeta: Tensor };
  /**
   * GroupNorm of x [B, …, C] viewed as [B, S, G, K] (K = C/G): statistics per (b, g) over s and k;
   * x̂ = (x − μ_bg)·invstd_bg, y = γ_c·x̂ + β_c; invstd [B, G]. LayerNorm is this kernel on x as
   * [M, C] with one group (statistics per row).
   */
  groupNormForward(x: Tensor, gamma: Tensor, beta: Tensor, groups: number, epsilon: number):
    { y: Tensor; xHat: Tensor; invstd: Tensor };
  /** With h = γ_c·dy:  dx = invstd·(h − mean_group h − x̂·mean_group(h·x̂)),  dγ = Σ_{b,s} dy·x̂,  dβ = Σ_{b,s} dy. */
  groupNormBackward(dy: Tensor, xHat: Tensor, invstd: Tensor, gamma: Tensor, groups: number):
    { dx: Tensor; dGamma: Tensor; dBeta: Tensor };
}

export interface LossKernels {
  /**
   * Row-wise softmax of logits [N, C] and the cross-entropy against int32 labels [N]:
   *   loss_r = log Σ_k e^{z_rk} − z_{r,label_r}   (stable: shifted by the row max).
   * Its gradient is (softmax − onehot(label))·dloss_r, which the caller forms. A label outside [0, C):
   * a backend that reads labels on the host (the CPU) throws naming it; a device gives NaN for its row
   * rather than reading labels back (models check labels on the host where a batch enters fit).
   */
  softmaxCrossEntropy(logits: Tensor, labels: Tensor): { loss: Tensor; softmax: Tensor };
  /**
   * Elementwise sigmoid cross-entropy of logits z against targets t (same shape):
   *   loss = max(z, 0) − z·t + log(1 + e^{−|z|})     (stable for any |z|)
   * and σ(z), from which the caller forms the gradient (σ(z) − t)·dloss.
   */
  sigmoidCrossEntropy(logits: Tensor, targets: Tensor): { loss: Tensor; sigmoid: Tensor };
}

/**
 * The activation of the LSTM's gates i, f and o (Keras's and TF.js's `recurrentActivation`):
 *   'sigmoid'      σ(z) = 1 / (1 + e^(−z))             (Keras's default)
 *   'hardSigmoid'  clip(0.2·z + 0.5, 0, 1)              (TF.js's default; its slope is 0.2 inside (0, 1), 0 outside)
 */
export type RecurrentActivation = 'sigmoid' | 'hardSigmoid';

/** How the LSTM sequence kernels read and write a sequence (see ops/recurrent.ts). */
export interface LstmSequenceOptions {
  /** [B, T], 1 for real steps and 0 for padding; null: every step is real. */
  mask: Tensor | null;
  /** Read the sequence from its last step to its first. */
  goBackwards: boolean;
  /** One output row per step (else only the last output). */
  returnSequences: boolean;
  /** Append the final h and c as two more rows. */
  returnState: boolean;
  /** With goBackwards and returnSequences: the output computed at time t goes to row t (Bidirectional). */
  timeAligned: boolean;
  /** Keras's zero_output_for_mask: a padded step outputs zeros instead of repeating the previous output. */
  zeroOutputForMask: boolean;
  /** The gates' activation; 'sigmoid' when absent. */
  recurrentActivation?: RecurrentActivation;
}

/** What an LSTM sequence's backward needs from its forward, time-major: gates [T, B, 4u], the rest [T, B, u]. */
export interface LstmSequenceSaved { gates: Tensor; hPrev: Tensor; cPrev: Tensor; tanhC: Tensor }

export interface RecurrentKernels {
  /**
   * The LSTM cell's gate arithmetic (gate order i, f, c̃, o): z [B, 4u] pre-activations, cPrev [B, u]:
   *   gates = (σ(z_i), σ(z_f), tanh(z_c), σ(z_o)) [B, 4u],  c = f·cPrev + i·c̃,  tanhC = tanh(c),  h = o·tanhC,
   * σ being the `activation` (RecurrentActivation).
   */
  lstmCellForward(z: Tensor, cPrev: Tensor, activation: RecurrentActivation): { h: Tensor; c: Tensor; gates: Tensor; tanhC: Tensor };
  /**
   * Backward of lstmCellForward from dh and dc (the gradient reaching c from the next step):
   *   dc_t = dc + dh·o·(1 − tanh²c);  dz = (dc_t·c̃·σ′_i, dc_t·cPrev·σ′_f, dc_t·i·(1−c̃²), dh·tanh c·σ′_o);
   *   dcPrev = dc_t·f,  where σ′ from the gate's value s is s(1−s) for the sigmoid, 0.2 (0 < s < 1) or 0 for hardSigmoid.
   */
  lstmCellBackward(dh: Tensor, dc: Tensor, gates: Tensor, tanhC: Tensor, cPrev: Tensor, activation: RecurrentActivation): { dz: Tensor; dcPrev: Tensor };
  /**
   * The whole recurrence over xw = x·W [B, T, 4u] with recurrent kernel U [u, 4u] and bias [4u]:
   * per step z = xw_t + b + h·U, then the cell. The output [B, R, u] holds the outputs (all T steps, or
   * the last) and, with returnState, h_T and c_T as two more rows.
   */
  lstmSequenceForward(xw: Tensor, U: Tensor, bias: Tensor, options: LstmSequenceOptions): { output: Tensor; saved: LstmSequenceSaved };
  /** Backpropagation through time from dy [B, R, u]: dxw = dz [B, T, 4u], dU = Σ_t h_prevᵀ·dz_t, dbias = Σ dz. */
  lstmSequenceBackward(dy: Tensor, saved: LstmSequenceSaved, U: Tensor, options: LstmSequenceOptions):
    { dxw: Tensor; dU: Tensor; dBias: Tensor };
}

/** Hyperparameters of one optimizer step; formulas in ops/optimizers.ts. */
export interface SgdHyper { lr: number; momentum: number; nesterov: boolean }
export interface AdamHyper { lr: number; beta1: number; beta2: number; epsilon: number; /** the step count t, from 1 */ step: number }
export interface RmspropHyper { lr: number; rho: number; momentum: number; epsilon: number }

/**
 * One update of a parameter w from its gradient g, with the optimizer's state tensors (of w's shape).
 * Each returns the new w and the new state; the inputs are not changed (tensors are values). A state
 * tensor given as null is a slot the rule does not use: SGD's velocity without momentum, RMSprop's a
 * when not centered and b without momentum.
 */
export interface OptimizerKernels {
  sgdUpdate(w: Tensor, g: Tensor, velocity: Tensor | null, hyper: SgdHyper): { w: Tensor; velocity: Tensor | null };
  adamUpdate(w: Tensor, g: Tensor, m: Tensor, v: Tensor, hyper: AdamHyper): { w: Tensor; m: Tensor; v: Tensor };
  rmspropUpdate(w: Tensor, g: Tensor, s: Tensor, a: Tensor | null, b: Tensor | null, hyper: RmspropHyper):
    { w: Tensor; s: Tensor; a: Tensor | null; b: Tensor | null };
}

/** Every fused kernel family together. */
export interface FusedKernels extends NormalizationKernels, LossKernels, RecurrentKernels, OptimizerKernels {}

/**
 * Optional kernels for the indexing ops, which move values rather than compute with them. The front end
 * (ops/join.ts, ops/indexing.ts) checks the arguments and works out the shapes, then calls these when
 * the input's backend has them and no input is float64; otherwise it builds the result on the CPU and
 * hands it to the input's backend, which is all the CPU backend needs (so it has none of them).
 * A backend that has them checks no index it would have to read back: an index that is not an integer
 * in range gives NaN in a float result (gather, oneHot) or adds nothing (scatterAdd).
 */
export interface IndexingKernels {
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
export interface Backend extends FusedKernels, IndexingKernels {
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
  /**
   * x·scale + shift, all three broadcast to outShape, the product rounded to dtype before the sum (so
   * that it equals x.mul(scale).add(shift) exactly): an affine map per feature in one pass, as
   * BatchNormalization at inference is. The composite reference is ops/elementwise.ts's mulAddComposite.
   */
  mulAdd(x: Tensor, scale: Tensor, shift: Tensor, outShape: number[], dtype: DType): Tensor;
  /** Reduce over `axes` (sorted, normalised); the result keeps the reduced axes with size 1. */
  reduce(op: ReduceOp, x: Tensor, axes: number[]): Tensor;
  /** Index of the max (or min) along one axis, kept with size 1; int32. */
  argReduce(op: 'argmax' | 'argmin', x: Tensor, axis: number): Tensor;
  /** Population variance (divides by N − correction) over axes, kept with size 1; two passes. */
  variance(x: Tensor, axes: number[], correction: number): Tensor;
  /** a [...batchA, M, K] @ b [...batchB, K, N] with batch dims broadcast: [...batch, M, N]. */
  matmul(a: Tensor, b: Tensor, outShape: number[]): Tensor;
  /**
   * conv2d; with an epilogue, act(conv2d + bias) in the same kernel (Conv2D's common case: no separate
   * pass, and no array, for the bias and the ReLU). The composite reference is ops/conv.ts's
   * conv2dEpilogueComposite, which a backend may also call to do it in steps.
   */
  conv2d(x: Tensor, filter: Tensor, info: Conv2DInfo, epilogue?: ConvEpilogue): Tensor;
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
