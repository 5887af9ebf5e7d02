/**
 * The float32 convolutions (conv-parts.ts) on every thread of the pool (threads.ts), a "conv job".
 *
 * Each thread computes a part of the OUTPUT with the same one-thread code, so the result is bit for bit
 * what one thread computes (every output number is the same sum, in the same order, on the same kernel):
 *
 *   forward          y [N·OH·OW, F]   by bands of rows (patch rows, 4 at a time): a band may start
 *                                     mid-image, each row needs only its own window
 *   input gradient   dx [N, H, W, C]  by images: windows overlap, so two threads that shared an image
 *                                     would add into the same pixels, and their sums, added
 *                                     afterwards, would be rounded differently
 *   filter gradient  dW [kh·kw·C, F]  by rows of dW (patch entries, 4 at a time, one sliver of the
 *                                     kernel's A): each thread sums over every image, but writes (and
 *                                     im2col's) only its own entries. Splitting the sum over images
 *                                     instead would need a reduction, and change the rounding.
 *
 * Thread 0 is the calling thread: it computes its part from the caller's arrays, straight into the
 * caller's output. The workers cannot see those arrays, so what they read is copied into the pool's
 * shared buffers first (a: the images, or dy, that their parts read; b: the filter and bias, or dy; a
 * few MB, against tens of ms of arithmetic), and their parts of the output come back from c with one
 * copy. The job's geometry travels in the control block (JOB_SLOTS from Slot.Job), with no message.
 * A worker claims its part before computing it; the calling thread, done with its own, claims and
 * computes any part a worker has not started (finishParts), so a worker kept off the cores by another
 * program costs no waiting.
 *
 * A job is split when it has at least parallelMinWork(true) multiply-adds (rows·patch·F, as a gemm
 * counts them: 2²⁵) and enough pieces for every thread (images, rows or entries). bench/conv-threads.mjs
 * at the image model's two layers, 2 cores free: at batch 32 two threads ran the forward passes and
 * the input gradient 1.7–2.0× as fast as one, conv2's filter gradient 1.7–1.8×, conv1's 1.25–1.6×
 * (K = 27: both threads pack all of dy and walk every patch row; only the slivers are split). With the
 * split forced on, two threads paid down to batch 1 (15 M multiply-adds: 1.55×) except that filter
 * gradient, 0.9× at batch 1 and 1.13× at batch 4: below 2²⁵ everything stays on one thread.
 */
import type { Conv2DInfo } from '../backend.js';
import type { TypedArray } from '../dtype.js';
import { patchMatrix } from './im2col.js';
import { filterGradientFits, filterGradientRows, forwardRows, inputGradient } from './conv-parts.js';
import type { Affine } from './conv-parts.js';
import { directFilterGradient, directFits, directForward, directInputGradient } from './conv-direct.js';
import { setGemmKernel } from './gemm.js';
import { awaitWorker, band, claimPart, JOB_SLOTS, JobKind, poolFor, reserveShared, Slot, startJob } from './threads.js';
import type { Pool, SharedBuffers } from './threads.js';

/** Which convolution kernel a conv job runs. */
const Op = { Forward: 0, InputGradient: 1, FilterGradient: 2 } as const;
type OpCode = typeof Op[keyof typeof Op];

/** The Conv2DInfo fields, in the order they are written into the control block. */
const INFO_FIELDS = [
  'batch', 'inHeight', 'inWidth', 'inChannels', 'outHeight', 'outWidth', 'outChannels', 'filterHeight', 'filterWidth',
  'strideHeight', 'strideWidth', 'padTop', 'padLeft', 'padBottom', 'padRight',
] as const satisfies ReadonlyArray<keyof Conv2DInfo>;
/**
 * A conv job's slots, from Slot.Job: the kernel, whether there is a bias and a ReLU, whether it runs
 * on the direct kernels (conv-direct.ts) or the patch matrix (conv-parts.ts), whether a folded
 * BatchNorm's scale and shift follow (forward only), then the geometry.
 */
