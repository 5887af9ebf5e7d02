// Recycling typed arrays between steps (src/recycling.ts): what is recycled, what never is, and that a
// recycled tensor cannot be read by mistake.
import {
  allocate, fromTypedArray, randn, recycleAfter, recycledBuffers, setBufferRecycling, tensor, zeros,
} from '../src/index.js';

// Off and on again empties the pool, so that each test starts from nothing. (A number in an op, as in
// x.mul(2), is a one-element tensor: those 4-byte arrays are counted below.)
beforeEach(() => { setBufferRecycling(false); setBufferRecycling(true); });

describe('recycleAfter', () => {
  test('arrays a step allocated and did not keep are handed out again, zero-filled', () => {
    const made: unknown[] = [];
    const kept = recycleAfter('test step', () => {
      const r = randn([1000]), t = r.mul(2);
      made.push(r.valuesForKernel(), t.valuesForKernel()); // the arrays, without pinning them as dataSync() would
      return t.sum();
    }, (result) => [result]);
    const expected = (made[1] as Float32Array).reduce((a, b) => a + b, 0);
    expect(recycledBuffers()).toEqual({ arrays: 3, bytes: 8004 }); // randn's, mul's and the 2's
    const again = allocate('float32', 1000);
    expect(made).toContain(again);
    expect(recycledBuffers().arrays).toBe(2);
    expect(Array.from(again).every((v) => v === 0)).toBe(true);
    expect(kept.item()).toBeCloseTo(expected, 2); // the kept result is still readable and right
  });

  test('the same values whether recycling is on or off', () => {
    const run = () => {
      const x = tensor([[1, 2, 3], [4, 5, 6]]);
      const out: number[] = [];
      for (let step = 0; step < 4; step++) {
        const r = recycleAfter('loop', () => x.mul(step + 1).add(x.square()).sum(1), (t) => [t]);
        out.push(...r.dataSync());
      }
      return out;
    };
    const on = run();
    setBufferRecycling(false);
    expect(run()).toEqual(on);
  });

  test('an array handed out by dataSync() inside a step is pinned: never recycled, its values kept', () => {
    let handedOut: ArrayLike<number> = new Float32Array(0), values: number[] = [];
    recycleAfter('step', () => {
      handedOut = randn([100]).add(1).dataSync();
      values = Array.from(handedOut);
      return null;
    }, () => []);
    for (let i = 0; i < 3; i++) recycleAfter('next', () => { randn([100]).add(2); return null; }, () => []);
    expect(Array.from(handedOut)).toEqual(values);
  });

  test('reading a tensor whose array was recycled throws, naming the step', () => {
    let leaked = zeros([1]);
    recycleAfter("the model's training step", () => { leaked = randn([64]).add(1); return null; }, () => []);
    expect(() => leaked.dataSync()).toThrow(/recycled at the end of the model's training step/);
    // a view of it shares the storage, so it throws too
    expect(() => leaked.reshape([8, 8]).dataSync()).toThrow(/recycled/);
  });

  test('kept results, views of them and arrays sharing their buffer are not recycled', () => {
    const result = recycleAfter('step', () => {
      const t = randn([16]).mul(3);
      return { whole: t, view: t.reshape([4, 4]) };
    }, (r) => [r.view]);
    expect(recycledBuffers()).toEqual({ arrays: 2, bytes: 68 }); // randn's and the 3's; mul's is kept through the view
    const values = Array.from(result.whole.dataSync());
    allocate('float32', 16).fill(7); // takes randn's array, not the kept one
    expect(Array.from(result.whole.dataSync())).toEqual(values);
  });

  test("a user's own array is never recycled", () => {
    const mine = new Float32Array([1, 2, 3, 4]);
    recycleAfter('step', () => { fromTypedArray(mine, [4]).add(0); return null; }, () => []);
    expect(recycledBuffers()).toEqual({ arrays: 2, bytes: 20 }); // add's result and the 0's, not mine
    expect(allocate('float32', 4)).not.toBe(mine);
    expect(Array.from(mine)).toEqual([1, 2, 3, 4]);
  });

  test('arrays left unused through a whole step are dropped (the pool holds one step at most)', () => {
    recycleAfter('first', () => { randn([100]); return null; }, () => []);
    expect(recycledBuffers().arrays).toBe(1);
    recycleAfter('second', () => { randn([200]); return null; }, () => []);
    expect(recycledBuffers()).toEqual({ arrays: 1, bytes: 800 });
  });

  test('a step that throws recycles nothing; nested steps join the outer one', () => {
    expect(() => recycleAfter('bad', () => { randn([10]); throw new Error('boom'); }, () => [])).toThrow('boom');
    expect(recycledBuffers().arrays).toBe(0);
    let inner = zeros([1]);
    recycleAfter('outer', () => {
      recycleAfter('inner', () => { inner = randn([5]); return inner; }, (t) => [t]);
      expect(inner.valuesForKernel().length).toBe(5); // not recycled at the inner step's end
      return null;
    }, () => []);
    expect(() => inner.dataSync()).toThrow(/recycled at the end of outer/);
  });

  test('dispose() gives the array back at once; reading the disposed tensor throws', () => {
    const t = randn([32]);
    const array = t.valuesForKernel();
    t.storage.dispose();
    expect(() => t.dataSync()).toThrow(/disposed/);
    expect(allocate('float32', 32)).toBe(array);
    // an array handed out by dataSync() is pinned: dispose() leaves it to its holder
    const held = randn([32]), heldArray = held.dataSync(), heldValues = Array.from(heldArray);
    held.storage.dispose();
    expect(held.dataSync()).toBe(heldArray);
    expect(allocate('float32', 32)).not.toBe(heldArray);
    expect(Array.from(heldArray)).toEqual(heldValues);
    // an array the user made is not taken over by dispose()
    const mine = new Float32Array(32);
    const u = fromTypedArray(mine, [32]);
    u.storage.dispose();
    expect(u.dataSync()).toBe(mine);
  });

  test('off: nothing is recycled', () => {
    setBufferRecycling(false);
    recycleAfter('step', () => randn([10]).add(1), () => []);
    expect(recycledBuffers().arrays).toBe(0);
    expect(() => setBufferRecycling('yes' as unknown as boolean)).toThrow(/setBufferRecycling: expected true or false/);
  });
});
