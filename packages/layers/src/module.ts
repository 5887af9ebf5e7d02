/**
 * Module: the PyTorch-style container under every layer and model. A module owns
 *   - parameters: trainable Variables (requiresGrad), updated by optimizers;
 *   - buffers: non-trainable state (BatchNorm's moving mean and variance), updated by the layer itself;
 *   - children: sub-modules, whose parameters and buffers it reports under dotted names ("fwd.kernel").
 */
import { Variable } from '@gradlab/autograd';
import { Tensor, formatShape, shapesEqual } from '@gradlab/tensor';

export class Module {
  /** Training mode: Dropout drops, BatchNorm uses batch statistics. `eval()` turns it off. */
  training = true;
  private readonly ownParameters = new Map<string, Variable>();
  private readonly ownBuffers = new Map<string, Tensor>();
  private readonly ownChildren = new Map<string, Module>();

  /** Create a trainable parameter from an initial value. */
  protected addParameter(name: string, initial: Tensor): Variable {
    const p = new Variable(initial, { requiresGrad: true, name });
    this.ownParameters.set(name, p);
    return p;
  }

  protected addBuffer(name: string, initial: Tensor): void { this.ownBuffers.set(name, initial); }
  protected buffer(name: string): Tensor {
    const b = this.ownBuffers.get(name);
    if (!b) throw new Error(`${this.constructor.name}: no buffer '${name}'`);
    return b;
  }
  protected setBuffer(name: string, value: Tensor): void {
    const old = this.buffer(name);
    if (!shapesEqual(old.shape, value.shape)) {
      throw new Error(`${this.constructor.name}: buffer '${name}' has shape ${formatShape(old.shape)}, got ${formatShape(value.shape)}`);
    }
    this.ownBuffers.set(name, value);
  }

  protected addChild<M extends Module>(name: string, child: M): M {
    this.ownChildren.set(name, child);
    return child;
  }

  children(): Array<[string, Module]> { return [...this.ownChildren]; }

  /** Trainable parameters, this module's first, then each child's, with dotted names. */
  namedParameters(prefix = ''): Array<[string, Variable]> {
    const out: Array<[string, Variable]> = [];
    for (const [name, p] of this.ownParameters) out.push([prefix + name, p]);
    for (const [name, child] of this.ownChildren) out.push(...child.namedParameters(`${prefix}${name}.`));
    return out;
  }
  parameters(): Variable[] { return this.namedParameters().map(([, p]) => p); }

  namedBuffers(prefix = ''): Array<[string, Tensor]> {
    const out: Array<[string, Tensor]> = [];
    for (const [name, b] of this.ownBuffers) out.push([prefix + name, b]);
    for (const [name, child] of this.ownChildren) out.push(...child.namedBuffers(`${prefix}${name}.`));
    return out;
  }

  /** Set training mode here and in every child. */
  train(mode = true): this {
    this.training = mode;
    for (const [, child] of this.ownChildren) child.train(mode);
    return this;
  }
  eval(): this { return this.train(false); }

  /**
   * Every parameter and buffer by dotted name: what save() writes and loadStateDict() reads. The
   * tensors themselves, not copies, and they keep their values: training replaces a weight with a new
   * tensor, and a tensor handed out here is pinned (never recycled, @gradlab/tensor's recycling.ts).
   */
  stateDict(): Map<string, Tensor> {
    const state = new Map<string, Tensor>();
    for (const [name, p] of this.namedParameters()) state.set(name, p.data);
    for (const [name, b] of this.namedBuffers()) state.set(name, b);
    for (const t of state.values()) t.storage.pin?.();
    return state;
  }

  /**
   * Load values by name. Everything is checked before anything is assigned, so a bad state leaves
   * the module untouched: missing or unexpected names and shape mismatches name the entry and shapes.
   */
  loadStateDict(state: Map<string, Tensor> | Record<string, Tensor>): void {
    const entries = state instanceof Map ? state : new Map(Object.entries(state));
    const targets = this.stateTargets();
    const missing = [...targets.keys()].filter((k) => !entries.has(k));
    const unexpected = [...entries.keys()].filter((k) => !targets.has(k));
    if (missing.length || unexpected.length) {
      throw new Error(`loadStateDict: ${missing.length ? `missing ${missing.join(', ')}` : ''}` +
        `${missing.length && unexpected.length ? '; ' : ''}${unexpected.length ? `unexpected ${unexpected.join(', ')}` : ''}`);
    }
    for (const [name, target] of targets) {
      const value = entries.get(name)!;
      if (!shapesEqual(value.shape, target.shape)) {
        throw new Error(`loadStateDict: '${name}' expects shape ${formatShape(target.shape)}, got ${formatShape(value.shape)}`);
      }
    }
    for (const [name, target] of targets) target.assign(entries.get(name)!.astype(target.dtype).contiguous());
  }

  /** name → how to read its shape and dtype and how to assign it, for parameters and buffers alike. */
  private stateTargets(prefix = ''): Map<string, { shape: readonly number[]; dtype: Tensor['dtype']; assign(t: Tensor): void }> {
    const out = new Map<string, { shape: readonly number[]; dtype: Tensor['dtype']; assign(t: Tensor): void }>();
    for (const [name, p] of this.ownParameters) {
      out.set(prefix + name, { shape: p.shape, dtype: p.dtype, assign: (t) => { p.data = t; } });
    }
    for (const [name, b] of this.ownBuffers) {
      out.set(prefix + name, { shape: b.shape, dtype: b.dtype, assign: (t) => { this.ownBuffers.set(name, t); } });
    }
    for (const [name, child] of this.ownChildren) {
      for (const [k, v] of child.stateTargets(`${prefix}${name}.`)) out.set(k, v);
    }
    return out;
  }

  /** Number of scalars in the parameters (trainable) and buffers (non-trainable). */
  countParams(): { trainable: number; nonTrainable: number; total: number } {
    const trainable = this.parameters().reduce((n, p) => n + p.size, 0);
    const nonTrainable = this.namedBuffers().reduce((n, [, b]) => n + b.size, 0);
    return { trainable, nonTrainable, total: trainable + nonTrainable };
  }

  /** A readable tree: each module with its parameters' shapes. */
  toString(indent = ''): string {
    const lines = [`${indent}${this.describe()}`];
    for (const [name, p] of this.ownParameters) lines.push(`${indent}  ${name}: ${formatShape(p.shape)}`);
    for (const [name, b] of this.ownBuffers) lines.push(`${indent}  ${name}: ${formatShape(b.shape)} (buffer)`);
    for (const [name, child] of this.ownChildren) lines.push(`${indent}  (${name}) ${child.toString(`${indent}  `).trimStart()}`);
    return lines.join('\n');
  }

  /** One-line description used by toString (layers override it with their config). */
  describe(): string { return this.constructor.name; }
}
