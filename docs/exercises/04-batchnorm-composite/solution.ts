/** Exercise 04, a reference solution: one graph node per line of the formula. */
import type { Variable } from 'gradlab';

export function batchNorm(x: Variable, gamma: Variable, beta: Variable, epsilon: number): Variable {
  const mean = x.mean(0, true); // [1, F]: keeps its axis so that it broadcasts against x
  const variance = x.sub(mean).square().mean(0, true);
  const xHat = x.sub(mean).div(variance.add(epsilon).sqrt());
  return xHat.mul(gamma).add(beta);
}
