/**
 * RMSprop (Hinton), Keras's form and defaults: lr 1e-3, ρ 0.9, momentum 0, ε 1e-7 (inside the root):
 *   s ← ρ·s + (1 − ρ)·g²
 *   d = s + ε               (centered: a ← ρ·a + (1 − ρ)·g and d = s − a² + ε)
 *   Δ = lr · g / √d
 *   w ← w − Δ               (momentum μ: b ← μ·b + Δ, w ← w − b)
 * PyTorch's defaults differ: lr 1e-2, alpha (= ρ) 0.99, ε 1e-8 added outside the root (√s + ε).
 * The update is the backend's rmspropUpdate kernel (packages/tensor/src/cpu/optimizers.ts on the CPU).
 */
import { rmspropUpdate } from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';
import { Optimizer, checkDecay, checkEpsilon, optionsOf } from './optimizer.js';
import type { OptimizerOptions, ParamsOrOptions } from './optimizer.js';

export interface RMSpropOptions extends OptimizerOptions {
  /** Decay of the running mean of g² (PyTorch's alpha), in [0, 1). Default 0.9. */
  rho?: number;
  momentum?: number;
  epsilon?: number;
  /** Divide by the running variance of g instead of its running second moment. Default false. */
  centered?: boolean;
}

export class RMSprop extends Optimizer {
  /** The name saved files record (a minifier renames the class itself). */
  static readonly className = 'RMSprop';
  readonly rho: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly centered: boolean;
  constructor(params?: ParamsOrOptions<RMSpropOptions>, options: RMSpropOptions = {}) {
    const opts = optionsOf(params, options);
    super(params, opts, 1e-3, ['rho', 'momentum', 'epsilon', 'centered']);
    this.rho = opts.rho ?? 0.9;
    this.momentum = opts.momentum ?? 0;
    this.epsilon = opts.epsilon ?? 1e-7;
    this.centered = opts.centered ?? false;
    checkDecay('RMSprop', 'rho', this.rho);
    checkDecay('RMSprop', 'momentum', this.momentum);
    checkEpsilon('RMSprop', this.epsilon);
  }
  protected slotNames(): string[] {
    return ['s', ...(this.centered ? ['a'] : []), ...(this.momentum > 0 ? ['b'] : [])];
  }
  protected update(w: Tensor, g: Tensor, state: Map<string, Tensor>): Tensor {
    const out = rmspropUpdate(w, g, state.get('s')!, state.get('a') ?? null, state.get('b') ?? null,
      { lr: this.lr, rho: this.rho, momentum: this.momentum, epsilon: this.epsilon });
    state.set('s', out.s);
    if (out.a !== null) state.set('a', out.a);
    if (out.b !== null) state.set('b', out.b);
    return out.w;
  }
  override getConfig() {
    return { ...super.getConfig(), rho: this.rho, momentum: this.momentum, epsilon: this.epsilon, centered: this.centered };
  }
}
