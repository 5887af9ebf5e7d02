/**
 * A seeded pseudo-random generator, so that the same seed gives the same numbers on every machine.
 * xoshiro128** (Blackman & Vigna): 128-bit state, 32-bit integer arithmetic only (Math.imul), which
 * JavaScript computes identically everywhere. Seeds are expanded with splitmix32.
 */
export class Random {
  private s0 = 0; private s1 = 0; private s2 = 0; private s3 = 0;
  private spareNormal: number | null = null;

  constructor(seed = 42) { this.seed(seed); }

  /** Reset the state from an integer seed. */
  seed(seed: number): void {
    let x = seed >>> 0;
    const splitmix = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = splitmix(); this.s1 = splitmix(); this.s2 = splitmix(); this.s3 = splitmix();
    this.spareNormal = null;
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0; this.s3 ^= this.s1; this.s1 ^= this.s2; this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1), with 32 bits of randomness. */
  next(): number { return this.nextUint32() / 4294967296; }

  /** Uniform in [low, high). */
  uniform(low = 0, high = 1): number { return low + (high - low) * this.next(); }

  /** An integer in [0, n). */
  int(n: number): number { return Math.floor(this.next() * n); }

  /** Standard normal, by the Box–Muller transform (two normals per two uniforms; one is kept). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return mean + std * z;
    }
    let u = 0;
    while (u === 0) u = this.next(); // log(0) would be -Infinity
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T>(items: T[] | Int32Array): typeof items {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = items[i]; items[i] = items[j]; items[j] = t;
    }
    return items;
  }
}

function rotl(x: number, k: number): number { return (x << k) | (x >>> (32 - k)); }

/** The generator used when no other is given; reseed it with `setSeed`. */
export const globalRandom = new Random(42);

/** Reseed the global generator: every later rand/randn/uniform/initialiser call is reproducible. */
export function setSeed(seed: number): void { globalRandom.seed(seed); }
