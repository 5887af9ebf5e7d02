/**
 * The gpu Backend: the kernel families of kernels/*.ts behind @gradlab/tensor's Backend interface,
 * so that `setBackend('gpu')` moves every op onto the device and no model code changes.
 *
 * Each method first brings its inputs onto this device (a cpu tensor is uploaded; see context.ts).
 * float64 is not a device type: an op with a float64 input or result runs the CPU backend's kernel
 * on the host values and keeps its result on the host (so gradcheck in float64 stays exact).
 */
import { conv2dEpilogueComposite, getBackend, mulAddComposite } from '@gradlab/tensor';
import { Tensor } from '@gradlab/tensor';
import type { Backend, Conv2DInfo, DType, LstmSequenceOptions } from '@gradlab/tensor';
import { fromHost, onDevice, toHost, upload } from './context.js';
import type { GpuContext } from './context.js';
import type { Device } from './device.js';
import * as ew from './kernels/elementwise.js';
import * as red from './kernels/reduce.js';
import { matmul } from './kernels/matmul.js';
import * as conv from './kernels/conv.js';
import * as pool from './kernels/pool.js';
import * as norm from './kernels/normalization.js';
import * as losses from './kernels/losses.js';
import * as recurrent from './kernels/recurrent.js';
import * as optim from './kernels/optimizers.js';
import * as indexing from './kernels/indexing.js';

export interface GpuBackend extends Backend {
  readonly device: Device;
}

