/**
 * Weight initialisers with Keras's names and formulas, drawing from gradlab's seeded generator
 * (setSeed or an explicit Random), so the same seed gives the same model on every machine.
 */
import { Random, allocate, globalRandom, fromTypedArray, formatShape, sizeOf } from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import { lookup } from './lookup.js';

export type Initializer = (shape: readonly number[], rng?: Random) => Tensor;
export type InitializerName = 'zeros' | 'ones' | 'glorot_uniform' | 'glorot_normal' | 'he_uniform' | 'he_normal'
  | 'lecun_uniform' | 'random_normal' | 'random_uniform' | 'orthogonal';

/**
 * fan_in and fan_out as Keras computes them: a Dense kernel [in, out] has fans (in, out); a conv
 * kernel [kh, kw, in, out] multiplies both by the receptive field kh·kw.
 */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0], fanOut: shape[0] };
  const receptive = sizeOf(shape.slice(0, -2));
  return { fanIn: shape[shape.length - 2] * receptive, fanOut: shape[shape.length - 1] * receptive };
}

// Storage comes from allocate() so that a load's allocation budget (withAllocationBudget) covers it.
function fill(shape: readonly number[], draw: () => number): Tensor {
  const data = allocate('float32', sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = draw();
  return fromTypedArray(data, shape);
}

/** Normal cut at two standard deviations (redrawn outside), as Keras's truncated normal. */
function truncatedNormal(rng: Random, std: number): number {
  for (;;) {
    const z = rng.normal();
    if (Math.abs(z) <= 2) return z * std;
  }
}

/** 0.8796…: the standard deviation of a unit normal truncated to [−2, 2]; Keras divides by it. */
const TRUNCATED_STD = 0.87962566103423978;

export const zeros: Initializer = (shape) => fill(shape, () => 0);
export const ones: Initializer = (shape) => fill(shape, () => 1);
export const constant = (value: number): Initializer => (shape) => fill(shape, () => value);
export const randomNormal = (mean = 0, std = 0.05): Initializer => (shape, rng = globalRandom) => fill(shape, () => rng.normal(mean, std));
export const randomUniform = (low = -0.05, high = 0.05): Initializer => (shape, rng = globalRandom) => fill(shape, () => rng.uniform(low, high));

/** Glorot/Xavier uniform: U(−l, l) with l = √(6 / (fan_in + fan_out)); keeps activation variance steady both ways. */
export const glorotUniform: Initializer = (shape, rng = globalRandom) => {
  const { fanIn, fanOut } = fans(shape);
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return fill(shape, () => rng.uniform(-limit, limit));
};
/** Glorot normal: truncated normal with std √(2 / (fan_in + fan_out)). */
export const glorotNormal: Initializer = (shape, rng = globalRandom) => {
  const { fanIn, fanOut } = fans(shape);
  const std = Math.sqrt(2 / (fanIn + fanOut)) / TRUNCATED_STD;
  return fill(shape, () => truncatedNormal(rng, std));
};
/** He uniform: U(−l, l), l = √(6 / fan_in): for ReLU layers, which zero half their inputs. */
export const heUniform: Initializer = (shape, rng = globalRandom) => {
  const limit = Math.sqrt(6 / fans(shape).fanIn);
  return fill(shape, () => rng.uniform(-limit, limit));
};
export const heNormal: Initializer = (shape, rng = globalRandom) => {
  const std = Math.sqrt(2 / fans(shape).fanIn) / TRUNCATED_STD;
  return fill(shape, () => truncatedNormal(rng, std));
};
export const lecunUniform: Initializer = (shape, rng = globalRandom) => {
  const limit = Math.sqrt(3 / fans(shape).fanIn);
  return fill(shape, () => rng.uniform(-limit, limit));
};

/**
 * Orthogonal (Saxe et al. 2014), as Keras: view the shape as a matrix [rows = Π shape[:-1], cols = last],
 * draw a Gaussian matrix of [max, min], orthonormalise its columns (Q of a QR decomposition, here by
 * modified Gram–Schmidt run twice, which is as accurate as Householder at these sizes), and transpose
 * if rows < cols. Rows (or columns) of the result are orthonormal, so a recurrent kernel neither
 * grows nor shrinks the state it multiplies.
 */
export const orthogonal = (gain = 1): Initializer => (shape, rng = globalRandom) => {
  if (shape.length < 2) throw new Error(`orthogonal: needs a shape of rank 2 or more, got ${formatShape(shape)}`);
  const cols = shape[shape.length - 1];
  const rows = sizeOf(shape) / cols;
  const n = Math.max(rows, cols), m = Math.min(rows, cols);
  const a = allocate('float64', n * m); // n × m, column j at a[i*m + j]
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
  for (let j = 0; j < m; j++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) { // remove the component along column k
        let dot = 0;
        for (let i = 0; i < n; i++) dot += a[i * m + j] * a[i * m + k];
        for (let i = 0; i < n; i++) a[i * m + j] -= dot * a[i * m + k];
      }
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += a[i * m + j] ** 2;
    norm = Math.sqrt(norm);
    for (let i = 0; i < n; i++) a[i * m + j] /= norm;
  }
  const out = allocate('float32', rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * cols + c] = gain * (rows >= cols ? a[r * m + c] : a[c * m + r]);
  }
  return fromTypedArray(out, shape);
};

const BY_NAME: Record<InitializerName, Initializer> = {
  zeros, ones, glorot_uniform: glorotUniform, glorot_normal: glorotNormal, he_uniform: heUniform,
  he_normal: heNormal, lecun_uniform: lecunUniform, random_normal: randomNormal(), random_uniform: randomUniform(),
  orthogonal: orthogonal(),
};

/** Accept a Keras name ('glorot_uniform') or an Initializer function. */
export function getInitializer(init: InitializerName | Initializer, layer: string): Initializer {
  if (typeof init === 'function') return init;
  const found = lookup(BY_NAME, init);
  if (!found) throw new Error(`${layer}: unknown initializer '${init}' (known: ${Object.keys(BY_NAME).join(', ')})`);
  return found;
}
