/**
 * @gradlab/tensor: n-d arrays for gradlab. Storage and strides (shape.ts, storage.ts), the Tensor
 * class and its views (tensor.ts, views.ts), creation and seeded randomness (creation.ts, random.ts),
 * the op families (ops/*.ts) and the Backend registry whose CPU backend lives in cpu/.
 */
import { registerBackend } from './backend.js';
import { createCpuBackend } from './cpu/index.js';

registerBackend('cpu', createCpuBackend);

export { Tensor } from './tensor.js';
export type { TensorLike } from './tensor.js';
export type { DType, TypedArray } from './dtype.js';
export { allocate, bytesPerElement, withAllocationBudget, dtypeOf, promoteTypes, isFloat, isDType } from './dtype.js';
export * from './shape.js';
export type { Storage } from './storage.js';
export { CpuStorage } from './storage.js';
export { recycleAfter, setBufferRecycling, bufferRecycling, recycledBuffers } from './recycling.js';
export * from './backend.js';
export { Random, globalRandom, setSeed } from './random.js';
export * from './creation.js';
export type { SliceSpec } from './views.js';
export { reshape, transpose, slice, squeeze, unsqueeze, broadcastTo } from './views.js';
export * from './ops/elementwise.js';
export * from './ops/reduce.js';
export * from './ops/matmul.js';
export * from './ops/conv.js';
export * from './ops/pool.js';
export * from './ops/join.js';
export * from './ops/indexing.js';
export { setNumThreads, numThreads, shutdownThreads, startThreads, setParallelMinWork, parallelMinWork } from './cpu/threads.js';
export { setConvPartsPolicy } from './cpu/conv-threads.js';
export { setConvAlgorithm, convAlgorithm } from './cpu/conv-direct.js';
export type { ConvPartsPolicy } from './cpu/conv-threads.js';
export { setGemmKernel, gemmKernel } from './cpu/gemm.js';
export * from './ops/normalization.js';
export * from './ops/losses.js';
export * from './ops/recurrent.js';
export * from './ops/optimizers.js';
