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
import { filterGradientRows, forwardRows, inputGradient } from './conv-parts.js';
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
/** A conv job's slots, from Slot.Job: the kernel, whether there is a bias and a ReLU, then the geometry. */
const JobAt = { Op: 0, Bias: 1, Relu: 2, Info: 3 } as const;
if (JobAt.Info + INFO_FIELDS.length > JOB_SLOTS) throw new Error('conv-threads: the control block has too few job slots');

/**
 * The part of the output that thread t of `threads` computes: rows of y, images of dx, or rows of dW
 * (patch entries). The workers work it out from the same numbers, so every thread agrees.
 */
function partOf(op: OpCode, info: Conv2DInfo, threads: number, t: number): [number, number] {
  const { rows, patch } = patchMatrix(info);
  if (op === Op.Forward) return band(rows, threads, t, 4);
  if (op === Op.InputGradient) return band(info.batch, threads, t, 1);
  return band(patch, threads, t, 4);
}

/** How many pieces the output can be cut into (each thread needs at least one). */
function pieces(op: OpCode, info: Conv2DInfo): number {
  const { rows, patch } = patchMatrix(info);
  return op === Op.Forward ? Math.ceil(rows / 4) : op === Op.InputGradient ? info.batch : Math.ceil(patch / 4);
}

/** The pool, when this job is to be split; null to run it on the calling thread. */
function poolForConv(op: OpCode, info: Conv2DInfo): Pool | null {
  const { rows, patch, F } = patchMatrix(info);
  const p = poolFor(rows * patch * F, true);
  return p && pieces(op, info) >= p.workers.length + 1 ? p : null;
}

