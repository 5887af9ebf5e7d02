/**
 * Matrix multiply on the device:  C[…, i, j] = Σ_k A[…, i, k] · B[…, k, j].
 *
 * One thread per element of C, each a dot product of a row of A and a column of B. On a GPU the
 * threads of a draw call run side by side and neighbouring threads read neighbouring columns of B,
 * which the texture cache serves together; the CPU's packing and register tiles (cpu/gemm-js.ts)
 * have no equivalent to write here — the shader compiler and the hardware schedule the work.
 *
 * On webgpu a hand-written WGSL kernel with shared-memory blocks (matmul-wgsl.ts) takes over: GPU.js's
 * kernel language cannot express those. This kernel stays the reference, and the path of every other mode.
 *
 * A and B are read through their strides, so the transposed views of a backward pass
 * (dA = dC·Bᵀ, dB = Aᵀ·dC) cost no copy, and broadcast batch axes have stride 0.
 */
import { broadcastStrides } from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import { launch, storageOf } from '../context.js';
import type { GpuContext } from '../context.js';
import { unravel } from '../codegen.js';
import { matmulWgsl, wgslMatmulApplies } from './matmul-wgsl.js';

/** How many k steps one loop iteration does: fewer loop branches, four independent products. */
const UNROLL = 4;

export function matmul(ctx: GpuContext, a: Tensor, b: Tensor, outShape: number[]): Tensor {
  if (wgslMatmulApplies(ctx, a, b, outShape)) return matmulWgsl(ctx, a, b, outShape);
  const rank = outShape.length;
  const [M, N] = [outShape[rank - 2], outShape[rank - 1]];
  const K = a.shape[a.rank - 1];
  const batchShape = outShape.slice(0, -2);
  const aBatch = broadcastStrides(a.shape.slice(0, -2), a.strides.slice(0, -2), batchShape);
  const bBatch = broadcastStrides(b.shape.slice(0, -2), b.strides.slice(0, -2), batchShape);
  const [aRow, aCol] = [a.strides[a.rank - 2], a.strides[a.rank - 1]];
  const [bRow, bCol] = [b.strides[b.rank - 2], b.strides[b.rank - 1]];
  // Where row i of A and column j of B start: the batch index picks the matrices, then i and j.
  const startA = ['aOffset', ...aBatch.map((s, d) => (s === 0 ? '' : `m${d} * ${s}`)), `m${rank - 2} * ${aRow}`].filter(Boolean).join(' + ');
  const startB = ['bOffset', ...bBatch.map((s, d) => (s === 0 ? '' : `m${d} * ${s}`)), `m${rank - 1} * ${bCol}`].filter(Boolean).join(' + ');
  const main = K - (K % UNROLL);
  const step = (k: string, read: (n: string, p: string) => string) =>
    `${read('a', `pa + (${k}) * ${aCol}`)} * ${read('b', `pb + (${k}) * ${bRow}`)}`;
  const body = (read: (n: string, p: string) => string) => [
    unravel('o', outShape, 'm'),
    `  const pa = ${startA};`,
    `  const pb = ${startB};`,
    '  let sum = 0.0;',
    `  for (let k = 0; k < ${main}; k += ${UNROLL}) {`,
    `    sum += ${Array.from({ length: UNROLL }, (_, u) => step(`k + ${u}`, read)).join(' + ')};`,
    '  }',
    ...Array.from({ length: K - main }, (_, u) => `  sum += ${step(`${main + u}`, read)};`),
    '  return sum;',
  ].join('\n');
  return launch(ctx, a.dtype, outShape, {
    op: 'matmul',
    key: `[${outShape.join(',')}]|K${K}|a${aBatch.join(',')};${aRow},${aCol}|b${bBatch.join(',')};${bRow},${bCol}`,
    inputs: { a: storageOf(a), b: storageOf(b) },
    uniforms: { aOffset: a.offset, bOffset: b.offset },
    body,
  });
}

