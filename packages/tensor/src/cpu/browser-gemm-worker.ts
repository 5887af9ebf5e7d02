/**
 * A gemm helper thread in a browser (a Web Worker that browser-threads.ts starts): the loop of
 * gemm-worker.ts, with a Web Worker's messages in place of Node's port. It sleeps in Atomics.wait
 * (allowed in a worker), computes its part of the job (a band of a gemm, or a part of a convolution:
 * worker-jobs.ts), and reports in its "done" slot.
 *
 * Node's helper reads new shared buffers synchronously (receiveMessageOnPort); a Web Worker receives a
 * message only when it returns to its event loop. So when the shared count of buffers sent to it is
 * ahead of what it has received, it awaits the next message before computing.
 */
import { sharedViews, Slot } from './threads.js';
import { runWorkerJob } from './worker-jobs.js';
import type { SharedMatrix } from './threads.js';
import type { BrowserHelperInit } from './browser-threads.js';

interface Buffers { a: SharedArrayBuffer; b: SharedArrayBuffer; c: SharedArrayBuffer }
interface HelperScope { onmessage: ((event: { data: unknown }) => void) | null; postMessage(message: unknown): void }

const scope = globalThis as unknown as HelperScope;
const arrived: Buffers[] = [];
let wake: (() => void) | null = null;

scope.onmessage = ({ data }) => {
  if ((data as Partial<BrowserHelperInit>).control) { void serve(data as BrowserHelperInit); return; }
  arrived.push(data as Buffers);
  wake?.();
};

async function nextBuffers(): Promise<Buffers> {
  while (arrived.length === 0) await new Promise<void>((resolve) => { wake = resolve; });
  return arrived.shift()!;
}

async function serve({ control, sent, index, readySlot }: BrowserHelperInit): Promise<void> {
  const empty = (): SharedMatrix => sharedViews(new SharedArrayBuffer(0));
  let shared = { a: empty(), b: empty(), c: empty() };
  let received = 0;
  let seen = 0;
  Atomics.store(control, readySlot + index, 1);
  scope.postMessage('ready');
  for (;;) {
    Atomics.wait(control, Slot.Generation, seen);
    seen = Atomics.load(control, Slot.Generation);
    if (Atomics.load(control, Slot.Stop) === 1) break;
    while (received < Atomics.load(sent, index)) {
      const buffers = await nextBuffers();
      shared = { a: sharedViews(buffers.a), b: sharedViews(buffers.b), c: sharedViews(buffers.c) };
      received++;
    }
    runWorkerJob(control, index, shared, seen);
    Atomics.store(control, Slot.Done + index, seen);
    Atomics.notify(control, Slot.Done + index);
  }
}
