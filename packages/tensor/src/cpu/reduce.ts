// STUB: the reductions helper replaces this file.
import type { Backend } from '../backend.js';
const todo = (op: string): never => { throw new Error(`cpu: ${op} not implemented yet`); };
export const reduce: Backend['reduce'] = () => todo('reduce');
export const argReduce: Backend['argReduce'] = () => todo('argReduce');
export const variance: Backend['variance'] = () => todo('variance');
