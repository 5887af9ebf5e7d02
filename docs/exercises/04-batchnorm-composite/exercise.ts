/**
 * Exercise 04 — BatchNorm's forward as a composite, so autograd derives the backward for you.
 *
 * Training mode, per feature (column) of x [N, F] over the batch (rows):
 *   μ = mean(x)   σ² = mean((x − μ)²)   x̂ = (x − μ) / √(σ² + ε)   y = γ·x̂ + β      (γ, β: [F])
 * Write it with Variable ops only (x.mean(0, true), .sub, .square, .add, .sqrt, .div, .mul). Every op
 * becomes a node of the graph, and backward walks them: no derivative to write. The check compares your
 * y and its gradients with gradlab's fused kernel, and refuses a graph that calls F.batchNorm itself.
 * Then look at your graph: `toDot(y)` (it is how the BN lab page draws a step).
 *
 * Read after: packages/autograd/src/ops/normalization.ts (batchNormComposite), docs/layers.md.
 */
import type { Variable } from 'gradlab';

export function batchNorm(x: Variable, gamma: Variable, beta: Variable, epsilon: number): Variable {
  throw new Error('exercise 04: batchNorm (composite) is not written yet (docs/exercises/04-batchnorm-composite/exercise.ts)');
}
