// STUB: the reductions helper replaces this file.
import type { Tensor } from '../tensor.js';
type Axes = number | readonly number[] | undefined;
const todo = (op: string): never => { throw new Error(`${op}: not implemented yet`); };
export function sum(x: Tensor, axes?: Axes, keepDims = false): Tensor { return todo('sum'); }
export function mean(x: Tensor, axes?: Axes, keepDims = false): Tensor { return todo('mean'); }
export function max(x: Tensor, axes?: Axes, keepDims = false): Tensor { return todo('max'); }
export function min(x: Tensor, axes?: Axes, keepDims = false): Tensor { return todo('min'); }
export function prod(x: Tensor, axes?: Axes, keepDims = false): Tensor { return todo('prod'); }
export function argmax(x: Tensor, axis?: number, keepDims = false): Tensor { return todo('argmax'); }
export function argmin(x: Tensor, axis?: number, keepDims = false): Tensor { return todo('argmin'); }
export function variance(x: Tensor, axes?: Axes, keepDims = false, correction = 0): Tensor { return todo('variance'); }
