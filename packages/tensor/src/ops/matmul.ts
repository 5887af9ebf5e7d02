// STUB: the kernels helper replaces this file.
import type { Tensor } from '../tensor.js';
export function matmul(a: Tensor, b: Tensor): Tensor { throw new Error('matmul: not implemented yet'); }
