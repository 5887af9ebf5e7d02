/**
 * Both cores for one matrix multiply. JavaScript runs on one thread, so gradlab keeps a small pool of
 * worker_threads and splits each large gemm between the main thread and the workers: C = A·B is cut
 * into bands of rows (or of columns when A has few rows), and each thread computes its bands with the
 * same single-threaded `gemm` (gemm.ts).
 *
 * Memory: workers cannot see the main thread's typed arrays, so A and B are copied into
 * SharedArrayBuffers (O(m·k + k·n) numbers, against O(m·n·k) multiply-adds of work) and each worker
 * writes its band of C into shared memory, which the main thread copies into place.
 *
 * Synchronisation: no messages per call. A shared Int32Array holds the job; the main thread bumps a
 * generation counter and wakes the workers with Atomics.notify, computes its own band, then sleeps in
 * Atomics.wait until every worker has stored the generation in its "done" slot. The whole exchange
 * costs tens of microseconds, and the copies in and out grow with m·k + k·n + m·n, so only gemms of at
 * least parallelMinWork() multiply-adds are split (see there for the figures behind it).
 *
 * Float32 products on the WebAssembly kernel (wasm/gemm-f32.ts) travel as float32, in float32 views of
 * the same shared buffers; every worker has its own instance of the kernel.
 *
 * The same pool runs the float32 convolutions, a part of the output per thread (conv-threads.ts): the
 * control block's Kind slot says which job the workers run (worker-jobs.ts), and poolFor, reserveShared,
 * startJob, claimPart and awaitWorker are what such a job kind builds on.
 *
 * GRADLAB_THREADS=1 (or setNumThreads(1)) turns this off; the default is one thread per core, at most 4.
 * Node's modules are looked up at run time (process.getBuiltinModule), not imported, so the same
 * code bundles for a browser. There the helpers are Web Workers (browser-threads.ts), used only where
 * gradlab itself runs in a Web Worker of a cross-origin-isolated page; elsewhere gemm stays on one thread.
 */
import type { MessagePort, Worker } from 'node:worker_threads';
import type { TypedArray } from '../dtype.js';
import { browserDefaultThreads, browserGemmHelpers, browserHelpersSettled } from './browser-threads.js';
import type { GemmHelpers } from './browser-threads.js';
import { gemm, setGemmKernel, useWasmGemm } from './gemm.js';
import { rowMajor } from './pack.js';
import { WASM_B_IN_PLACE_ROWS } from './wasm/gemm-f32.js';
import type { MatrixRef } from './pack.js';
import { gemmWorkerUrl } from './worker-url.js';
import { envVar } from '../env.js';

/**
 * The smallest gemm (in multiply-adds) worth splitting, for the float32 WebAssembly kernel: 2²⁵, about
 * 322³, ~0.8 ms of one core at ~42 GFLOPS. Below it the copies into shared memory and the worker's
 * wake-up cost more than the second core gives back. Measured on the 2-core development machine at load
 * < 1 (issue 13: `node bench/threads-sweep.mjs`, square float32 products with the split forced on, and
 * `node bench/models/compare.mjs --parts=matmul`): two threads ran at 0.5–0.75× one thread's speed at
 * 256³ (2²⁴), 0.55–1.2× at 288³, 1.1–1.6× at 352³–384³, 1.3–1.8× at 512³ and 1.5–2.0× at 1024³–2048³,
 * varying from run to run. An LSTM step's
 * [32,128]@[128,512] (2.1 M) took 2.18 ms of CPU on two threads against 1.35 ms on one
 * (bench/models/RESULTS.md).
 */
export const PARALLEL_MIN_WORK = 1 << 25;
/** The same for the float64 JavaScript kernel, ~10× slower a multiply-add: 2²², ~2 ms of one core. */
export const PARALLEL_MIN_WORK_JS = 1 << 22;
let minWorkOverride: number | null = null;

/** The smallest gemm (multiply-adds) that is split between threads, for float32 (WebAssembly) or other. */
export function parallelMinWork(float32Wasm: boolean): number {
  return minWorkOverride ?? (float32Wasm ? PARALLEL_MIN_WORK : PARALLEL_MIN_WORK_JS);
}

