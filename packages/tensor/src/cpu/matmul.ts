// STUB: the kernels helper replaces this file.
import type { Backend } from '../backend.js';
export const matmul: Backend['matmul'] = () => { throw new Error('cpu: matmul not implemented yet'); };
