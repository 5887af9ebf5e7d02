/**
 * The few assertions the exercise checks need. They throw an Error that says which exercise, which
 * quantity and how far off it is — plain functions rather than jest's expect, so that the same checks
 * can be run against the reference solutions (must pass), the stubs (must fail) and a learner's work.
 */
import { Tensor, Variable, checkGradients, formatShape } from 'gradlab';
import type { GradcheckOptions } from 'gradlab';

export const f64 = (t: Tensor): Tensor => t.astype('float64');

/** `actual` has `expected`'s shape and every element within atol + rtol·|expected|. */
export function assertClose(what: string, actual: Tensor | undefined, expected: Tensor, atol = 1e-9, rtol = 1e-7): void {
  if (!(actual instanceof Tensor)) throw new Error(`${what}: expected a Tensor ${formatShape(expected.shape)}, got ${String(actual)}`);
  if (actual.shape.join() !== expected.shape.join()) throw new Error(`${what}: shape ${formatShape(actual.shape)}, expected ${formatShape(expected.shape)}`);
  const a = actual.dataSync(), e = expected.dataSync();
  for (let i = 0; i < e.length; i++) {
    if (!(Math.abs(a[i] - e[i]) <= atol + rtol * Math.abs(e[i]))) {
      throw new Error(`${what}: element ${i} is ${a[i]}, expected ${e[i]} (gradlab's reference)`);
    }
  }
}

/**
 * The definition of the derivative against the backward `fn` uses (autograd's checkGradients: central
 * differences in float64 of L = Σ r ⊙ fn(inputs), r random).
 */
export function assertGradcheck(what: string, fn: (...inputs: Variable[]) => Variable, inputs: Tensor[], options: GradcheckOptions = {}): void {
  const report = checkGradients(fn, inputs, options);
  if (!report.ok) {
    const w = report.worst!;
    throw new Error(`${what}: gradient check failed at input ${w.input} [${w.index.join(', ')}]: your backward gives ${w.analytic}, the central difference ${w.numeric} (${report.failures} of ${report.checked} elements off)`);
  }
}

/** The gradients autograd computes for `inputs` when `fn`'s output gets the upstream gradient `dy`. */
export function referenceGrads(fn: (...inputs: Variable[]) => Variable, inputs: Tensor[], dy: Tensor): Tensor[] {
  const vars = inputs.map((t) => new Variable(t, { requiresGrad: true }));
  fn(...vars).backward(dy);
  return vars.map((v) => v.grad!);
}
