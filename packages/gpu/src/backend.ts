/**
 * The gpu Backend: the kernel families of kernels/*.ts behind @gradlab/tensor's Backend interface,
 * so that `setBackend('gpu')` moves every op onto the device and no model code changes.
 *
 * Each method first brings its inputs onto this device (a cpu tensor is uploaded; see context.ts).
 * float64 is not a device type: an op with a float64 input or result runs the CPU backend's kernel
 * on the host values and keeps its result on the host (so gradcheck in float64 stays exact).
 */
import { getBackend } from '@gradlab/tensor';
import type { Backend, Conv2DInfo, DType, Tensor } from '@gradlab/tensor';
import { fromHost, onDevice, toHost, upload } from './context.js';
import type { GpuContext } from './context.js';
import type { Device } from './device.js';
import * as ew from './kernels/elementwise.js';
import * as red from './kernels/reduce.js';
import { matmul } from './kernels/matmul.js';
import * as conv from './kernels/conv.js';
import * as pool from './kernels/pool.js';
import * as fused from './kernels/fused.js';
import * as indexing from './kernels/indexing.js';

export interface GpuBackend extends Backend {
  readonly device: Device;
}

export function createGpuBackend(device: Device, name = 'gpu'): GpuBackend {
  const ctx: GpuContext = { device, name };
  const cpu = (): Backend => getBackend('cpu');
  const dev = (x: Tensor) => onDevice(ctx, x);
  /** Run `op` on the device unless a float64 is involved; then run the CPU kernel on host values. */
  function run<T extends Tensor[]>(inputs: T, dtype: DType | null, device: (...xs: T) => Tensor, host: (cpuBackend: Backend, ...xs: T) => Tensor): Tensor {
    if (dtype === 'float64' || inputs.some((x) => x.dtype === 'float64')) {
      return fromHost(ctx, host(cpu(), ...(inputs.map(toHost) as T)));
    }
    const moved = inputs.map(dev) as T;
    const result = device(...moved);
    // Inputs uploaded just for this op (cpu tensors) are temporaries: free them now.
    moved.forEach((m, i) => { if (m !== inputs[i]) m.storage.dispose(); });
    return result;
  }

  /**
   * The fused kernels take float32 tensors (and int32 labels) and, unlike the methods above, have no
   * CPU kernel to fall back on for float64: callers use them only when x.dtype is float32.
   */
  function onDeviceFloat32<R>(op: string, inputs: (Tensor | null)[], f: (...xs: (Tensor | null)[]) => R): R {
    const bad = inputs.find((x) => x !== null && x.dtype === 'float64');
    if (bad) throw new Error(`gpu: ${op} is a float32 kernel; got a float64 input of shape [${bad.shape.join(',')}]`);
    const moved = inputs.map((x) => (x === null ? null : dev(x)));
    const result = f(...moved);
    moved.forEach((m, i) => { if (m !== null && m !== inputs[i]) m.storage.dispose(); });
    return result;
  }

  /**
   * For the IndexingKernels (concat, pad, gather, scatterAdd, oneHot): the front end calls them only
   * without float64 inputs; cpu tensors among the inputs are uploaded for the call and freed after.
   */
  function onDeviceAll(inputs: readonly Tensor[], f: (xs: Tensor[]) => Tensor): Tensor {
    const moved = inputs.map(dev);
    const result = f(moved);
    moved.forEach((m, i) => { if (m !== inputs[i]) m.storage.dispose(); });
    return result;
  }

  return {
    name,
    device,
    batchNormForward: (x, gamma, beta, epsilon, mask) => onDeviceFloat32('batchNormForward', [x, gamma, beta, mask],
      (a, g, b, m) => fused.batchNormForward(ctx, a!, g!, b!, epsilon, m)),
    batchNormBackward: (dy, xHat, invstd, gamma, mask) => onDeviceFloat32('batchNormBackward', [dy, xHat, invstd, gamma, mask],
      (d, h, s, g, m) => fused.batchNormBackward(ctx, d!, h!, s!, g!, m)),
    layerNormForward: (x, gamma, beta, epsilon) => onDeviceFloat32('layerNormForward', [x, gamma, beta],
      (a, g, b) => fused.layerNormForward(ctx, a!, g!, b!, epsilon)),
    layerNormBackward: (dy, xHat, invstd, gamma) => onDeviceFloat32('layerNormBackward', [dy, xHat, invstd, gamma],
      (d, h, s, g) => fused.layerNormBackward(ctx, d!, h!, s!, g!)),
    softmaxCrossEntropy: (logits, labels) => onDeviceFloat32('softmaxCrossEntropy', [logits, labels],
      (z, y) => fused.softmaxCrossEntropy(ctx, z!, y!)),
    lstmCellForward: (z, cPrev) => onDeviceFloat32('lstmCellForward', [z, cPrev], (a, c) => fused.lstmCellForward(ctx, a!, c!)),
    lstmCellBackward: (dh, dc, gates, tanhC, cPrev) => onDeviceFloat32('lstmCellBackward', [dh, dc, gates, tanhC, cPrev],
      (a, b, g, t, c) => fused.lstmCellBackward(ctx, a!, b!, g!, t!, c!)),
    concat: (tensors, axis, outShape, dtype) => onDeviceAll(tensors, (ts) => indexing.concat(ctx, ts, axis, outShape, dtype)),
    pad: (x, paddings, value, outShape, dtype) => onDeviceAll([x], ([a]) => indexing.pad(ctx, a, paddings, value, outShape, dtype)),
    gather: (x, indices, axis, outShape) => onDeviceAll([x, indices], ([a, i]) => indexing.gather(ctx, a, i, axis, outShape)),
    scatterAdd: (shape, indices, updates, axis) => onDeviceAll([indices, updates], ([i, u]) => indexing.scatterAdd(ctx, shape, i, u, axis)),
    oneHot: (indices, depth, dtype) => onDeviceAll([indices], ([i]) => indexing.oneHot(ctx, i, depth, dtype)),
    upload: (data) => upload(ctx, data),
    copy: (x, dtype = x.dtype) => run([x], dtype, (a) => ew.copy(ctx, a, dtype), (c, a) => c.copy(a, dtype)),
    unary: (op, x) => run([x], null, (a) => ew.unary(ctx, op, a), (c, a) => c.unary(op, a)),
    binary: (op, a, b, shape, dtype) =>
      run([a, b], dtype, (p, q) => ew.binary(ctx, op, p, q, shape, dtype), (c, p, q) => c.binary(op, p, q, shape, dtype)),
    where: (cond, a, b, shape, dtype) =>
      run([cond, a, b], dtype, (k, p, q) => ew.where(ctx, k, p, q, shape, dtype), (c, k, p, q) => c.where(k, p, q, shape, dtype)),
    reduce: (op, x, axes) => run([x], null, (a) => red.reduce(ctx, op, a, axes), (c, a) => c.reduce(op, a, axes)),
    argReduce: (op, x, axis) => run([x], null, (a) => red.argReduce(ctx, op, a, axis), (c, a) => c.argReduce(op, a, axis)),
    variance: (x, axes, correction) =>
      run([x], null, (a) => red.variance(ctx, a, axes, correction), (c, a) => c.variance(a, axes, correction)),
    matmul: (a, b, shape) => run([a, b], null, (p, q) => matmul(ctx, p, q, shape), (c, p, q) => c.matmul(p, q, shape)),
    conv2d: (x, w, info: Conv2DInfo) => run([x, w], null, (p, q) => conv.conv2d(ctx, p, q, info), (c, p, q) => c.conv2d(p, q, info)),
    conv2dBackpropInput: (dy, w, info) =>
      run([dy, w], null, (p, q) => conv.conv2dBackpropInput(ctx, p, q, info), (c, p, q) => c.conv2dBackpropInput(p, q, info)),
    conv2dBackpropFilter: (x, dy, info) =>
      run([x, dy], null, (p, q) => conv.conv2dBackpropFilter(ctx, p, q, info), (c, p, q) => c.conv2dBackpropFilter(p, q, info)),
    maxPool2d: (x, info) => run([x], null, (a) => pool.maxPool2d(ctx, a, info), (c, a) => c.maxPool2d(a, info)),
    maxPool2dBackward: (dy, x, info) =>
      run([dy, x], null, (p, q) => pool.maxPool2dBackward(ctx, p, q, info), (c, p, q) => c.maxPool2dBackward(p, q, info)),
    avgPool2d: (x, info) => run([x], null, (a) => pool.avgPool2d(ctx, a, info), (c, a) => c.avgPool2d(a, info)),
    avgPool2dBackward: (dy, info) =>
      run([dy], null, (a) => pool.avgPool2dBackward(ctx, a, info), (c, a) => c.avgPool2dBackward(a, info)),
  };
}
