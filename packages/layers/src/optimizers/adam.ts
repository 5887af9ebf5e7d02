/**
 * Adam (Kingma & Ba), Keras's form and defaults: lr 1e-3, β1 0.9, β2 0.999, ε 1e-7. At step t:
 *   m ← m + (1 − β1)(g − m)           (= β1·m + (1 − β1)·g, the running mean of g)
 *   v ← v + (1 − β2)(g² − v)          (the running mean of g²)
 *   α = lr · √(1 − β2ᵗ) / (1 − β1ᵗ)   (both bias corrections folded into the step size)
 *   w ← w − α · m / (√v + ε)
 * ε is added to √v before the bias correction, so it acts like PyTorch's ε times √(1 − β2ᵗ);
 * PyTorch computes w ← w − lr · m̂ / (√v̂ + ε) with m̂ = m/(1 − β1ᵗ), v̂ = v/(1 − β2ᵗ), and ε = 1e-8.
 * The update is the backend's adamUpdate kernel (packages/tensor/src/cpu/optimizers.ts on the CPU).
 */
import { adamUpdate } from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import { Optimizer, checkDecay, checkEpsilon, optionsOf } from './optimizer.js';
import type { OptimizerOptions, ParamsOrOptions } from './optimizer.js';

export interface AdamOptions extends OptimizerOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export class Adam extends Optimizer {
  /** The name saved files record (a minifier renames the class itself). */
  static readonly className: string = 'Adam';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** `moreOptions`: the option names a subclass adds (AdamW's weightDecay), so they are not refused as unknown. */
  constructor(params?: ParamsOrOptions<AdamOptions>, options: AdamOptions = {}, moreOptions: readonly string[] = []) {
    const opts = optionsOf(params, options);
    super(params, opts, 1e-3, ['beta1', 'beta2', 'epsilon', ...moreOptions]);
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.epsilon = opts.epsilon ?? 1e-7;
    checkDecay('Adam', 'beta1', this.beta1);
    checkDecay('Adam', 'beta2', this.beta2);
    checkEpsilon('Adam', this.epsilon);
  }
  protected slotNames(): string[] { return ['m', 'v']; }
  protected update(w: Tensor, g: Tensor, state: Map<string, Tensor>): Tensor {
    const out = adamUpdate(w, g, state.get('m')!, state.get('v')!,
      { lr: this.lr, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, step: this.iterations });
    state.set('m', out.m);
    state.set('v', out.v);
    return out.w;
  }
  override getConfig() { return { ...super.getConfig(), beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon }; }
}
