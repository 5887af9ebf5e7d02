/**
 * The fast Fourier transform, radix 2 (Cooley–Tukey, iterative, in place).
 *
 *   X[k] = Σ_{n=0}^{N−1} x[n] · e^{−2πi·kn/N},   k = 0 … N−1,   N a power of two.
 *
 * Splitting x into its even and odd samples turns one transform of size N into two of size N/2:
 *
 *   X[k]       = E[k] + w^k · O[k]
 *   X[k + N/2] = E[k] − w^k · O[k],      w = e^{−2πi/N}   (the "butterfly")
 *
 * Done bottom-up: first reorder the samples by bit-reversed index (so each pair that the first level
 * combines sits side by side), then log₂N passes of butterflies with spans 2, 4, …, N. O(N log N)
 * instead of the O(N²) of the sum above (which the tests use as the reference).
 */

export const isPowerOfTwo = (n: number): boolean => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

/** The smallest power of two ≥ n (400 samples → a 512-point FFT). */
export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Swap x[i] and x[j] for every i whose bits reversed (over log₂N bits) give j. */
function bitReverse(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j |= bit;
    if (i < j) {
      const r = re[i]; re[i] = re[j]; re[j] = r;
      const m = im[i]; im[i] = im[j]; im[j] = m;
    }
  }
}

/** In-place forward FFT of the complex signal (re, im). */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  if (im.length !== n) throw new Error(`fft: real part has ${n} values but imaginary part ${im.length}`);
  if (!isPowerOfTwo(n)) throw new Error(`fft: length ${n} is not a power of two`);
  bitReverse(re, im);
  for (let span = 2; span <= n; span *= 2) {
    const half = span / 2;
    const angle = (-2 * Math.PI) / span;
    for (let k = 0; k < half; k++) {
      // The twiddle factor w^k for this span, shared by every block.
      const wr = Math.cos(angle * k);
      const wi = Math.sin(angle * k);
      for (let start = 0; start < n; start += span) {
        const a = start + k;
        const b = a + half;
        const tr = wr * re[b] - wi * im[b];
        const ti = wr * im[b] + wi * re[b];
        re[b] = re[a] - tr; im[b] = im[a] - ti;
        re[a] += tr; im[a] += ti;
      }
    }
  }
}

/**
 * The power spectrum |X[k]|² of a real frame, zero-padded to `size`, for k = 0 … size/2 (the other half
 * mirrors it for a real signal).
 */
export function powerSpectrum(frame: ArrayLike<number>, size: number): Float64Array {
  if (frame.length > size) throw new Error(`powerSpectrum: frame of ${frame.length} samples does not fit an FFT of size ${size}`);
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  for (let i = 0; i < frame.length; i++) re[i] = frame[i];
  fft(re, im);
  const out = new Float64Array(size / 2 + 1);
  for (let k = 0; k <= size / 2; k++) out[k] = re[k] * re[k] + im[k] * im[k];
  return out;
}