/**
 * Override the split threshold (tests and benchmarks of the threaded path): every product from `work`
 * multiply-adds is split, transposed operands or not (gatherPays); null restores the default rules.
 */
export function setParallelMinWork(work: number | null): void {
  if (work !== null && !(Number.isInteger(work) && work >= 0)) throw new Error(`setParallelMinWork: expected a non-negative integer or null, got ${work}`);
  minWorkOverride = work;
}

const MAX_WORKERS = 8;
/**
 * Layout of the shared control block (Int32Array slots). Worker w reports in Done + w. Kind says which
 * job the workers run (JobKind); a gemm's is in M … Float32, another kind's in the JOB_SLOTS from Job.
 * Claim + w says whether worker w's part of the job has been started, and by whom (claimPart).
 */
export const Slot = { Generation: 0, Stop: 1, M: 2, N: 3, K: 4, Split: 5, Threads: 6, Float32: 7, Done: 8, Ready: 16, Kind: 24, Job: 25, Claim: 49 } as const;
/** The jobs a worker can run: a band of a gemm (workerBand), or a part of a convolution (conv-threads.ts). */
export const JobKind = { Gemm: 0, Conv: 1 } as const;
/** How many slots a job kind other than gemm has for its parameters, from Slot.Job. */
export const JOB_SLOTS = Slot.Claim - Slot.Job;
const CONTROL_SLOTS = Slot.Claim + MAX_WORKERS;
/** How a job is split: each thread takes a band of rows of C, or a band of columns. */
const Split = { Rows: 0, Columns: 1 } as const;
/** How long a new worker may take to load gradlab and say it is ready before threads are given up. */
const READY_TIMEOUT_MS = 20_000;

/** The running pool: its helpers and the shared buffers every job reads and writes. */
export interface Pool extends GemmHelpers, SharedBuffers {
  generation: number;
}

/** Shared inputs (a, b) and output (c), grown on demand (and then re-sent to every worker). */
export interface SharedBuffers { a: SharedMatrix; b: SharedMatrix; c: SharedMatrix }

let requestedThreads = defaultThreads();
let pool: Pool | null = null;
let poolFailed = false;

/** Node's built-in modules when running on Node ≥ 20.16; undefined in a browser. */
function node() {
  const proc = (globalThis as { process?: NodeJS.Process }).process;
  if (typeof proc?.getBuiltinModule !== 'function') return undefined;
  return {
    threads: proc.getBuiltinModule('node:worker_threads'),
    os: proc.getBuiltinModule('node:os'),
    fs: proc.getBuiltinModule('node:fs'),
    url: proc.getBuiltinModule('node:url'),
    env: proc.env,
  };
}

/** GRADLAB_THREADS if set (a positive integer; above the maximum it is lowered, with a warning), else one per core, at most 4. */
function defaultThreads(): number {
  const n = node();
  if (!n) return browserDefaultThreads();
  const raw = envVar('GRADLAB_THREADS');
  if (raw === undefined) return Math.min(n.os.availableParallelism(), 4);
  const wanted = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || wanted < 1) {
    throw new Error(`GRADLAB_THREADS must be a positive integer (1 = the main thread only), got ${JSON.stringify(raw)}`);
  }
  if (wanted > MAX_WORKERS + 1) {
    if (n.threads.isMainThread) console.warn(`GRADLAB_THREADS=${raw}: gradlab uses at most ${MAX_WORKERS + 1} threads; using ${MAX_WORKERS + 1}`);
    return MAX_WORKERS + 1;
  }
  return wanted;
}

