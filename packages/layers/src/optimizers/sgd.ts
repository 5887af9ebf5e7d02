/**
 * SGD, Keras's form (lr default 0.01). With momentum μ, a velocity v (starting at 0):
 *   v ← μ·v − lr·g
 *   w ← w + v                      (classical momentum)
 *   w ← w + μ·v − lr·g             (nesterov: the step as seen from the look-ahead point)
 * Without momentum: w ← w − lr·g.
 * (PyTorch keeps v ← μ·v + g and steps w ← w − lr·v: the same path while lr is constant.)
 * The update is the backend's sgdUpdate kernel (packages/tensor/src/cpu/optimizers.ts on the CPU).
 */
import { sgdUpdate } from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import { Optimizer, checkDecay, optionsOf } from './optimizer.js';
import type { OptimizerOptions, ParamsOrOptions } from './optimizer.js';

export interface SGDOptions extends OptimizerOptions {
  /** In [0, 1). Default 0 (plain gradient descent). */
  momentum?: number;
  /** Nesterov momentum: look ahead along the velocity. Default false. */
  nesterov?: boolean;
}

export class SGD extends Optimizer {
  /** The name saved files record (a minifier renames the class itself). */
  static readonly className = 'SGD';
  readonly momentum: number;
  readonly nesterov: boolean;
  constructor(params?: ParamsOrOptions<SGDOptions>, options: SGDOptions = {}) {
    const opts = optionsOf(params, options);
    super(params, opts, 0.01, ['momentum', 'nesterov']);
    this.momentum = opts.momentum ?? 0;
    this.nesterov = opts.nesterov ?? false;
    checkDecay('SGD', 'momentum', this.momentum);
  }
  protected slotNames(): string[] { return this.momentum !== 0 ? ['velocity'] : []; }
  protected update(w: Tensor, g: Tensor, state: Map<string, Tensor>): Tensor {
    const out = sgdUpdate(w, g, state.get('velocity') ?? null, { lr: this.lr, momentum: this.momentum, nesterov: this.nesterov });
    if (out.velocity !== null) state.set('velocity', out.velocity);
    return out.w;
  }
  override getConfig() { return { ...super.getConfig(), momentum: this.momentum, nesterov: this.nesterov }; }
}
