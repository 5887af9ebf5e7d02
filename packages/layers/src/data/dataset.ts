/**
 * Dataset: a lazy sequence of elements, as tf.data's (and TF.js's tf.data): made from tensors, arrays
 * or generators, transformed by chaining (map, shuffle, batch, repeat, take, skip, prefetch,
 * bucketBySequenceLength), and read by `for await (const e of ds)`, by fit, evaluate and predict.
 *
 * Lazy: a dataset holds only how to make its elements. Each iteration (each epoch of fit) calls the
 * source again and pulls elements one at a time; shuffle holds its buffer, batch one batch, prefetch its
 * few batches, and nothing else is kept. A dataset over 60,000 images stores the images' bytes once and
 * makes each float batch when the step needs it.
 *
 *   const ds = Dataset.fromTensorSlices(x, y).shuffle(1000, { seed: 1 }).batch(32).prefetch(2);
 *   await model.fit(ds, { epochs: 5 });
 *
 * `size` is the number of elements when it is known without reading them (Keras's cardinality): known
 * through fromTensorSlices, fromArray, range, map, shuffle, batch, take, skip and prefetch, Infinity
 * after repeat(), and null after a generator, filter or bucketBySequenceLength.
 */
import { Random, Tensor, fromTypedArray, globalRandom } from '@gradlab/tensor';
import { stackExamples } from './batching.js';
import type { BatchOf, BatchOptions, Example, StructuredExample } from './batching.js';
import { describeLayout, layoutOf, leafName, leavesOf, rebuild } from './structure.js';
import type { Nest } from './structure.js';
import { batchBounds } from './bounds.js';

type AnyIterator<T> = Iterator<T> | AsyncIterator<T>;
type Source<T> = () => AnyIterator<T>;
/**
 * What fromGenerator accepts: a function giving a generator, an iterator or an iterable (sync or async).
 * It is called once per iteration with the iteration's number: 0 the first time, then 1, 2, …
 */
export type GeneratorSource<T> = (iteration: number) => AnyIterator<T> | Iterable<T> | AsyncIterable<T>;

function argumentError(op: string, what: string): Error { return new Error(`Dataset.${op}: ${what}`); }

function checkCount(op: string, name: string, n: number, allowInfinity = false): void {
  const ok = (Number.isInteger(n) && n >= 0) || (allowInfinity && n === Infinity);
  if (!ok) throw argumentError(op, `${name} must be a non-negative integer${allowInfinity ? ' or Infinity' : ''}, got ${n}`);
}

function toIterator<T>(made: AnyIterator<T> | Iterable<T> | AsyncIterable<T>): AnyIterator<T> {
  if (made && typeof (made as AsyncIterable<T>)[Symbol.asyncIterator] === 'function') return (made as AsyncIterable<T>)[Symbol.asyncIterator]();
  if (made && typeof (made as Iterable<T>)[Symbol.iterator] === 'function') return (made as Iterable<T>)[Symbol.iterator]();
  if (made && typeof (made as AnyIterator<T>).next === 'function') return made as AnyIterator<T>;
  throw argumentError('fromGenerator', `the function returned ${String(made)}; expected a generator, an iterator or an iterable`);
}

/** A tensor's row i (a [] tensor for a 1-D tensor), copied from host values. */
function rowOf(values: ArrayLike<number> & { subarray(a: number, b: number): unknown; slice(a: number, b: number): unknown }, shape: readonly number[], i: number): Tensor {
  const rest = shape.slice(1);
  const size = rest.reduce((a, b) => a * b, 1);
  return fromTypedArray(values.slice(i * size, (i + 1) * size) as Float32Array, rest);
}

/** How many batches batch() makes of n examples (a lone last example joins the batch before it). */
function batchCount(n: number, batchSize: number, dropRemainder: boolean): number {
  if (dropRemainder) return Math.floor(n / batchSize);
  const joins = batchSize > 1 && n > batchSize && n % batchSize === 1;
  return Math.ceil(n / batchSize) - (joins ? 1 : 0);
}

export class Dataset<T> implements AsyncIterable<T> {
  /** Elements per iteration when known without reading them; Infinity after repeat(); null when unknown. */
  readonly size: number | null;
  private readonly source: Source<T>;

  constructor(source: Source<T>, size: number | null = null) {
    this.source = source;
    this.size = size;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    const it = this.source();
    try {
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    } finally {
      await it.return?.();
    }
  }

  // ---- sources --------------------------------------------------------------------------------------

