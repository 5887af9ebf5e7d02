/**
 * Folding a last softmax (or sigmoid) into the loss, as Keras does: when a model's output layer ends in
 * the activation its crossentropy expects, training takes that layer's pre-activation output (the
 * logits) and the loss's fused, stable fromLogits form; predict() still returns probabilities.
 * Sequential and functional models both use it, on their output layer.
 */
import type { Variable } from '@gradlab/autograd';
import type { Layer } from '../layer.js';
import { isRegressionLoss, lossFromName } from '../losses.js';
import type { Loss } from '../losses.js';

/** The function giving a layer's pre-activation output, if it has one (Dense, Conv2D and Activation do). */
export function logitsOf(layer: Layer): ((x: Variable) => Variable) | null {
  const l = layer as Layer & { preActivation?: (x: Variable) => Variable };
  return typeof l.preActivation === 'function' ? (x) => l.preActivation!(x) : null;
}

/** The loss with fromLogits when the output layer's softmax/sigmoid can be folded into it; else null. */
export function fusedLoss(output: Layer | undefined, loss: Loss): Loss | null {
  const last = output as (Layer & { activationName?: string }) | undefined;
  if (loss.fromLogits || loss.kind === null || !last || !logitsOf(last)) return null;
  const wanted = loss.kind === 'binary_crossentropy' ? 'sigmoid' : isRegressionLoss(loss.kind) ? null : 'softmax';
  return wanted !== null && last.activationName === wanted ? lossFromName(loss.kind, { fromLogits: true }) : null;
}