const JobAt = { Op: 0, Bias: 1, Relu: 2, Direct: 3, Affine: 4, Info: 5 } as const;
if (JobAt.Info + INFO_FIELDS.length > JOB_SLOTS) throw new Error('conv-threads: the control block has too few job slots');

/**
 * The part of the output that thread t of `threads` computes: rows of y (images, direct), images of dx,
 * or rows of dW (patch entries; direct: columns, 8 at a time, one panel of the kernel). The workers work
 * it out from the same numbers, so every thread agrees.
 */
function partOf(op: OpCode, info: Conv2DInfo, direct: boolean, threads: number, t: number): [number, number] {
  const { rows, patch, F } = patchMatrix(info);
  if (op === Op.Forward) return direct ? band(info.batch, threads, t, 1) : band(rows, threads, t, 4);
  if (op === Op.InputGradient) return band(info.batch, threads, t, 1);
  return direct ? band(F, threads, t, 8) : band(patch, threads, t, 4);
}

/** How many pieces the output can be cut into (each thread needs at least one). */
function pieces(op: OpCode, info: Conv2DInfo, direct: boolean): number {
  const { rows, patch, F } = patchMatrix(info);
  if (op === Op.Forward) return direct ? info.batch : Math.ceil(rows / 4);
  if (op === Op.InputGradient) return info.batch;
  return direct ? Math.ceil(F / 8) : Math.ceil(patch / 4);
}

/** The pool, when this job is to be split; null to run it on the calling thread. */
function poolForConv(op: OpCode, info: Conv2DInfo, direct: boolean): Pool | null {
  const { rows, patch, F } = patchMatrix(info);
  const p = poolFor(rows * patch * F, true);
  return p && pieces(op, info, direct) >= p.workers.length + 1 ? p : null;
}

/**
 * Whether a job runs on the direct kernels, and its pool. The direct parts are coarser (images, or
 * panels of 8 filters): where they are too few for the threads and the patch path can be split, the
 * job takes the patch path instead, whose result is the same bit for bit (conv-direct.ts) except for
 * the input gradient, which both split by images.
 */
function planConv(op: OpCode, info: Conv2DInfo, directFitsOp: boolean, patchesFit: boolean): { direct: boolean; p: Pool | null } {
  const p = poolForConv(op, info, directFitsOp);
  if (p || !directFitsOp || !patchesFit) return { direct: directFitsOp, p };
  const patchPool = poolForConv(op, info, false);
  return patchPool ? { direct: false, p: patchPool } : { direct: true, p: null };
}

/** Write the job into the control block and wake the workers; returns its generation. */
function post(p: Pool, op: OpCode, info: Conv2DInfo, direct: boolean, bias: boolean, relu: boolean, affine = false): number {
  const ctl = p.control;
  ctl[Slot.Job + JobAt.Op] = op;
  ctl[Slot.Job + JobAt.Bias] = bias ? 1 : 0;
  ctl[Slot.Job + JobAt.Relu] = relu ? 1 : 0;
  ctl[Slot.Job + JobAt.Direct] = direct ? 1 : 0;
  ctl[Slot.Job + JobAt.Affine] = affine ? 1 : 0;
  INFO_FIELDS.forEach((field, i) => { ctl[Slot.Job + JobAt.Info + i] = info[field]; });
  return startJob(p, JobKind.Conv, partsPolicy !== 'caller');
}

/**
 * Who computes a worker's part of a conv job: 'first' (the default): the worker, unless the calling
 * thread has finished its own part before the worker has started (then the calling thread);
 * 'workers': always the worker (the calling thread waits for it); 'caller': always the calling thread.
 * The last two are for tests and benchmarks, which must know which code ran.
 */
export type ConvPartsPolicy = 'first' | 'workers' | 'caller';
let partsPolicy: ConvPartsPolicy = 'first';