  /**
   * One element per row of x (and y, mask, sampleWeight, sliced alike): tf.data's from_tensor_slices.
   * x, y and sampleWeight may each be a list of tensors or an object of them keyed by name (a model with
   * several inputs or outputs); every tensor is sliced along its first axis, so all must have the same
   * number of rows. The tensors' values are read once, on the host, when the first element is asked for.
   */
  static fromTensorSlices(x: Tensor, y?: Tensor, extra?: { mask?: Tensor; sampleWeight?: Tensor }): Dataset<Example>;
  static fromTensorSlices(x: Nest<Tensor>, y?: Nest<Tensor>, extra?: { mask?: Tensor; sampleWeight?: Nest<Tensor> }): Dataset<StructuredExample>;
  static fromTensorSlices(x: Nest<Tensor>, y?: Nest<Tensor>, extra: { mask?: Tensor; sampleWeight?: Nest<Tensor> } = {}): Dataset<StructuredExample> {
    const given: Array<[keyof StructuredExample, Nest<Tensor> | undefined]> = [['x', x], ['y', y], ['mask', extra.mask], ['sampleWeight', extra.sampleWeight]];
    const fields = given.filter((f): f is [keyof StructuredExample, Nest<Tensor>] => f[1] !== undefined)
      .map(([name, value]) => ({ name, layout: layoutOf(value), leaves: leavesOf(value) }));
    let rows: { n: number; from: string } | null = null; // the first tensor's rows: every other must match
    for (const { name, layout, leaves } of fields) {
      if (leaves.length === 0 || (name === 'mask' && layout.kind !== 'one')) {
        throw argumentError('fromTensorSlices', `${name} is ${describeLayout(layout)}; ${name === 'mask' ? 'the mask must be one Tensor' : 'it needs at least one Tensor'}`);
      }
      leaves.forEach((t, k) => {
        const what = leafName(name, layout, k);
        if (!(t instanceof Tensor)) throw argumentError('fromTensorSlices', `${what} must be a Tensor, got ${String(t)}`);
        if (t.rank === 0) throw argumentError('fromTensorSlices', `${what} is a scalar; it needs a first axis to slice`);
        rows ??= { n: t.shape[0], from: what };
        if (t.shape[0] !== rows.n) {
          throw argumentError('fromTensorSlices', `${what} has ${t.shape[0]} rows along its first axis and ${rows.from} has ${rows.n}; they must match`);
        }
      });
    }
    const n = rows!.n;
    return new Dataset<StructuredExample>(() => (async function* () {
      const values = await Promise.all(fields.map((f) => Promise.all(f.leaves.map((t) => t.data()))));
      for (let i = 0; i < n; i++) {
        const e = {} as StructuredExample;
        fields.forEach(({ name, layout, leaves }, k) => { e[name] = rebuild(layout, leaves.map((t, j) => rowOf(values[k][j], t.shape, i))) as Tensor; });
        yield e;
      }
    })(), n);
  }

  /** The elements of an array, in order (TF.js's tf.data.array). The array is not copied. */
  static fromArray<T>(items: readonly T[]): Dataset<T> {
    if (!Array.isArray(items)) throw argumentError('fromArray', `expected an array, got ${String(items)}`);
    return new Dataset<T>(() => items[Symbol.iterator](), items.length);
  }

  /** 0, 1, …, n−1. */
  static range(n: number): Dataset<number> {
    checkCount('range', 'n', n);
    return new Dataset<number>(() => (function* () { for (let i = 0; i < n; i++) yield i; })(), n);
  }

  /**
   * The elements a function's generator or iterator yields, sync or async (tf.data's from_generator,
   * TF.js's tf.data.generator). The function is called again for each iteration, with the number of
   * that iteration (0, 1, 2, …). fit reads its training dataset once per epoch, so a generator that
   * seeds its randomness with the number makes each epoch's elements anew and reproducibly — fresh
   * augmentation every epoch, the same in every run:
   *
   *   Dataset.fromGenerator(function* (epoch) { const rng = new Random(seed + epoch); … yield augment(e, rng); })
   *
   * (tf.data would write a map with a random op and a seed; here the generator owns its generator.)
   * The count is the dataset's own: anything else that reads the same dataset (a second fit, a callback
   * iterating it) advances it too.
   */
  static fromGenerator<T>(make: GeneratorSource<T>): Dataset<T> {
    if (typeof make !== 'function') throw argumentError('fromGenerator', `expected a function returning a generator, got ${String(make)}`);
    let iteration = 0;
    return new Dataset<T>(() => toIterator(make(iteration++)));
  }

  // ---- transforms -------------------------------------------------------------------------------

  /** f applied to each element, in order (it may be async; index counts from 0 in each iteration). */
  map<U>(f: (element: T, index: number) => U | Promise<U>): Dataset<U> {
    if (typeof f !== 'function') throw argumentError('map', `expected a function, got ${String(f)}`);
    return new Dataset<U>(() => (async function* (this: Dataset<T>) {
      let i = 0;
      for await (const e of this) yield await f(e, i++);
    }).call(this), this.size);
  }

