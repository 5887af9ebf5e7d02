import type { Tensor } from './tensor.js';
import type { DType, TypedArray } from './dtype.js';
import type { Storage } from './storage.js';

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
 * The heavy kernels. The ops in ops/*.ts validate arguments, work out output shapes and then call the
 * active backend, so a new backend (GPU.js) plugs in here without touching anything above.
 * Inputs may be any strided view; outputs are fresh contiguous tensors owned by the backend.
 */
export interface Backend {
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
export function listBackends(): string[] { return [...registry.keys()]; }
