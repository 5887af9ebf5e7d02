/**
 * gemm's helper threads in a browser: Web Workers over SharedArrayBuffer, for threads.ts's pool.
 *
 * Two rules of the web decide when: SharedArrayBuffer exists only in a cross-origin-isolated context
 * (the page sent `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`),
 * and Atomics.wait, which the pool's caller sleeps in while the helpers finish, is refused on a page's
 * main thread. So gradlab uses threads only when it runs in a Web Worker of an isolated page (training in
 * a worker, as models.postProgress describes); anywhere else gemm stays on one thread.
 *
 * A new Web Worker only starts once its creator yields to its event loop, so the creator cannot block
 * until the helpers are up, as Node's pool does: the first large gemm starts them and runs on one thread,
 * later ones use them once every helper has said it is ready (`startThreads()` waits for that).
 *
 * Shared buffers arrive at a helper as messages, which it can read only when it yields too: each
 * helper's count of buffers sent is kept in shared memory, and a helper that is behind waits for the
 * message before it computes (browser-gemm-worker.ts).
 */
import { browserGemmWorkerUrl } from './worker-url.js';

/** What threads.ts's pool needs from its helpers. */
export interface GemmHelpers {
  control: Int32Array;
  workers: Array<{ terminate(): void }>;
  ports: Array<{ postMessage(message: unknown): void }>;
}

/** What a helper is started with (its first message). */
export interface BrowserHelperInit { control: Int32Array; sent: Int32Array; index: number; readySlot: number }

const READY_TIMEOUT_MS = 20_000;

interface Loading { helpers: GemmHelpers; readySlot: number; deadline: number; failed: boolean; settled: Promise<void> }
let loading: Loading | null = null;

interface WorkerScope { WorkerGlobalScope?: new () => unknown; crossOriginIsolated?: boolean; Worker?: new (url: URL, options: { type: 'module' }) => BrowserWorker; navigator?: { hardwareConcurrency?: number } }
interface BrowserWorker { postMessage(message: unknown): void; terminate(): void; onerror: ((event: { message?: string }) => void) | null; onmessage: ((event: { data: unknown }) => void) | null }

/** Whether helper threads can run here: in a Web Worker of a cross-origin-isolated page, with the helper's file known. */
export function browserThreadsPossible(): boolean {
  const scope = globalThis as WorkerScope;
  return typeof scope.WorkerGlobalScope === 'function' && globalThis instanceof scope.WorkerGlobalScope &&
    scope.crossOriginIsolated === true && typeof scope.Worker === 'function' && browserGemmWorkerUrl !== null;
}

/** The default thread count in a browser: one per core, at most 4, where threads are possible; else 1. */
export function browserDefaultThreads(): number {
  if (!browserThreadsPossible()) return 1;
  return Math.max(1, Math.min((globalThis as WorkerScope).navigator?.hardwareConcurrency ?? 1, 4));
}

/**
 * `count` helpers with a control block of `controlSlots` Int32 slots (helper w says it is ready in
 * readySlot + w): the helpers once all are ready, 'loading' while they start, null where they cannot
 * (not possible here, an error while loading, or not ready within 20 s).
 */
export function browserGemmHelpers(count: number, controlSlots: number, readySlot: number): GemmHelpers | 'loading' | null {
  if (!browserThreadsPossible()) return null;
  if (loading && loading.helpers.workers.length !== count) cancel(loading);
  loading ??= spawn(count, controlSlots, readySlot);
  const current = loading;
  const ready = current.helpers.workers.every((_, w) => Atomics.load(current.helpers.control, readySlot + w) === 1);
  if (ready) { loading = null; return current.helpers; }
  if (current.failed || Date.now() > current.deadline) { cancel(current); return null; }
  return 'loading';
}

/** Resolves when the helpers that are loading are ready or have failed (at once when none are loading). */
export function browserHelpersSettled(): Promise<void> {
  return loading?.settled ?? Promise.resolve();
}

function cancel(current: Loading): void {
  for (const worker of current.helpers.workers) worker.terminate();
  if (loading === current) loading = null;
}

function spawn(count: number, controlSlots: number, readySlot: number): Loading {
  const Worker = (globalThis as WorkerScope).Worker!;
  const control = new Int32Array(new SharedArrayBuffer(4 * controlSlots));
  const sent = new Int32Array(new SharedArrayBuffer(4 * count));
  const workers: BrowserWorker[] = [];
  let settle = (): void => undefined;
  const settled = new Promise<void>((resolve) => { settle = resolve; });
  const current: Loading = { helpers: { control, workers, ports: [] }, readySlot, deadline: Date.now() + READY_TIMEOUT_MS, failed: false, settled };
  let readyCount = 0;
  const timer = setTimeout(() => { current.failed = true; settle(); }, READY_TIMEOUT_MS);
  for (let index = 0; index < count; index++) {
    const worker = new Worker(browserGemmWorkerUrl!, { type: 'module' });
    // a helper that cannot load (its file missing, a policy refusing it) leaves gemm on one thread
    worker.onerror = () => { current.failed = true; clearTimeout(timer); settle(); };
    worker.onmessage = () => { if (++readyCount === count) { clearTimeout(timer); settle(); } };
    worker.postMessage({ control, sent, index, readySlot } satisfies BrowserHelperInit);
    workers.push(worker);
    // the helper's count of buffers sent goes up before the message leaves, so it knows to wait for it
    current.helpers.ports.push({ postMessage: (message) => { Atomics.add(sent, index, 1); worker.postMessage(message); } });
  }
  return current;
}