/** Set who computes the workers' parts of a conv job (see ConvPartsPolicy). */
export function setConvPartsPolicy(policy: ConvPartsPolicy): void {
  if (policy !== 'first' && policy !== 'workers' && policy !== 'caller') {
    throw new Error(`setConvPartsPolicy: expected 'first', 'workers' or 'caller', got ${JSON.stringify(policy)}`);
  }
  partsPolicy = policy;
}

/**
 * After the calling thread's own part, each worker's: awaited and `collect`ed from the shared output
 * if the worker has started it, else claimed and computed here (`compute`), straight into the output.
 * A worker that another program keeps off the second core then costs no waiting. Measured with such a
 * program (bench/conv-threads.mjs at batch 32): before this, the split kernels ran at 0.72–0.98× one
 * thread's speed (conv1's filter gradient worst); with it, 0.92–1.15×.
 */
function finishParts(p: Pool, generation: number, compute: (t: number) => void, collect: (t: number) => void): void {
  for (let w = 0; w < p.workers.length; w++) {
    const mine = partsPolicy === 'caller' || (partsPolicy === 'first' && claimPart(p.control, w, generation));
    if (mine) compute(w + 1);
    else { awaitWorker(p, w, generation); collect(w + 1); }
  }
}

const pixelsPerImage = (info: Conv2DInfo): number => info.inHeight * info.inWidth * info.inChannels;
const rowsPerImage = (info: Conv2DInfo): number => info.outHeight * info.outWidth;

/** The rows of y [N·OH·OW, F] in a forward part: the part itself, or its images' rows (direct). */
function forwardRowsOf(info: Conv2DInfo, direct: boolean, [start, end]: [number, number]): [number, number] {
  return direct ? [start * rowsPerImage(info), end * rowsPerImage(info)] : [start, end];
}

/** Rows row0 … row1−1 of y (whole images, direct) into y from yAt; x holds info.batch images. */
function forwardPart(direct: boolean, x: Float32Array, w: Float32Array, info: Conv2DInfo, [row0, row1]: [number, number], y: Float32Array, yAt: number, bias: TypedArray | null, relu: boolean, affine: Affine | null): void {
  const perImage = rowsPerImage(info);
  if (direct) directForward(x, w, info, row0 / perImage, row1 / perImage, y, yAt, bias, relu, affine);
  else forwardRows(x, w, info, row0, row1 - row0, y, yAt, bias, relu, affine);
}

/** y = act(conv2d(x, w) + bias) [rows, F] (then ·scale + shift, with `affine`) into y (float32, the WebAssembly kernel). */
export function conv2dFloat32(x: Float32Array, w: Float32Array, info: Conv2DInfo, y: Float32Array, bias: TypedArray | null, relu: boolean, affine: Affine | null = null): void {
  const { rows, patch, F } = patchMatrix(info);
  const { direct, p } = planConv(Op.Forward, info, directFits(info).forward, true);
  if (!p) return forwardPart(direct, x, w, info, [0, rows], y, 0, bias, relu, affine);
  const threads = p.workers.length + 1;
  const part = (t: number): [number, number] => forwardRowsOf(info, direct, partOf(Op.Forward, info, direct, threads, t));
  // the workers' rows start at firstRow, in image firstImage: they read x from that image on
  const firstRow = part(1)[0], firstImage = Math.floor(firstRow / rowsPerImage(info));
  const xFrom = firstImage * pixelsPerImage(info);
  // b: the filter, then the bias, the scale and the shift (F numbers each)
  reserveShared(p, x.length - xFrom, patch * F + 3 * F, (rows - firstRow) * F, true);
  p.a.f32.set(x.subarray(xFrom));
  p.b.f32.set(w);
  if (bias) p.b.f32.set(bias, patch * F);
  if (affine) { p.b.f32.set(affine.scale, patch * F + F); p.b.f32.set(affine.shift, patch * F + 2 * F); }
  const generation = post(p, Op.Forward, info, direct, bias !== null, relu, affine !== null);
  const own = (t: number): void => { const rowsOfT = part(t); forwardPart(direct, x, w, info, rowsOfT, y, rowsOfT[0] * F, bias, relu, affine); };
  own(0);
  finishParts(p, generation, own, (t) => {
    const [r0, r1] = part(t);
    y.set(p.c.f32.subarray((r0 - firstRow) * F, (r1 - firstRow) * F), r0 * F);
  });
}

