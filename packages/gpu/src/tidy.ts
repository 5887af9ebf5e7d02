/**
 * Deterministic freeing of device memory.
 *
 * JavaScript frees a tensor object when nothing refers to it, but a texture is GPU memory that the
 * garbage collector neither sees nor counts: a training loop that makes a few hundred intermediate
 * tensors per step can exhaust the GPU long before the collector runs. So device storages are freed
 * explicitly — `storage.dispose()` for one tensor, or `tidy(fn)` for everything a block of code made:
 *
 *   const loss = tidy(() => model.trainStep(x, y));   // every intermediate of the step is freed;
 *                                                    // the returned tensor(s) are kept
 *
 * (A FinalizationRegistry in storage.ts still frees what escapes both, whenever the collector
 * notices; tidy makes it happen at a known point.)
 */
import type { Tensor } from '@gradlab/tensor';
import { GpuStorage, scopes } from './storage.js';

/** Anything a tidy block may return: the tensors found in it (arrays and plain objects are searched) are kept. */
export type Kept = Tensor | readonly unknown[] | object | number | string | boolean | void | null | undefined;

/**
 * Run `fn`; then dispose every gpu storage created during it, except those of the tensors it returns
 * (found in a returned tensor, array or plain object, to any depth). Scopes nest: what an inner
 * tidy keeps belongs to the enclosing one.
 */
export function tidy<T extends Kept>(fn: () => T): T {
  const scope = new Set<GpuStorage>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  const kept = new Set<unknown>();
  collectStorages(result, kept, new Set());
  for (const storage of scope) {
    if (kept.has(storage)) scopes[scopes.length - 1]?.add(storage);
    else storage.dispose();
  }
  return result;
}

/** Keep a tensor made inside tidy() out of the scope's clean-up, e.g. a parameter updated in place of another. */
export function keep<T extends Tensor>(x: T): T {
  for (const scope of scopes) scope.delete(x.storage as GpuStorage);
  return x;
}

function collectStorages(value: unknown, out: Set<unknown>, seen: Set<unknown>): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  const storage = (value as { storage?: unknown }).storage;
  if (storage instanceof GpuStorage) { out.add(storage); return; }
  if (Array.isArray(value)) { for (const v of value) collectStorages(v, out, seen); return; }
  if (Object.getPrototypeOf(value) === Object.prototype || (value as { data?: unknown }).data !== undefined) {
    for (const v of Object.values(value as Record<string, unknown>)) collectStorages(v, out, seen);
    const data = (value as { data?: unknown }).data;
    if (data !== undefined) collectStorages(data, out, seen);
  }
}