/** Use `n` threads (1 = main thread only) for later gemms. */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setNumThreads: expected a positive integer, got ${n}`);
  requestedThreads = Math.min(n, MAX_WORKERS + 1);
  shutdownThreads();
}

/** Whether the worker pool is running (it starts at the first large gemm). */
export function threadPoolActive(): boolean { return pool !== null; }

/** How many jobs the running pool has handed to its workers (0 without a pool): tests check a split with it. */
export function splitJobCount(): number { return pool?.generation ?? 0; }

/** How many threads gemm uses (the main thread included). */
export function numThreads(): number { return requestedThreads; }

/** Stop the workers (they are unref'd, so a process also exits without this). */
export function shutdownThreads(): void {
  if (!pool) return;
  Atomics.store(pool.control, Slot.Stop, 1);
  Atomics.add(pool.control, Slot.Generation, 1);
  Atomics.notify(pool.control, Slot.Generation);
  for (const w of pool.workers) void w.terminate();
  pool = null;
}

/** A shared buffer of `length` float64 (or twice as many float32), seen both ways. */
export interface SharedMatrix { f64: Float64Array; f32: Float32Array }

export function sharedViews(buffer: SharedArrayBuffer): SharedMatrix {
  return { f64: new Float64Array(buffer), f32: new Float32Array(buffer) };
}

function sharedMatrix(length: number): SharedMatrix {
  return sharedViews(new SharedArrayBuffer(Math.max(Math.ceil(length), 1) * 8));
}

/**
 * Resolves with the number of threads gemm will use once its helpers have started. In Node they start
 * at the first large gemm anyway; in a browser worker they load in the background, so the first gemms
 * run on one thread unless this is awaited first.
 */
export async function startThreads(): Promise<number> {
  if (requestedThreads <= 1 || poolFailed) return 1;
  pool ??= startPool(requestedThreads - 1);
  if (!pool && !poolFailed) { await browserHelpersSettled(); pool = startPool(requestedThreads - 1); }
  return pool ? pool.workers.length + 1 : 1;
}

function startPool(workerCount: number): Pool | null {
  const n = node();
  if (!n) {
    // a browser: null while the helpers load (gemm runs on one thread meanwhile), and for good where they cannot
    const helpers = browserGemmHelpers(workerCount, CONTROL_SLOTS, Slot.Ready);
    if (helpers === null) poolFailed = true;
    return helpers === null || helpers === 'loading' ? null : { ...helpers, a: sharedMatrix(0), b: sharedMatrix(0), c: sharedMatrix(0), generation: 0 };
  }
  if (!gemmWorkerUrl) { poolFailed = true; return null; }
  const workerUrl = gemmWorkerUrl;
  const { MessageChannel, Worker } = n.threads;
  try {
    if (workerUrl.protocol === 'file:' && !n.fs.existsSync(n.url.fileURLToPath(workerUrl))) throw new Error('no worker file');
    const control = new Int32Array(new SharedArrayBuffer(4 * CONTROL_SLOTS));
    const workers: Worker[] = [];
    const ports: MessagePort[] = [];
    for (let w = 0; w < workerCount; w++) {
      const { port1, port2 } = new MessageChannel();
      // execArgv []: the worker needs none of the main program's Node flags, and some (--input-type, --eval's)
      // make a worker fail to start.
      const worker = new Worker(workerUrl, { workerData: { control, port: port2, index: w }, transferList: [port2], execArgv: [] });
      worker.unref();
      port1.unref();
      workers.push(worker);
      ports.push(port1);
    }
    // A worker that cannot load would leave the main thread waiting forever: wait for each to say so.
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (let w = 0; w < workerCount; w++) {
      while (Atomics.load(control, Slot.Ready + w) !== 1) {
        const left = deadline - Date.now();
        if (left <= 0) { for (const worker of workers) void worker.terminate(); throw new Error('workers did not start'); }
        Atomics.wait(control, Slot.Ready + w, 0, Math.min(left, 100));
      }
    }
    return { workers, ports, control, a: sharedMatrix(0), b: sharedMatrix(0), c: sharedMatrix(0), generation: 0 };
  } catch {
    poolFailed = true; // e.g. the compiled worker file is missing: stay single-threaded
    return null;
  }
}

/**
 * Copy rows firstRow…rows−1 of a strided rows×cols matrix into the same rows of a row-major shared
 * buffer. A row-major source is one typed-array set() (a memory copy when the types match); only the
 * rows the workers read are copied (the main thread reads its own band from the caller's arrays).
 */
function copyMatrix(src: MatrixRef, rows: number, cols: number, dest: Float64Array | Float32Array, firstRow = 0): void {
  const { data, offset, rowStride, colStride } = src;
  if (colStride === 1 && (rowStride === cols || rows - firstRow <= 1)) {
    const start = offset + firstRow * rowStride; // row firstRow; the rows after it follow at once
    dest.set(data.subarray(start, start + (rows - firstRow) * cols), firstRow * cols);
    return;
  }
  let o = firstRow * cols;
  for (let i = firstRow; i < rows; i++) {
    let p = offset + i * rowStride;
    for (let j = 0; j < cols; j++, p += colStride) dest[o++] = data[p];
  }
}

/**
 * Whether a float32 product is still worth splitting once its transposed operands are counted. A
 * row-major operand reaches shared memory by memcpy, but a transposed one (Wᵀ in a Dense layer's
 * input gradient, xᵀ in its weight gradient) is gathered number by number, with strided reads that
 * miss the cache: ~5 ns a number here, against ~0.05 ns per multiply-add that the second thread takes
 * off the first (half of the product at the kernel's ~40 GFLOPS). The image model's Dense products
 * ([32,128]·Wᵀ [128,12544] and xᵀ [12544,32]·[32,128], 51 M multiply-adds each) took 5.1 and 3.5 ms on
 * one thread and 10.3 and 3.8 ms on two (issue 13); a 1024³ product with Bᵀ still gains. The JavaScript
 * kernel is ~10× slower a multiply-add, so for it the gather never decides.
 */
function gatherPays(m: number, n: number, k: number, a: MatrixRef, b: MatrixRef, f32: boolean): boolean {
  if (!f32 || minWorkOverride !== null) return true; // setParallelMinWork forces splits by size alone
  // A short A (a Dense layer's batch): each thread's time goes to bringing B in, not to arithmetic, and
  // the copy of B for the worker costs what the split saves. x [32, 12544]·W [12544, 128]: 3.9 ms on
  // one thread (B read in place, gemm-f32.ts), 4.6 on two.
  if (m <= WASM_B_IN_PLACE_ROWS && b.colStride === 1) return false;
  const gathered = (a.colStride === 1 ? 0 : m * k) + (b.colStride === 1 ? 0 : k * n);
  const GATHER_NS = 4, SAVED_NS_PER_MULTIPLY_ADD = 0.025;
  return gathered * GATHER_NS < m * n * k * SAVED_NS_PER_MULTIPLY_ADD;
}

/** The part of 0…total that thread `t` of `threads` takes, in multiples of `align`. */
export function band(total: number, threads: number, t: number, align: number): [number, number] {
  const chunks = Math.ceil(total / align);
  const start = Math.floor((chunks * t) / threads) * align;
  const end = Math.min(total, Math.floor((chunks * (t + 1)) / threads) * align);
  return [Math.min(start, total), end];
}

/**
 * The pool for a job of `work` multiply-adds, started if need be; null where the job stays on the
 * calling thread: threads off (1 thread), the job below parallelMinWork, or no pool possible here (a
 * browser page's main thread, a worker file that cannot load).
 */
export function poolFor(work: number, float32Wasm: boolean): Pool | null {
  const threads = requestedThreads;
  if (threads <= 1 || poolFailed || work < parallelMinWork(float32Wasm)) return null;
  pool ??= startPool(threads - 1);
  return pool;
}

/**
 * Make the shared buffers hold at least a, b and c numbers (float32 numbers when `float32`, else
 * float64): a bigger buffer is made, 1.25× what is asked, and sent to every worker.
 */
export function reserveShared(p: Pool, a: number, b: number, c: number, float32: boolean): void {
  const size = (count: number): number => (float32 ? Math.ceil(count / 2) : count); // in float64s
  if (p.a.f64.length >= size(a) && p.b.f64.length >= size(b) && p.c.f64.length >= size(c)) return;
  if (p.a.f64.length < size(a)) p.a = sharedMatrix(size(a) * 1.25);
  if (p.b.f64.length < size(b)) p.b = sharedMatrix(size(b) * 1.25);
  if (p.c.f64.length < size(c)) p.c = sharedMatrix(size(c) * 1.25);
  for (const port of p.ports) port.postMessage({ a: p.a.f64.buffer, b: p.b.f64.buffer, c: p.c.f64.buffer });
}

/**
 * Wake the workers for the job of kind `kind` whose parameters the caller has written into the control
 * block (and its inputs into the shared buffers). Returns the job's generation, for awaitWorker and
 * claimPart. With offerParts false, every worker finds its part already claimed (tests of the calling
 * thread doing the workers' parts).
 */
export function startJob(p: Pool, kind: number, offerParts = true): number {
  const ctl = p.control;
  ctl[Slot.Kind] = kind;
  ctl[Slot.Threads] = p.workers.length + 1;
  const generation = ++p.generation;
  for (let w = 0; w < p.workers.length; w++) Atomics.store(ctl, Slot.Claim + w, claimTag(generation) + (offerParts ? 0 : 1));
  Atomics.store(ctl, Slot.Generation, generation);
  Atomics.notify(ctl, Slot.Generation);
  return generation;
}

/** Claim + w holds 2·generation while worker w's part of that job is unclaimed, 2·generation + 1 once claimed. */
function claimTag(generation: number): number { return (generation % (1 << 29)) * 2; }

/**
 * Take worker w's part of job `generation` for the calling thread (the worker's own call, or the caller's
 * when it has finished its part and the worker has not started: a worker that another program keeps off
 * the second core then costs no waiting). True for exactly one caller; false also for a worker that wakes
 * for a job that is over. Conv jobs use it; a gemm's bands are always left to the workers.
 */
export function claimPart(ctl: Int32Array, w: number, generation: number): boolean {
  const open = claimTag(generation);
  return Atomics.compareExchange(ctl, Slot.Claim + w, open, open + 1) === open;
}

/** Sleep until worker w has finished the job of `generation` (its results are then in the shared buffers). */
export function awaitWorker(p: Pool, w: number, generation: number): void {
  const ctl = p.control;
  while (Atomics.load(ctl, Slot.Done + w) !== generation) Atomics.wait(ctl, Slot.Done + w, Atomics.load(ctl, Slot.Done + w), 1000);
}

/**
 * C (+)= A·B like `gemm`, on every thread of the pool when the product is large enough.
 * A is m×k, B is k×n (any strides), C is row-major m×n at cOffset.
 */
export function parallelGemm(m: number, n: number, k: number, a: MatrixRef, b: MatrixRef, c: TypedArray, cOffset = 0, accumulate = false): void {
  // float32 for the WebAssembly kernel; otherwise float64, which the JS kernel computes in anyway
  const f32 = c instanceof Float32Array && useWasmGemm();
  const p = gatherPays(m, n, k, a, b, f32) ? poolFor(m * n * k, f32) : null;
  if (!p) return gemm(m, n, k, a, b, c, cOffset, accumulate);
  const threads = p.workers.length + 1;
  // Cut along the longer side of C: every thread packs all of B for a row band (all of A for a column
  // band), so a short, wide product (an LSTM step: [32, u] @ [u, 4u]) is better cut into columns.
  const split = m >= n && m >= 8 * threads ? Split.Rows : n >= 8 * threads ? Split.Columns : Split.Rows;
  const workers = p.workers.length;

  // Shared copies of the inputs (the buffers grow when they are too small).
  reserveShared(p, m * k, k * n, m * n, false);
  const sharedA = f32 ? p.a.f32 : p.a.f64, sharedC = f32 ? p.c.f32 : p.c.f64;
  // a row band leaves A's first band (the main thread's) out; a column band needs all of A
  copyMatrix(a, m, k, sharedA, split === Split.Rows ? band(m, workers + 1, 1, 4)[0] : 0);
  copyMatrix(b, k, n, f32 ? p.b.f32 : p.b.f64);
  const ctl = p.control;
  ctl[Slot.M] = m; ctl[Slot.N] = n; ctl[Slot.K] = k; ctl[Slot.Split] = split;
  ctl[Slot.Float32] = f32 ? 1 : 0;
  const generation = startJob(p, JobKind.Gemm);

  // The main thread's band (thread 0) straight into the caller's C, from the caller's own A and B.
  const threadsTotal = threads;
  if (split === Split.Rows) {
    const [r0, r1] = band(m, threadsTotal, 0, 4);
    gemm(r1 - r0, n, k, a, b, c, cOffset, accumulate);
  } else {
    const [c0, c1] = band(n, threadsTotal, 0, 8);
    const tmp = f32 ? new Float32Array(m * (c1 - c0)) : new Float64Array(m * (c1 - c0));
    gemm(m, c1 - c0, k, a, { ...b, offset: b.offset + c0 * b.colStride }, tmp, 0, false);
    scatterColumns(tmp, m, c0, c1, n, c, cOffset, accumulate);
  }

  // Wait for every worker, then place their bands.
  for (let w = 0; w < workers; w++) {
    awaitWorker(p, w, generation);
    if (split === Split.Rows) {
      const [r0, r1] = band(m, threadsTotal, w + 1, 4);
      const from = r0 * n, to = r1 * n;
      if (accumulate) for (let i = from; i < to; i++) c[cOffset + i] += sharedC[i];
      else for (let i = from; i < to; i++) c[cOffset + i] = sharedC[i];
    } else {
      const [c0, c1] = band(n, threadsTotal, w + 1, 8);
      // the worker wrote its columns into p.c as a row-major m×n matrix
      for (let i = 0; i < m; i++) {
        for (let j = c0; j < c1; j++) c[cOffset + i * n + j] = (accumulate ? c[cOffset + i * n + j] : 0) + sharedC[i * n + j];
      }
    }
  }
}

function scatterColumns(tmp: Float64Array | Float32Array, m: number, c0: number, c1: number, n: number, c: TypedArray, cOffset: number, accumulate: boolean): void {
  const w = c1 - c0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < w; j++) {
      const at = cOffset + i * n + c0 + j;
      c[at] = (accumulate ? c[at] : 0) + tmp[i * w + j];
    }
  }
}

/** What a worker runs for one job: its band of C = A·B from the shared buffers. */
export function workerBand(ctl: Int32Array, index: number, threadsTotal: number, shared: { a: SharedMatrix; b: SharedMatrix; c: SharedMatrix }): void {
  const m = ctl[Slot.M], n = ctl[Slot.N], k = ctl[Slot.K];
  const f32 = ctl[Slot.Float32] === 1;
  // float32 jobs are the WebAssembly kernel's (the main thread chose it); float64 ones the JS kernel's
  if (f32) setGemmKernel('wasm');
  const a = f32 ? shared.a.f32 : shared.a.f64, b = f32 ? shared.b.f32 : shared.b.f64, c = f32 ? shared.c.f32 : shared.c.f64;
  if (ctl[Slot.Split] === Split.Rows) {
    const [r0, r1] = band(m, threadsTotal, index + 1, 4);
    if (r1 > r0) gemm(r1 - r0, n, k, rowMajor(a, k, r0 * k), rowMajor(b, n), c, r0 * n, false);
  } else {
    const [c0, c1] = band(n, threadsTotal, index + 1, 8);
    if (c1 <= c0) return;
    // columns c0…c1 of B, written into the same columns of C (row stride n)
    const tmp = f32 ? new Float32Array(m * (c1 - c0)) : new Float64Array(m * (c1 - c0));
    gemm(m, c1 - c0, k, rowMajor(a, k), { data: b, offset: c0, rowStride: n, colStride: 1 }, tmp, 0, false);
    for (let i = 0; i < m; i++) for (let j = c0; j < c1; j++) c[i * n + j] = tmp[i * (c1 - c0) + j - c0];
  }
}
