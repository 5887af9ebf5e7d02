/**
 * Recycling the CPU's typed arrays from one step to the next.
 *
 * Why: every op returns a fresh typed array, and the first write to each fresh 4 KiB page of memory
 * costs the operating system a page fault. On the virtual machines gradlab is measured on that is
 * 7–14 µs a page, so a [32, 62, 62, 32] float32 activation (16 MB) costs ~55 ms before a single number
 * is computed: more than the convolution that fills it (docs/performance.md). PyTorch keeps freed blocks
 * in a caching allocator and TF.js reuses its WebAssembly memory, both knowing when a tensor dies from
 * reference counts or explicit dispose(). JavaScript says nothing about when an array becomes garbage,
 * so gradlab recycles where it does know: at the end of a step that it runs itself (a training,
 * evaluation or prediction step of a layers model, see `recycleAfter`). Everything that step allocated
 * is garbage then, except what the caller names to keep: the model's weights and their gradients, the
 * optimizer's state, the step's results.
 *
 * Three rules keep this safe:
 *   1. Only arrays that `allocate` made inside the step are recycled: never an array a user handed in,
 *      and never one handed out to user code (pinned: dataSync() returns the array itself).
 *   2. An array whose ArrayBuffer backs anything kept is not recycled (views and subarrays included).
 *   3. A tensor whose array was recycled is marked: reading it afterwards throws an error that says so,
 *      where silently showing the next step's numbers would be the worst possible bug.
 *
 * A recycled array is handed out again by `allocate` (zero-filled, as a fresh one is) for the next
 * array of the same dtype and length. Arrays that wait through a whole step unused are dropped, so the
 * pool holds at most one step's worth.
 */
import type { DType, TypedArray } from './dtype.js';
import type { CpuStorage } from './storage.js';

/** What one step allocated: its arrays (from `allocate`) and the CPU storages made around any array. */
interface Step {
  readonly owner: string;
  readonly arrays: TypedArray[];
  readonly storages: CpuStorage[];
  /** Arrays disposed during the step: free for its end's pool, not leftovers of the step before. */
  readonly disposed: TypedArray[];
}

let current: Step | null = null;
let enabled = true;
/** Free arrays by `${dtype}:${length}`, and those left over from the step before (dropped at the next). */
let free = new Map<string, TypedArray[]>();

const keyOf = (dtype: DType, length: number): string => `${dtype}:${length}`;

/** Turn recycling on or off (on by default); off also empties the pool. */
export function setBufferRecycling(on: boolean): void {
  if (typeof on !== 'boolean') throw new Error(`setBufferRecycling: expected true or false, got ${String(on)}`);
  enabled = on;
  if (!on) free = new Map();
}

/** Whether steps recycle their arrays (setBufferRecycling). */
export function bufferRecycling(): boolean { return enabled; }

/** How many arrays, and bytes, wait in the pool now (for tests and memory reports). */
export function recycledBuffers(): { arrays: number; bytes: number } {
  let arrays = 0, bytes = 0;
  for (const list of free.values()) for (const a of list) { arrays++; bytes += a.byteLength; }
  return { arrays, bytes };
}

/** A recycled array of this dtype and length, zero-filled, if the pool has one (called by `allocate`). */
export function takeRecycled(dtype: DType, length: number): TypedArray | undefined {
  const list = free.get(keyOf(dtype, length));
  const array = list?.pop();
  if (array === undefined) return undefined;
  array.fill(0);
  noteAllocated(array); // allocated in this step: recycled again at its end unless kept
  return array;
}

/** Arrays `allocate` made: the only ones ever recycled (never an array a user handed in). */
const ours = new WeakSet<TypedArray>();

/** `allocate` reports every fresh array here, so that the running step can recycle it. */
export function noteAllocated(array: TypedArray): void {
  ours.add(array);
  current?.arrays.push(array);
}

/**
 * A disposed storage's array, free for reuse at once (the optimizer disposes the state it replaced).
 * Returns false, recycling nothing, for an array `allocate` did not make.
 */
export function recycleDisposed(array: TypedArray): boolean {
  if (!enabled || !ours.has(array)) return false;
  ours.delete(array); // once only
  if (current) current.disposed.push(array);
  else addTo(free, array);
  return true;
}

function addTo(pool: Map<string, TypedArray[]>, array: TypedArray): void {
  const key = keyOf(dtypeOfArray(array), array.length);
  let list = pool.get(key);
  if (!list) pool.set(key, (list = []));
  list.push(array);
}

/** Every CPU storage reports itself here, so that the running step can mark it if its array is recycled. */
export function noteStorage(storage: CpuStorage): void { current?.storages.push(storage); }

/**
 * Run `step` (synchronous), then recycle every array it allocated except those behind the tensors
 * `keep(result)` lists. `owner` names the step in the error a recycled tensor gives when read. Nested
 * calls join the outer step (its end recycles); a step that throws recycles nothing.
 */
export function recycleAfter<T>(owner: string, step: () => T, keep: (result: T) => Iterable<{ storage: unknown } | null | undefined>): T {
  if (!enabled || current !== null) return step();
  const mine: Step = { owner, arrays: [], storages: [], disposed: [] };
  current = mine;
  let result: T;
  try {
    result = step();
  } finally {
    current = null;
  }
  const kept = new Set<ArrayBufferLike>();
  for (const t of keep(result)) {
    const storage = t?.storage as { backend?: string; unsafeArray?: () => TypedArray } | undefined;
    if (storage === undefined) continue;
    // A device's storage may cache a download in an array this step allocated: recycle nothing.
    if (storage.backend !== 'cpu' || !storage.unsafeArray) return result;
    kept.add(storage.unsafeArray().buffer);
  }
  // an array handed to user code (dataSync(), stateDict()) keeps its values: never recycled
  for (const storage of mine.storages) if (storage.pinned) kept.add(storage.unsafeArray().buffer);
  const next = new Map<string, TypedArray[]>();
  const recycled = new Set<ArrayBufferLike>();
  for (const array of mine.arrays) {
    if (kept.has(array.buffer) || recycled.has(array.buffer)) continue;
    recycled.add(array.buffer);
    addTo(next, array);
  }
  for (const array of mine.disposed) if (!recycled.has(array.buffer) && !kept.has(array.buffer)) addTo(next, array);
  for (const storage of mine.storages) {
    if (recycled.has(storage.unsafeArray().buffer)) storage.markRecycled(owner);
  }
  free = next; // what the step before left unused is dropped here
  return result;
}

function dtypeOfArray(array: TypedArray): DType {
  return array instanceof Float32Array ? 'float32' : array instanceof Float64Array ? 'float64' : 'int32';
}