/** Write the job into the control block and wake the workers; returns its generation. */
function post(p: Pool, op: OpCode, info: Conv2DInfo, bias: boolean, relu: boolean): number {
  const ctl = p.control;
  ctl[Slot.Job + JobAt.Op] = op;
  ctl[Slot.Job + JobAt.Bias] = bias ? 1 : 0;
  ctl[Slot.Job + JobAt.Relu] = relu ? 1 : 0;
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

/** y = act(conv2d(x, w) + bias) [rows, F] into y (float32, the WebAssembly kernel). */
export function conv2dFloat32(x: Float32Array, w: Float32Array, info: Conv2DInfo, y: Float32Array, bias: TypedArray | null, relu: boolean): void {
  const { rows, patch, F } = patchMatrix(info);
  const p = poolForConv(Op.Forward, info);
  if (!p) return forwardRows(x, w, info, 0, rows, y, 0, bias, relu);
  const threads = p.workers.length + 1;
  const part = (t: number): [number, number] => partOf(Op.Forward, info, threads, t);
  // the workers' rows start at firstRow, in image firstImage: they read x from that image on
  const firstRow = part(1)[0], firstImage = Math.floor(firstRow / rowsPerImage(info));
  const xFrom = firstImage * pixelsPerImage(info);
  reserveShared(p, x.length - xFrom, patch * F + F, (rows - firstRow) * F, true);
  p.a.f32.set(x.subarray(xFrom));
  p.b.f32.set(w);
  if (bias) p.b.f32.set(bias, patch * F);
  const generation = post(p, Op.Forward, info, bias !== null, relu);
  const own = (t: number): void => { const [r0, r1] = part(t); forwardRows(x, w, info, r0, r1 - r0, y, r0 * F, bias, relu); };
  own(0);
  finishParts(p, generation, own, (t) => {
    const [r0, r1] = part(t);
    y.set(p.c.f32.subarray((r0 - firstRow) * F, (r1 - firstRow) * F), r0 * F);
  });
}

/** dx = col2im(dy · Wᵀ) into dx (zero), float32 on the WebAssembly kernel. */
export function conv2dBackpropInputFloat32(dy: Float32Array, w: Float32Array, info: Conv2DInfo, dx: Float32Array): void {
  const p = poolForConv(Op.InputGradient, info);
  if (!p) return inputGradient(dy, w, info, dx);
  const threads = p.workers.length + 1;
  const part = (t: number): [number, number] => partOf(Op.InputGradient, info, threads, t);
  const firstImage = part(1)[0];
  const dyPerImage = rowsPerImage(info) * info.outChannels, dxPerImage = pixelsPerImage(info);
  const workersImages = info.batch - firstImage;
  reserveShared(p, workersImages * dyPerImage, w.length, workersImages * dxPerImage, true);
  p.a.f32.set(dy.subarray(firstImage * dyPerImage));
  p.b.f32.set(w);
  const generation = post(p, Op.InputGradient, info, false, false);
  const own = (t: number): void => {
    const [n0, n1] = part(t);
    inputGradient(dy.subarray(n0 * dyPerImage, n1 * dyPerImage), w, { ...info, batch: n1 - n0 }, dx.subarray(n0 * dxPerImage, n1 * dxPerImage));
  };
  own(0);
  finishParts(p, generation, own, (t) => {
    const [n0, n1] = part(t);
    dx.set(p.c.f32.subarray((n0 - firstImage) * dxPerImage, (n1 - firstImage) * dxPerImage), n0 * dxPerImage);
  });
}

/** dW = patches(x)ᵀ · dy [patch, F] into dw, float32 on the WebAssembly kernel. */
export function conv2dBackpropFilterFloat32(x: Float32Array, dy: Float32Array, info: Conv2DInfo, dw: Float32Array): void {
  const { patch, F } = patchMatrix(info);
  const p = poolForConv(Op.FilterGradient, info);
  if (!p) return filterGradientRows(x, dy, info, 0, patch, dw, 0);
  const threads = p.workers.length + 1;
  const part = (t: number): [number, number] => partOf(Op.FilterGradient, info, threads, t);
  // every thread sums over all the images: the workers read all of x and dy
  const firstEntry = part(1)[0];
  reserveShared(p, x.length, dy.length, (patch - firstEntry) * F, true);
  p.a.f32.set(x);
  p.b.f32.set(dy);
  const generation = post(p, Op.FilterGradient, info, false, false);
  const own = (t: number): void => { const [e0, e1] = part(t); filterGradientRows(x, dy, info, e0, e1, dw, e0 * F); };
  own(0);
  finishParts(p, generation, own, (t) => {
    const [e0, e1] = part(t);
    dw.set(p.c.f32.subarray((e0 - firstEntry) * F, (e1 - firstEntry) * F), e0 * F);
  });
}

/**
 * What a worker runs for a conv job: its part, from the shared buffers, into c (from the workers'
 * first row, image or entry, as the calling thread copies it back).
 */
export function workerConvPart(ctl: Int32Array, index: number, threads: number, shared: SharedBuffers): void {
  const op = ctl[Slot.Job + JobAt.Op] as OpCode;
  const info = {} as Conv2DInfo;
  INFO_FIELDS.forEach((field, i) => { info[field] = ctl[Slot.Job + JobAt.Info + i]; });
  const [start, end] = partOf(op, info, threads, index + 1);
  if (end <= start) return;
  const first = partOf(op, info, threads, 1)[0]; // where the workers' inputs and outputs begin
  setGemmKernel('wasm'); // conv jobs are float32 on the WebAssembly kernel (the calling thread's choice)
  const { patch, F } = patchMatrix(info);
  const a = shared.a.f32, b = shared.b.f32, c = shared.c.f32;
  if (op === Op.Forward) {
    const firstImage = Math.floor(first / rowsPerImage(info)), rowFrom = firstImage * rowsPerImage(info);
    const bias = ctl[Slot.Job + JobAt.Bias] === 1 ? b.subarray(patch * F, patch * F + F) : null;
    forwardRows(a, b, { ...info, batch: info.batch - firstImage }, start - rowFrom, end - start, c, (start - first) * F, bias, ctl[Slot.Job + JobAt.Relu] === 1);
  } else if (op === Op.InputGradient) {
    const dyPerImage = rowsPerImage(info) * F, dxPerImage = pixelsPerImage(info);
    const dx = c.subarray((start - first) * dxPerImage, (end - first) * dxPerImage);
    dx.fill(0); // col2im adds into it; the buffer holds an earlier job's numbers
    inputGradient(a.subarray((start - first) * dyPerImage, (end - first) * dyPerImage), b, { ...info, batch: end - start }, dx);
  } else {
    filterGradientRows(a, b, info, start, end, c, (start - first) * F);
  }
}
