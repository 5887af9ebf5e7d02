// STUB: the kernels helper replaces this file.
import type { Backend } from '../backend.js';
const todo = (op: string): never => { throw new Error(`cpu: ${op} not implemented yet`); };
export const maxPool2d: Backend['maxPool2d'] = () => todo('maxPool2d');
export const maxPool2dBackward: Backend['maxPool2dBackward'] = () => todo('maxPool2dBackward');
export const avgPool2d: Backend['avgPool2d'] = () => todo('avgPool2d');
export const avgPool2dBackward: Backend['avgPool2dBackward'] = () => todo('avgPool2dBackward');