  /** The elements for which keep() is true. */
  filter(keep: (element: T) => boolean | Promise<boolean>): Dataset<T> {
    if (typeof keep !== 'function') throw argumentError('filter', `expected a function, got ${String(keep)}`);
    return new Dataset<T>(() => (async function* (this: Dataset<T>) {
      for await (const e of this) if (await keep(e)) yield e;
    }).call(this), this.size === Infinity ? Infinity : null);
  }

  /** The first n elements. */
  take(n: number): Dataset<T> {
    checkCount('take', 'n', n, true);
    return new Dataset<T>(() => (async function* (this: Dataset<T>) {
      if (n === 0) return;
      let i = 0;
      for await (const e of this) {
        yield e;
        if (++i >= n) return;
      }
    }).call(this), this.size === null ? null : Math.min(this.size, n));
  }

  /** All but the first n elements. */
  skip(n: number): Dataset<T> {
    checkCount('skip', 'n', n);
    return new Dataset<T>(() => (async function* (this: Dataset<T>) {
      let i = 0;
      for await (const e of this) if (i++ >= n) yield e;
    }).call(this), this.size === null ? null : Math.max(0, this.size - n));
  }

  /** The whole dataset `count` times over (default: forever); each pass is a fresh iteration (a new shuffle). */
  repeat(count = Infinity): Dataset<T> {
    checkCount('repeat', 'count', count, true);
    return new Dataset<T>(() => (async function* (this: Dataset<T>) {
      for (let pass = 0; pass < count; pass++) {
        let any = false;
        for await (const e of this) { any = true; yield e; }
        if (!any) return; // an empty dataset repeated forever is still empty
      }
    }).call(this), this.size === null ? null : this.size === 0 ? 0 : this.size * count);
  }

  /**
   * tf.data's shuffle: a buffer of `bufferSize` elements; each output is a uniformly chosen element of
   * the buffer, replaced by the next input. A buffer as large as the dataset gives a full shuffle; a
   * smaller one mixes only elements that are close (and holds only that many in memory).
   * With `seed`, the orders are reproducible; each iteration (epoch) still gets a new order unless
   * reshuffleEachIteration is false. Without a seed, the global generator (setSeed) draws.
   */
  shuffle(bufferSize: number, options: { seed?: number; reshuffleEachIteration?: boolean } = {}): Dataset<T> {
    if (!(Number.isInteger(bufferSize) && bufferSize >= 1)) throw argumentError('shuffle', `bufferSize must be a positive integer, got ${bufferSize}`);
    const reshuffle = options.reshuffleEachIteration ?? true;
    // Seeded and reshuffling: one generator advancing over the iterations, so epoch k's order is the
    // same in every run but differs from epoch k−1's. Seeded, not reshuffling: each iteration restarts it.
    const shared = options.seed !== undefined && reshuffle ? new Random(options.seed) : null;
    return new Dataset<T>(() => {
      const rng = options.seed === undefined ? globalRandom : shared ?? new Random(options.seed);
      return (async function* (this: Dataset<T>) {
        const buffer: T[] = [];
        for await (const e of this) {
          if (buffer.length < bufferSize) { buffer.push(e); continue; }
          const k = rng.int(bufferSize);
          const out = buffer[k];
          buffer[k] = e;
          yield out;
        }
        while (buffer.length > 0) {
          const k = rng.int(buffer.length);
          const out = buffer[k];
          buffer[k] = buffer[buffer.length - 1];
          buffer.pop();
          yield out;
        }
      }).call(this);
    }, this.size);
  }

  /**
   * Stack `batchSize` examples into one batch (see batching.ts: sequences are padded to the longest in
   * the batch, with the mask). The last batch may be smaller; with dropRemainder it is dropped. A last
   * batch of a single example joins the batch before it (as fit does for tensors: BatchNormalization
   * cannot normalise one example), unless dropRemainder or batchSize 1. Examples whose x or y are lists
   * or objects (several inputs or outputs) give batches of the same lists or objects of tensors.
   */
  batch<E extends StructuredExample>(this: Dataset<E>, batchSize: number, options: BatchOptions & { dropRemainder?: boolean } = {}): Dataset<BatchOf<E>> {
    if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw argumentError('batch', `batchSize must be a positive integer, got ${batchSize}`);
    const drop = options.dropRemainder ?? false;
    const size = this.size === null || this.size === Infinity ? this.size : batchCount(this.size, batchSize, drop);
    const stack = (examples: E[]) => stackExamples(examples, options) as Promise<BatchOf<E>>;
    return new Dataset<BatchOf<E>>(() => (async function* (this: Dataset<E>) {
      let pending: E[] = [];
      let full: E[] | null = null; // a full batch held back until we know whether one example follows alone
      for await (const e of this) {
        pending.push(e);
        if (pending.length < batchSize) continue;
        if (full) yield await stack(full);
        full = pending;
        pending = [];
      }
      if (full && pending.length === 1 && batchSize > 1 && !drop) { yield await stack([...full, ...pending]); return; }
      if (full) yield await stack(full);
      if (pending.length > 0 && !drop) yield await stack(pending);
    }).call(this), size);
  }

