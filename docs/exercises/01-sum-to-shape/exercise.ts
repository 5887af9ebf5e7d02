/**
 * Exercise 01 — sumToShape: undo a broadcast.
 *
 * `h.add(b)` with h [N, F] and b [F] reads every b[j] N times. A value used in several places gets the
 * SUM of the gradients from all of them, so b's gradient is dy [N, F] summed over the axis that
 * broadcasting added. In general, sum `grad` (shaped like the broadcast result) down to `shape`:
 *   - axes that broadcasting put in front of `shape` are summed away;
 *   - axes where `shape` has size 1 but grad does not are summed, keeping size 1.
 * e.g. [N, F] → [F]: sum over axis 0;  [N, F] → [N, 1]: sum over axis 1;  [2, 3, 4] → [3, 1]: axes 0 and 2.
 * A grad that is not a broadcast of `shape` ([2, 3] → [4]) is an error naming both shapes.
 *
 * Useful: grad.sum(axes, keepDims), grad.reshape(shape), grad.rank, grad.shape.
 * Read first: packages/autograd/src/ops/binary.ts (after you have tried!).
 */
import type { Tensor } from 'gradlab';

export function sumToShape(grad: Tensor, shape: readonly number[]): Tensor {
  throw new Error('exercise 01: sumToShape is not written yet (docs/exercises/01-sum-to-shape/exercise.ts)');
}
