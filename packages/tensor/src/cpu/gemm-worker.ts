/**
 * A gemm worker thread (see threads.ts). It sleeps in Atomics.wait until the main thread bumps the
 * generation counter, computes its part of the job from the shared buffers (a band of a gemm's C, or
 * a part of a convolution: worker-jobs.ts), stores the generation in its "done" slot and wakes the
 * main thread. New (larger) shared buffers arrive as a message on its port, read synchronously with
 * receiveMessageOnPort before each job.
 */
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { sharedViews, Slot } from './threads.js';
import { runWorkerJob } from './worker-jobs.js';
import type { SharedMatrix } from './threads.js';

/** What threads.ts starts a worker with. */
interface WorkerInit { control: Int32Array; port: MessagePort; index: number }

const { control, port, index } = workerData as WorkerInit;
const empty = (): SharedMatrix => sharedViews(new SharedArrayBuffer(0));
let shared = { a: empty(), b: empty(), c: empty() };
let seen = 0;
Atomics.store(control, Slot.Ready + index, 1);
Atomics.notify(control, Slot.Ready + index);
for (;;) {
  Atomics.wait(control, Slot.Generation, seen);
  seen = Atomics.load(control, Slot.Generation);
  if (Atomics.load(control, Slot.Stop) === 1) break;
  for (let message = receiveMessageOnPort(port); message; message = receiveMessageOnPort(port)) {
    const buffers = message.message as { a: SharedArrayBuffer; b: SharedArrayBuffer; c: SharedArrayBuffer };
    shared = { a: sharedViews(buffers.a), b: sharedViews(buffers.b), c: sharedViews(buffers.c) };
  }
  runWorkerJob(control, index, shared, seen);
  Atomics.store(control, Slot.Done + index, seen);
  Atomics.notify(control, Slot.Done + index);
}
