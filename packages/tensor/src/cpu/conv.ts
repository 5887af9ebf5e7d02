// STUB: the kernels helper replaces this file.
import type { Backend } from '../backend.js';
const todo = (op: string): never => { throw new Error(`cpu: ${op} not implemented yet`); };
export const conv2d: Backend['conv2d'] = () => todo('conv2d');
export const conv2dBackpropInput: Backend['conv2dBackpropInput'] = () => todo('conv2dBackpropInput');
export const conv2dBackpropFilter: Backend['conv2dBackpropFilter'] = () => todo('conv2dBackpropFilter');
