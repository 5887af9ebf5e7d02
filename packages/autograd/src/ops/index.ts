/**
 * The differentiable ops as free functions. The package exports them as the namespace `F` (like
 * torch.nn.functional): `F.add(a, b)`, `F.conv2d(x, w, opts)`, `F.softmax(x, -1)`. (The tensor
 * package already exports `add`, `matmul`, … on Tensors; a namespace keeps the two apart.)
 */
export type { Operand } from './operand.js';
export { add, sub, mul, div, pow, maximum, minimum, mulAdd, sumToShape } from './binary.js';
export { neg, exp, log, sqrt, abs, tanh, sigmoid, relu, square, softplus, clip } from './unary.js';
export type { Axes } from './reduce.js';
export { sum, mean, max, min, variance, logSumExp } from './reduce.js';
export { reshape, flatten, squeeze, unsqueeze, transpose, T, broadcastTo, slice } from './views.js';
export { matmul } from './matmul.js';
export { concat, stack, split, pad } from './join.js';
export { gather, indexSelect, where } from './indexing.js';
export { softmax, logSoftmax } from './softmax.js';
export { conv2d, conv2dBiasActivation, conv2dBiasActivationComposite, maxPool2d, avgPool2d } from './conv.js';
export { batchNorm, batchNormComposite, groupNorm, groupNormComposite, layerNorm, layerNormComposite } from './normalization.js';
export type { BatchNormResult } from './normalization.js';
export { softmaxCrossEntropy, softmaxCrossEntropyComposite, sigmoidCrossEntropy, sigmoidCrossEntropyComposite } from './losses.js';
export { lstmCell, lstmCellComposite, lstmSequence } from './recurrent.js';
export type { LstmSequenceOptions, RecurrentActivation } from './recurrent.js';
