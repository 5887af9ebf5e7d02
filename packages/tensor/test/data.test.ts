/**
 * Tensor.data(): the awaited read that works on every storage. A synchronous storage resolves
 * dataSync(); a storage with readAsync() (a device under an asynchronous contract) is awaited, and
 * while it is pending, dataSync() and item() throw an error that names the op and the shape.
 */
import { CpuStorage, Tensor, tensor } from '@gradlab/tensor';
import type { DType, Storage, TypedArray } from '@gradlab/tensor';

/** A storage whose values arrive when `resolve` is called, as a pending device storage's do. */
class LateStorage implements Storage {
  readonly backend = 'cpu';
  readonly dtype: DType = 'float32';
  readonly origin = 'matmul → [2,3]';
  pending = true;
  private values: Float32Array | null = null;
  private waiting: (() => void)[] = [];
  constructor(readonly length: number) {}
  resolve(values: Float32Array): void { this.values = values; this.pending = false; for (const w of this.waiting) w(); }
  read(): TypedArray {
    if (!this.values) throw new Error('LateStorage: pending');
    return this.values;
  }
  readAsync(): Promise<TypedArray> {
    return this.values ? Promise.resolve(this.values) : new Promise((ok) => this.waiting.push(() => ok(this.values!)));
  }
  dispose(): void { /* nothing to free */ }
}

test('data() of a synchronous storage resolves what dataSync() returns, for views too', async () => {
  const x = tensor([[1, 2, 3], [4, 5, 6]]);
  expect(Array.from(await x.data())).toEqual([1, 2, 3, 4, 5, 6]);
  expect(Array.from(await x.T.data())).toEqual([1, 4, 2, 5, 3, 6]);
  expect(Array.from(await x.slice([[1, 2]]).data())).toEqual([4, 5, 6]);
});

test('data() awaits readAsync(); dataSync() and item() on a pending storage throw, naming the op and the shape', async () => {
  const storage = new LateStorage(6);
  const y = new Tensor(storage, [2, 3]);
  expect(() => y.dataSync()).toThrow("dataSync(): the result of 'matmul → [2,3]' (shape [2,3], float32, backend 'cpu') is still being computed " +
    'on an asynchronous device; read it with `await tensor.data()` instead');
  const one = new Tensor(storage, [], [], 4);
  expect(() => one.item()).toThrow(/^item\(\): the result of 'matmul → \[2,3\]' \(shape \[\]/);
  const later = y.T.data();                             // a strided view: taken on the host once awaited
  storage.resolve(Float32Array.from([1, 2, 3, 4, 5, 6]));
  expect(Array.from(await later)).toEqual([1, 4, 2, 5, 3, 6]);
  expect(one.item()).toBe(5);                           // settled: synchronous reads work again
});

test('CpuStorage has no readAsync and is never pending', () => {
  const s: Storage = new CpuStorage(new Float32Array(2));
  expect(s.readAsync).toBeUndefined();
  expect(s.pending).toBeUndefined();
});