/** Images n0 … n1−1 of dx into dx from dxAt (zero, for the patch path's col2im); dy holds info.batch images. */
function inputGradientPart(direct: boolean, dy: Float32Array, w: Float32Array, info: Conv2DInfo, n0: number, n1: number, dx: Float32Array, dxAt: number): void {
  if (direct) return directInputGradient(dy, w, info, n0, n1, dx, dxAt);
  const dyPerImage = rowsPerImage(info) * info.outChannels;
  inputGradient(dy.subarray(n0 * dyPerImage, n1 * dyPerImage), w, { ...info, batch: n1 - n0 }, dx.subarray(dxAt, dxAt + (n1 - n0) * pixelsPerImage(info)));
}

/** dx = col2im(dy · Wᵀ) into dx (zero), float32 on the WebAssembly kernel. */
export function conv2dBackpropInputFloat32(dy: Float32Array, w: Float32Array, info: Conv2DInfo, dx: Float32Array): void {
  const direct = directFits(info).inputGradient;
  const p = poolForConv(Op.InputGradient, info, direct); // both paths split by images
  if (!p) return inputGradientPart(direct, dy, w, info, 0, info.batch, dx, 0);
  const threads = p.workers.length + 1;
  const part = (t: number): [number, number] => partOf(Op.InputGradient, info, direct, threads, t);
  const firstImage = part(1)[0];
  const dyPerImage = rowsPerImage(info) * info.outChannels, dxPerImage = pixelsPerImage(info);
  const workersImages = info.batch - firstImage;
  reserveShared(p, workersImages * dyPerImage, w.length, workersImages * dxPerImage, true);
  p.a.f32.set(dy.subarray(firstImage * dyPerImage));
  p.b.f32.set(w);
  const generation = post(p, Op.InputGradient, info, direct, false, false);
  const own = (t: number): void => { const [n0, n1] = part(t); inputGradientPart(direct, dy, w, info, n0, n1, dx, n0 * dxPerImage); };
  own(0);
  finishParts(p, generation, own, (t) => {
    const [n0, n1] = part(t);
    dx.set(p.c.f32.subarray((n0 - firstImage) * dxPerImage, (n1 - firstImage) * dxPerImage), n0 * dxPerImage);
  });
}

/**
 * A part of dW [patch, F] into out from outAt: rows e0 … e1−1 (patch path: all F columns, as in dW) or
 * columns e0 … e1−1 (direct: all patch rows, e1 − e0 numbers each).
 */
function filterGradientPart(direct: boolean, x: Float32Array, dy: Float32Array, info: Conv2DInfo, e0: number, e1: number, out: Float32Array, outAt: number): void {
  if (direct) directFilterGradient(x, dy, info, e0, e1, out, outAt);
  else filterGradientRows(x, dy, info, e0, e1, out, outAt);
}

