/**
 * Band-limited resampling in TypeScript, so that a WAV at any sample rate reaches the features at the
 * pipeline's 16 kHz, and so that training can change an utterance's speed.
 *
 * Output sample j lies at input position t = j·from/to. Its value is the input convolved with a
 * low-pass windowed sinc centred on t:
 *
 *   y[j] = Σᵢ x[i]·h(i − t),   h(u) = fc·sinc(fc·u)·w(u),   fc = min(1, to/from)
 *
 * fc is the cutoff as a fraction of the input's Nyquist frequency: when downsampling it drops to the
 * output's Nyquist frequency, so frequencies the output cannot hold are removed instead of folding back
 * as aliases. w is a Hann window over ±ZERO_CROSSINGS/fc samples. The weights depend only on the
 * fractional part of t, which for rates with a small common divisor repeats with period `up`
 * (22,050 → 16,000 is 441/320), so they are tabulated once per pair of rates.
 */

/** Zero crossings of the sinc kept on each side: more is a sharper filter and more work. */
const ZERO_CROSSINGS = 16;
const MAX_PHASES = 4096;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

const sinc = (x: number): number => (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x));

/** The 2·half weights for input samples floor(t) − half + 1 … floor(t) + half, normalised to sum 1 (DC passes unchanged). */
function weightsAt(fraction: number, half: number, fc: number): Float64Array {
  const w = new Float64Array(2 * half);
  let sum = 0;
  for (let k = 0; k < 2 * half; k++) {
    const u = k - half + 1 - fraction;
    const window = Math.abs(u) < half ? 0.5 + 0.5 * Math.cos((Math.PI * u) / half) : 0;
    w[k] = fc * sinc(fc * u) * window;
    sum += w[k];
  }
  for (let k = 0; k < w.length; k++) w[k] /= sum;
  return w;
}

const tables = new Map<string, Float64Array[]>();

/** Resample a signal from one sample rate to another (both positive integers). */
export function resample(samples: Float32Array, fromRate: number, toRate: number): Float32Array {
  if (!(Number.isInteger(fromRate) && fromRate > 0 && Number.isInteger(toRate) && toRate > 0)) {
    throw new Error(`resample: sample rates must be positive integers, got fromRate ${fromRate}, toRate ${toRate}`);
  }
  if (fromRate === toRate) return samples.slice();
  const g = gcd(fromRate, toRate);
  const up = toRate / g; // output samples per `down` input samples
  const down = fromRate / g;
  const fc = Math.min(1, toRate / fromRate);
  const half = Math.ceil(ZERO_CROSSINGS / fc);
  const key = `${up}/${down}`;
  let table = tables.get(key);
  if (!table && up <= MAX_PHASES) {
    table = Array.from({ length: up }, (_, phase) => weightsAt(phase / up, half, fc));
    tables.set(key, table);
  }
  const n = Math.floor((samples.length * up) / down);
  const out = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    // t = j·down/up = base + phase/up, in integers (no rounding drift over long signals).
    const base = Math.floor((j * down) / up);
    const phase = (j * down) % up;
    const w = table ? table[phase] : weightsAt(phase / up, half, fc);
    let acc = 0;
    const first = base - half + 1;
    for (let k = 0; k < w.length; k++) {
      const i = first + k;
      if (i >= 0 && i < samples.length) acc += w[k] * samples[i];
    }
    out[j] = acc;
  }
  return out;
}

/**
 * Play a signal `factor` times faster (Ko et al., 2015, "speed perturbation"): duration ÷ factor, and
 * every frequency — pitch and formants — × factor, like a tape run faster. Done by treating the signal
 * as if it had been sampled at factor·rate and resampling to the rate. The factor is rounded to 0.01 so
 * that the filter weights are tabulated (100 phases).
 */
export function changeSpeed(samples: Float32Array, factor: number): Float32Array {
  if (!(factor >= 0.5 && factor <= 2)) throw new Error(`changeSpeed: factor must be in [0.5, 2], got ${factor}`);
  // Only the ratio of the rates matters: factor·rate → rate is the same filter as 100·factor → 100.
  return resample(samples, Math.round(factor * 100), 100);
}