export function createGpuBackend(device: Device, name = 'gpu'): GpuBackend {
  const ctx: GpuContext = { device, name };
  const cpu = (): Backend => getBackend('cpu');
  const dev = (x: Tensor) => onDevice(ctx, x);
  /** Every tensor in a kernel's result (one level of nesting: LSTM's saved state), mapped by f. */
  function mapResult<R>(result: R, f: (t: Tensor) => Tensor): R {
    const map = (v: unknown): unknown => (v instanceof Tensor ? f(v) : v !== null && typeof v === 'object'
      ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, map(x)])) : v);
    return map(result) as R;
  }

  /**
   * Run a kernel on the device unless a float64 is involved (an input, or the result's dtype when the
   * caller names it); then run the CPU backend's kernel on host values and bring its results back
   * (float64 stays on the host, anything else is uploaded). Inputs uploaded just for this call (cpu
   * tensors) are temporaries, freed as soon as the kernel has returned.
   */
  function fused<T extends (Tensor | null)[], R>(inputs: T, device: (...xs: T) => R, host: (cpuBackend: Backend, ...xs: T) => R,
    dtype: DType | null = null): R {
    if (dtype === 'float64' || inputs.some((x) => x !== null && x.dtype === 'float64')) {
      return mapResult(host(cpu(), ...(inputs.map((x) => (x === null ? null : toHost(x))) as T)), (t) => fromHost(ctx, t));
    }
    const moved = inputs.map((x) => (x === null ? null : dev(x))) as T;
    const result = device(...moved);
    moved.forEach((m, i) => { if (m !== null && m !== inputs[i]) m.storage.dispose(); });
    return result;
  }
  /** The same for the one-output primitives, whose result dtype the front end has already worked out. */
  const run = <T extends Tensor[]>(inputs: T, dtype: DType | null, device: (...xs: T) => Tensor, host: (cpuBackend: Backend, ...xs: T) => Tensor): Tensor =>
    fused(inputs, device, host, dtype);

  /** LSTM options with the mask as the kernel wants it: on the device (as float32), or on the host. */
  const withMask = (o: LstmSequenceOptions, mask: Tensor | null): LstmSequenceOptions => ({ ...o, mask });
  const zerosOn = (shape: number[]) => new Tensor(upload(ctx, new Float32Array(shape.reduce((a, b) => a * b, 1))), shape);

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
    batchNormForward: (x, gamma, beta, epsilon, mask) => fused([x, gamma, beta, mask],
      (a, g, b, m) => norm.batchNormForward(ctx, a!, g!, b!, epsilon, m), (c, a, g, b, m) => c.batchNormForward(a!, g!, b!, epsilon, m)),
    batchNormBackward: (dy, xHat, invstd, gamma, mask) => fused([dy, xHat, invstd, gamma, mask],
      (d, h, s, g, m) => norm.batchNormBackward(ctx, d!, h!, s!, g!, m), (c, d, h, s, g, m) => c.batchNormBackward(d!, h!, s!, g!, m)),
    groupNormForward: (x, gamma, beta, groups, epsilon) => fused([x, gamma, beta],
      (a, g, b) => norm.groupNormForward(ctx, a!, g!, b!, groups, epsilon), (c, a, g, b) => c.groupNormForward(a!, g!, b!, groups, epsilon)),
    groupNormBackward: (dy, xHat, invstd, gamma, groups) => fused([dy, xHat, invstd, gamma],
      (d, h, s, g) => norm.groupNormBackward(ctx, d!, h!, s!, g!, groups), (c, d, h, s, g) => c.groupNormBackward(d!, h!, s!, g!, groups)),
    softmaxCrossEntropy: (logits, labels) => fused([logits, labels],
      (z, y) => losses.softmaxCrossEntropy(ctx, z!, y!), (c, z, y) => c.softmaxCrossEntropy(z!, y!)),
    sigmoidCrossEntropy: (logits, targets) => fused([logits, targets],
      (z, t) => losses.sigmoidCrossEntropy(ctx, z!, t!), (c, z, t) => c.sigmoidCrossEntropy(z!, t!)),
    lstmCellForward: (z, cPrev, act) => fused([z, cPrev], (a, p) => recurrent.lstmCellForward(ctx, a!, p!, act), (c, a, p) => c.lstmCellForward(a!, p!, act)),
    lstmCellBackward: (dh, dc, gates, tanhC, cPrev, act) => fused([dh, dc, gates, tanhC, cPrev],
      (a, b, g, t, p) => recurrent.lstmCellBackward(ctx, a!, b!, g!, t!, p!, act), (c, a, b, g, t, p) => c.lstmCellBackward(a!, b!, g!, t!, p!, act)),
    lstmSequenceForward: (xw, U, bias, options) => fused([xw, U, bias, options.mask],
      (x, u, b, m) => recurrent.lstmSequenceForward(ctx, x!, u!, b!, withMask(options, m && m.astype('float32')), zerosOn),
      (c, x, u, b, m) => c.lstmSequenceForward(x!, u!, b!, withMask(options, m))),
    lstmSequenceBackward: (dy, saved, U, options) => fused([dy, saved.gates, saved.hPrev, saved.cPrev, saved.tanhC, U, options.mask],
      (d, gates, hPrev, cPrev, tanhC, u, m) => recurrent.lstmSequenceBackward(ctx, d!, { gates: gates!, hPrev: hPrev!, cPrev: cPrev!, tanhC: tanhC! }, u!,
        withMask(options, m && m.astype('float32')), zerosOn),
      (c, d, gates, hPrev, cPrev, tanhC, u, m) => c.lstmSequenceBackward(d!, { gates: gates!, hPrev: hPrev!, cPrev: cPrev!, tanhC: tanhC! }, u!, withMask(options, m))),
    sgdUpdate: (w, g, v, hyper) => fused([w, g, v], (a, b, c) => optim.sgdUpdate(a!, b!, c, hyper), (k, a, b, c) => k.sgdUpdate(a!, b!, c, hyper)),
    adamUpdate: (w, g, m, v, hyper) => fused([w, g, m, v],
      (a, b, c, d) => optim.adamUpdate(a!, b!, c!, d!, hyper), (k, a, b, c, d) => k.adamUpdate(a!, b!, c!, d!, hyper)),
    rmspropUpdate: (w, g, s, a, b, hyper) => fused([w, g, s, a, b],
      (p, q, r, t, u) => optim.rmspropUpdate(p!, q!, r!, t, u, hyper), (k, p, q, r, t, u) => k.rmspropUpdate(p!, q!, r!, t, u, hyper)),
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
    // x·scale + shift as this backend's own mul and add kernels (the composite)
    mulAdd: (x, scale, shift, _shape, dtype) => mulAddComposite(x, scale, shift, dtype),
    where: (cond, a, b, shape, dtype) =>
      run([cond, a, b], dtype, (k, p, q) => ew.where(ctx, k, p, q, shape, dtype), (c, k, p, q) => c.where(k, p, q, shape, dtype)),
    reduce: (op, x, axes) => run([x], null, (a) => red.reduce(ctx, op, a, axes), (c, a) => c.reduce(op, a, axes)),
    argReduce: (op, x, axis) => run([x], null, (a) => red.argReduce(ctx, op, a, axis), (c, a) => c.argReduce(op, a, axis)),
    variance: (x, axes, correction) =>
      run([x], null, (a) => red.variance(ctx, a, axes, correction), (c, a) => c.variance(a, axes, correction)),
    matmul: (a, b, shape) => run([a, b], null, (p, q) => matmul(ctx, p, q, shape), (c, p, q) => c.matmul(p, q, shape)),
    // the epilogue as this backend's own add and relu kernels (ops/conv.ts's composite)
    conv2d: (x, w, info: Conv2DInfo, epilogue) => {
      const y = run([x, w], null, (p, q) => conv.conv2d(ctx, p, q, info), (c, p, q) => c.conv2d(p, q, info));
      return epilogue ? conv2dEpilogueComposite(y, epilogue) : y;
    },
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
