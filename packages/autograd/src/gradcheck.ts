/**
 * gradcheck: test an op's backward against the definition of the derivative.
 *
 * For a function f of some tensors, pick a fixed random tensor r shaped like f's output and look at the
 * scalar  L(x) = Σ r ⊙ f(x).  Autograd gives ∂L/∂x in one backward pass (the "analytic" gradient, with
 * r as the upstream gradient). The definition of the derivative gives it too, one element at a time:
 *
 *     ∂L/∂x_j  ≈  (L(x + ε e_j) − L(x − ε e_j)) / 2ε          (central difference)
 *
 * The central difference is accurate to O(ε²) (the ε² terms of the two Taylor expansions cancel), the
 * one-sided (L(x + ε) − L(x))/ε only to O(ε). A random r (rather than r = 1, i.e. L = Σ f) makes every
 * output element count with a different weight, so a backward that mixes up two outputs cannot pass
 * by luck. Everything runs in float64: with ε = 1e-6, float32's 7 significant digits would leave
 * nothing of L(x + ε) − L(x − ε) but rounding noise; float64's 16 leave about 10 good digits.
 */
import { Tensor, formatShape, fromTypedArray, ordinalToIndex, randn, zeros } from '@gradlab/tensor';
import { noGrad } from './engine.js';
import { Variable } from './variable.js';

export interface GradcheckOptions {
  /** Step of the central difference (default 1e-6). */
  eps?: number;
  /** An element passes when |analytic − numeric| ≤ atol + rtol·|numeric| (defaults 1e-5 and 1e-3). */
  atol?: number;
  rtol?: number;
  /** Seed of the random projection r (default 0). */
  seed?: number;
  /** 'random' (default): L = Σ r ⊙ f(x) with r ~ N(0, 1); 'sum': L = Σ f(x). */
  projection?: 'random' | 'sum';
  /** Indices of the inputs to check (default: every float input; int32 inputs are passed as constants). */
  wrt?: readonly number[];
}

/** One compared element. */
export interface GradcheckElement {
  /** Which input (its position in `inputs`) and which element of it (n-d index and row-major position). */
  input: number;
  index: number[];
  position: number;
  analytic: number;
  numeric: number;
  error: number;
}

export interface GradcheckReport {
  ok: boolean;
  /** The largest |analytic − numeric| over all checked elements. */
  maxError: number;
  /** The element furthest outside its tolerance (if all pass: the one closest to its tolerance). */
  worst: GradcheckElement | null;
  /** How many elements were compared, and how many failed. */
  checked: number;
  failures: number;
}

type Fn = (...inputs: Variable[]) => Variable;

/**
 * Compare analytic and numeric gradients of `fn` at `inputs`; return a report (never throws on a
 * mismatch). Inputs are copied and cast to float64 first.
 */
export function checkGradients(fn: Fn, inputs: readonly (Variable | Tensor)[], options: GradcheckOptions = {}): GradcheckReport {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-3, seed = 0, projection = 'random' } = options;
  const tensors = inputs.map((x) => (x instanceof Variable ? x.data : x));
  const wrt = new Set(options.wrt ?? tensors.flatMap((t, i) => (t.dtype === 'int32' ? [] : [i])));
  for (const i of wrt) {
    if (tensors[i]?.dtype === 'int32' || tensors[i] === undefined) throw new Error(`gradcheck: input ${i} is not a float input, it has no gradient to check`);
  }
  // float inputs as float64 copies (a private Float64Array each: the numeric pass nudges them in place)
  const values = tensors.map((t) => (t.dtype === 'int32' ? null : Float64Array.from(t.dataSync())));
  const asInput = (i: number): Tensor => {
    const v = values[i];
    return v === null ? tensors[i] : fromTypedArray(v, tensors[i].shape);
  };

  // 1. analytic: one backward pass with r as the output's gradient
  const variables = tensors.map((_, i) => new Variable(asInput(i), { requiresGrad: wrt.has(i) }));
  const y = fn(...variables);
  if (y.dtype !== 'float64') {
    throw new Error(`gradcheck: the function returned ${y.dtype}, not float64; every op must keep float64 ` +
      '(a float32 tensor created inside the function?)');
  }
  const r = projection === 'sum' ? zeros(y.shape, 'float64').add(1) : randn(y.shape, { seed, dtype: 'float64' });
  if (y.requiresGrad) y.backward(r);
  const rValues = r.dataSync();
  const L = (): number => {
    const out = noGrad(() => fn(...tensors.map((_, i) => new Variable(asInput(i))))).data.dataSync();
    let total = 0;
    for (let k = 0; k < out.length; k++) total += rValues[k] * out[k];
    return total;
  };

  // 2. numeric: nudge each element of each checked input by ±eps
  let maxError = 0, checked = 0, failures = 0;
  let worst: GradcheckElement | null = null;
  let worstExcess = -Infinity;
  for (const i of [...wrt].sort((a, b) => a - b)) {
    const x = values[i]!;
    const grad = variables[i].grad?.dataSync() ?? new Float64Array(x.length);
    for (let j = 0; j < x.length; j++) {
      const original = x[j];
      x[j] = original + eps; const plus = L();
      x[j] = original - eps; const minus = L();
      x[j] = original;
      const numeric = (plus - minus) / (2 * eps);
      const analytic = grad[j];
      const error = Math.abs(analytic - numeric);
      const tolerance = atol + rtol * Math.abs(numeric);
      const excess = Number.isNaN(error) ? Infinity : error - tolerance;
      checked++;
      if (excess > 0) failures++;
      maxError = Math.max(maxError, error); // NaN, once seen, stays
      if (excess > worstExcess) {
        worstExcess = excess;
        worst = { input: i, index: ordinalToIndex(j, tensors[i].shape, new Array(tensors[i].rank)), position: j, analytic, numeric, error };
      }
    }
  }
  return { ok: failures === 0, maxError, worst, checked, failures };
}

/** checkGradients, but throws when an element is out of tolerance, naming the worst one. */
export function gradcheck(fn: Fn, inputs: readonly (Variable | Tensor)[], options: GradcheckOptions = {}): GradcheckReport {
  const report = checkGradients(fn, inputs, options);
  if (!report.ok && report.worst) {
    const w = report.worst;
    const shape = inputs[w.input].shape;
    throw new Error(`gradcheck: ${report.failures} of ${report.checked} gradient elements are wrong; worst: ` +
      `input ${w.input} ${formatShape(shape)} element [${w.index.join(',')}]: analytic ${w.analytic}, numeric ${w.numeric} ` +
      `(|difference| ${w.error}; max error ${report.maxError})`);
  }
  return report;
}
