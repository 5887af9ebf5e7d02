/**
 * AdamW (Loshchilov & Hutter, "Decoupled weight decay"), Keras's defaults: Adam's with weight_decay
 * 0.004. Before each Adam step the weights shrink by lr·weightDecay of themselves,
 *   w ← w − lr·λ·w,   then Adam's update (adam.ts),
 * so the decay does not pass through Adam's per-weight scaling, unlike an L2 term added to the loss
 * (whose gradient Adam would divide by √v). PyTorch's AdamW applies the same decay (default λ 0.01).
 */
import type { Tensor } from '@gradlab/tensor';
import { Adam } from './adam.js';
import type { AdamOptions } from './adam.js';
import { checkOption, optionsOf } from './optimizer.js';
import type { ParamsOrOptions } from './optimizer.js';

export interface AdamWOptions extends AdamOptions {
  /** λ. Default 0.004 (Keras). */
  weightDecay?: number;
}

export class AdamW extends Adam {
  static override readonly className = 'AdamW';
  readonly weightDecay: number;
  constructor(params?: ParamsOrOptions<AdamWOptions>, options: AdamWOptions = {}) {
    const opts = optionsOf(params, options);
    super(params, options, ['weightDecay']);
    this.weightDecay = opts.weightDecay ?? 0.004;
    checkOption('AdamW', 'weightDecay', this.weightDecay, (v) => v >= 0, 'a non-negative finite number');
  }
  protected override update(w: Tensor, g: Tensor, state: Map<string, Tensor>): Tensor {
    return super.update(w.mul(1 - this.lr * this.weightDecay), g, state);
  }
  override getConfig() { return { ...super.getConfig(), weightDecay: this.weightDecay }; }
}
