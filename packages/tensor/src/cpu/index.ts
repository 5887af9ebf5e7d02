/**
 * The CPU backend: typed arrays (viewed through ndarray where a strided walk is needed) and plain
 * loops. One file per kernel family; this file only puts them together.
 */
import type { Backend } from '../backend.js';
import { CpuStorage } from '../storage.js';
import { copy, unary, binary, where, mulAdd } from './elementwise.js';
import { reduce, argReduce, variance } from './reduce.js';
import { matmul } from './matmul.js';
import { conv2d, conv2dBackpropInput, conv2dBackpropFilter } from './conv.js';
import { maxPool2d, maxPool2dBackward, avgPool2d, avgPool2dBackward } from './pool.js';
import { batchNormForward, batchNormBackward, groupNormForward, groupNormBackward } from './normalization.js';
import { softmaxCrossEntropy, sigmoidCrossEntropy } from './losses.js';
import { lstmCellForward, lstmCellBackward, lstmSequenceForward, lstmSequenceBackward } from './recurrent.js';
import { sgdUpdate, adamUpdate, rmspropUpdate } from './optimizers.js';

export function createCpuBackend(): Backend {
  return {
    name: 'cpu',
    upload: (data) => new CpuStorage(data),
    copy, unary, binary, where, mulAdd,
    reduce, argReduce, variance,
    matmul,
    conv2d, conv2dBackpropInput, conv2dBackpropFilter,
    maxPool2d, maxPool2dBackward, avgPool2d, avgPool2dBackward,
    batchNormForward, batchNormBackward, groupNormForward, groupNormBackward,
    softmaxCrossEntropy, sigmoidCrossEntropy,
    lstmCellForward, lstmCellBackward, lstmSequenceForward, lstmSequenceBackward,
    sgdUpdate, adamUpdate, rmspropUpdate,
  };
}
