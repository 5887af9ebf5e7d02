/**
 * What a helper thread (gemm-worker.ts in Node, browser-gemm-worker.ts in a browser) runs when the
 * calling thread wakes it: its band of a gemm (threads.ts) or its part of a convolution
 * (conv-threads.ts), as the control block's Kind slot says. Its own file so that threads.ts, which
 * conv-threads.ts builds on, does not import the convolution back.
 */
import { workerConvPart } from './conv-threads.js';
import { claimPart, JobKind, Slot, workerBand } from './threads.js';
import type { SharedBuffers } from './threads.js';

/**
 * Run helper `index`'s part of job `generation` (the one in the control block), from (and into) the
 * shared buffers. A convolution's part is run only if the calling thread has not taken it meanwhile.
 */
export function runWorkerJob(control: Int32Array, index: number, shared: SharedBuffers, generation: number): void {
  const threads = control[Slot.Threads];
  if (control[Slot.Kind] !== JobKind.Conv) workerBand(control, index, threads, shared);
  else if (claimPart(control, index, generation)) workerConvPart(control, index, threads, shared);
}