/** dW = patches(x)ᵀ · dy [patch, F] into dw, float32 on the WebAssembly kernel. */
export function conv2dBackpropFilterFloat32(x: Float32Array, dy: Float32Array, info: Conv2DInfo, dw: Float32Array): void {
  const { patch, F } = patchMatrix(info);
  const { direct, p } = planConv(Op.FilterGradient, info, directFits(info).filterGradient, filterGradientFits(info));
  if (!p) return filterGradientPart(direct, x, dy, info, 0, direct ? F : patch, dw, 0);
  const threads = p.workers.length + 1;
  const part = (t: number): [number, number] => partOf(Op.FilterGradient, info, direct, threads, t);
  // every thread sums over all the images: the workers read all of x and dy
  const first = part(1)[0];
  reserveShared(p, x.length, dy.length, direct ? patch * (F - first) : (patch - first) * F, true);
  p.a.f32.set(x);
  p.b.f32.set(dy);
  const generation = post(p, Op.FilterGradient, info, direct, false, false);
  if (!direct) {
    const own = (t: number): void => { const [e0, e1] = part(t); filterGradientRows(x, dy, info, e0, e1, dw, e0 * F); };
    own(0);
    return finishParts(p, generation, own, (t) => {
      const [e0, e1] = part(t);
      dw.set(p.c.f32.subarray((e0 - first) * F, (e1 - first) * F), e0 * F);
    });
  }
  // direct: each part is columns f0 … f1−1, computed as a [patch, f1 − f0] block and put in place
  const own = (t: number): void => {
    const [f0, f1] = part(t), block = new Float32Array(patch * (f1 - f0));
    directFilterGradient(x, dy, info, f0, f1, block, 0);
    putColumns(block, 0, dw, patch, F, f0, f1);
  };
  own(0);
  finishParts(p, generation, own, (t) => {
    const [f0, f1] = part(t);
    putColumns(p.c.f32, patch * (f0 - first), dw, patch, F, f0, f1);
  });
}

/** Columns f0 … f1−1 of dw [patch, F], from a [patch, f1 − f0] block at blockAt. */
function putColumns(block: Float32Array, blockAt: number, dw: Float32Array, patch: number, F: number, f0: number, f1: number): void {
  const width = f1 - f0;
  for (let e = 0; e < patch; e++) for (let j = 0; j < width; j++) dw[e * F + f0 + j] = block[blockAt + e * width + j];
}

/**
 * What a worker runs for a conv job: its part, from the shared buffers, into c (from the workers'
 * first row, image or entry, as the calling thread copies it back).
 */
export function workerConvPart(ctl: Int32Array, index: number, threads: number, shared: SharedBuffers): void {
  const op = ctl[Slot.Job + JobAt.Op] as OpCode;
  const direct = ctl[Slot.Job + JobAt.Direct] === 1;
  const info = {} as Conv2DInfo;
  INFO_FIELDS.forEach((field, i) => { info[field] = ctl[Slot.Job + JobAt.Info + i]; });
  const [start, end] = partOf(op, info, direct, threads, index + 1);
  if (end <= start) return;
  const first = partOf(op, info, direct, threads, 1)[0]; // where the workers' inputs and outputs begin
  setGemmKernel('wasm'); // conv jobs are float32 on the WebAssembly kernel (the calling thread's choice)
  const { patch, F } = patchMatrix(info);
  const a = shared.a.f32, b = shared.b.f32, c = shared.c.f32;
  if (op === Op.Forward) {
    const [row0, row1] = forwardRowsOf(info, direct, [start, end]), firstRow = forwardRowsOf(info, direct, [first, first])[0];
    const firstImage = Math.floor(firstRow / rowsPerImage(info)), rowFrom = firstImage * rowsPerImage(info);
    const bias = ctl[Slot.Job + JobAt.Bias] === 1 ? b.subarray(patch * F, patch * F + F) : null;
    const affine = ctl[Slot.Job + JobAt.Affine] === 1
      ? { scale: b.subarray(patch * F + F, patch * F + 2 * F), shift: b.subarray(patch * F + 2 * F, patch * F + 3 * F) } : null;
    forwardPart(direct, a, b, { ...info, batch: info.batch - firstImage }, [row0 - rowFrom, row1 - rowFrom], c, (row0 - firstRow) * F, bias, ctl[Slot.Job + JobAt.Relu] === 1, affine);
  } else if (op === Op.InputGradient) {
    const dxPerImage = pixelsPerImage(info);
    if (!direct) c.fill(0, (start - first) * dxPerImage, (end - first) * dxPerImage); // col2im adds into it; the buffer holds an earlier job's numbers
    inputGradientPart(direct, a, b, { ...info, batch: info.batch - first }, start - first, end - first, c, (start - first) * dxPerImage);
  } else {
    filterGradientPart(direct, a, b, info, start, end, c, direct ? patch * (start - first) : (start - first) * F);
  }
}
