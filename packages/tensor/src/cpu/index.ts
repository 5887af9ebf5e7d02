/** The CPU backend: typed arrays (viewed through ndarray) and plain loops. */
import type { Backend } from '../backend.js';
import { CpuStorage } from '../storage.js';
import * as elementwise from './elementwise.js';

const notYet = (op: string) => (): never => { throw new Error(`cpu: ${op} not implemented yet`); };

export function createCpuBackend(): Backend {
  return {
    name: 'cpu',
    upload: (data) => new CpuStorage(data),
    copy: elementwise.copy,
    unary: elementwise.unary,
    binary: elementwise.binary,
    where: elementwise.where,
    reduce: notYet('reduce'),
    argReduce: notYet('argReduce'),
    variance: notYet('variance'),
    matmul: notYet('matmul'),
    conv2d: notYet('conv2d'),
    conv2dBackpropInput: notYet('conv2dBackpropInput'),
    conv2dBackpropFilter: notYet('conv2dBackpropFilter'),
    maxPool2d: notYet('maxPool2d'),
    maxPool2dBackward: notYet('maxPool2dBackward'),
    avgPool2d: notYet('avgPool2d'),
    avgPool2dBackward: notYet('avgPool2dBackward'),
  };
}