  /**
   * tf.data's bucket_by_sequence_length: examples go to a bucket by their length (bucket i holds lengths
   * in [boundaries[i−1], boundaries[i]) ); a bucket that reaches its batch size is emitted as a batch
   * padded to its own longest sequence, so a batch of short reviews is not padded to the longest review.
   * What is left in the buckets at the end is emitted last: tf.data emits each bucket's remainder on
   * its own, which can make a batch of one example (that BatchNormalization cannot train on); here the
   * remainders are joined in bucket order and cut by the largest batch size, a lone last example joining
   * the batch before it, as batch() does. With dropRemainder they are dropped. batchSizes has one more
   * entry than boundaries (the last bucket is [last boundary, ∞)).
   */
  bucketBySequenceLength<E extends StructuredExample>(
    this: Dataset<E>, lengthOf: (e: E) => number, boundaries: readonly number[], batchSizes: readonly number[],
    options: BatchOptions & { dropRemainder?: boolean } = {},
  ): Dataset<BatchOf<E>> {
    if (typeof lengthOf !== 'function') throw argumentError('bucketBySequenceLength', `lengthOf must be a function, got ${String(lengthOf)}`);
    if (!boundaries.every((b, i) => Number.isFinite(b) && (i === 0 || b > boundaries[i - 1]))) {
      throw argumentError('bucketBySequenceLength', `boundaries must increase, got [${boundaries.join(', ')}]`);
    }
    if (batchSizes.length !== boundaries.length + 1 || !batchSizes.every((b) => Number.isInteger(b) && b >= 1)) {
      throw argumentError('bucketBySequenceLength', `batchSizes must be ${boundaries.length + 1} positive integers (one per bucket), got [${batchSizes.join(', ')}]`);
    }
    const stack = (examples: E[]) => stackExamples(examples, options) as Promise<BatchOf<E>>;
    return new Dataset<BatchOf<E>>(() => (async function* (this: Dataset<E>) {
      const buckets: E[][] = batchSizes.map(() => []);
      for await (const e of this) {
        const length = lengthOf(e);
        let b = 0;
        while (b < boundaries.length && length >= boundaries[b]) b++;
        buckets[b].push(e);
        if (buckets[b].length === batchSizes[b]) {
          yield await stack(buckets[b]);
          buckets[b] = [];
        }
      }
      if (options.dropRemainder) return;
      const rest = buckets.flat();
      const size = Math.max(...batchSizes);
      for (const [start, end] of batchBounds(rest.length, size)) yield await stack(rest.slice(start, end));
    }).call(this));
  }

  /**
   * Keep up to `bufferSize` elements made ahead: while the caller works on one element (a training
   * step), the next one is being produced. Making an element is JavaScript on the same thread as the
   * step, so what overlaps is whatever either side awaits (file reads, an asynchronous device).
   */
  prefetch(bufferSize = 1): Dataset<T> {
    if (!(Number.isInteger(bufferSize) && bufferSize >= 1)) throw argumentError('prefetch', `bufferSize must be a positive integer, got ${bufferSize}`);
    return new Dataset<T>(() => {
      const it = this[Symbol.asyncIterator]();
      const ahead: Array<Promise<IteratorResult<T>>> = [];
      let finished = false;
      const fill = (): void => {
        // Requests queue in order on the async generator, so they resolve in the order made.
        while (!finished && ahead.length < bufferSize) ahead.push(it.next());
      };
      return {
        async next(): Promise<IteratorResult<T>> {
          fill();
          const r = await ahead.shift()!;
          if (r.done) { finished = true; return r; }
          fill();
          return r;
        },
        async return(): Promise<IteratorResult<T>> {
          finished = true;
          await it.return(undefined);
          return { done: true, value: undefined };
        },
      };
    }, this.size);
  }

  /** Every element in an array (this materialises the dataset; an infinite one throws). */
  async toArray(): Promise<T[]> {
    if (this.size === Infinity) throw argumentError('toArray', 'the dataset is infinite (repeat() without a count); take(n) first');
    const out: T[] = [];
    for await (const e of this) out.push(e);
    return out;
  }
}
