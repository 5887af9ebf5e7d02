/**
 * Optimizers: how parameters move once backward() has filled their `.grad`. PyTorch's shape
 * (`new Adam(params, { lr })`, `zeroGrad()`, `step()`) with Keras's formulas and defaults.
 *
 * Each update is one fused loop over the parameter's typed array, not ~10 tensor ops per parameter
 * (each of which would allocate a full-size temporary): the formula sits in a comment above the loop.
 * Tensors are immutable values, so a step builds a new Float32Array and replaces `p.data` with it.
 * Optimizer state (momentum, moment estimates) lives in float64 arrays, one per parameter.
 *
 * A parameter that lives on a device (float32 on a backend other than the CPU's) is updated with the
 * same formula written as backend ops (`updateOnDevice`, next to each loop), and its state is kept
 * there as tensors: reading it into the loop would download it, and the result would go back up.
 */
import type { Variable } from '@gradlab/autograd';
import { Tensor, allocate, fromTypedArray, getBackend, isOnDevice } from '@gradlab/tensor';
import type { TypedArray } from '@gradlab/tensor';

export interface OptimizerOptions {
  /** Learning rate (Keras's learning_rate). */
  lr?: number;
  /** Keras's clipnorm: each gradient is rescaled so that its own L2 norm is at most this. */
  clipNorm?: number;
  /** Keras's global_clipnorm: all gradients are rescaled together so that their joint L2 norm is at most this. */
  globalClipNorm?: number;
  /** Keras's clipvalue: each gradient element is clipped to [−clipValue, clipValue]. */
  clipValue?: number;
}

// Math.sqrt as a module local: the update loops call it per element, and inside jest's sandbox every
// lookup of the global `Math` costs about 70 times more (plain Node does not care).
const { sqrt } = Math;

type ParamsOrOptions<O> = Iterable<Variable> | O | undefined;

function isIterable(x: unknown): x is Iterable<Variable> {
  return typeof x === 'object' && x !== null && Symbol.iterator in x;
}

/**
 * L2 norm of all the gradients together, √(Σ g²) over every element of every parameter that has one.
 * If it exceeds maxNorm, every gradient is multiplied by maxNorm / norm (so their directions are kept).
 * Returns the norm before clipping. (PyTorch's clip_grad_norm_ divides by norm + 1e-6; Keras does not.)
 */
export function clipGradNorm(params: Iterable<Variable>, maxNorm: number): number {
  const list = [...params].filter((p) => p.grad !== null);
  let sq = 0;
  for (const p of list) {
    const g = p.grad!.dataSync();
    for (let i = 0; i < g.length; i++) sq += g[i] * g[i];
  }
  const norm = sqrt(sq);
  if (norm > maxNorm) {
    const scale = maxNorm / norm;
    for (const p of list) p.grad = scaled(p.grad!.dataSync(), scale, p.grad!.shape, p.dtype);
  }
  return norm;
}

/**
 * clipGradNorm for gradients on a device, without reading the norm back: every gradient is multiplied
 * by maxNorm / max(norm, maxNorm), which is 1 when the norm is within the bound.
 */
function clipGradNormOnDevice(list: Variable[], maxNorm: number): void {
  const sq = list.map((p) => p.grad!.square().sum()).reduce((a, b) => a.add(b));
  const scale = sq.sqrt().maximum(maxNorm).reciprocal().mul(maxNorm);
  for (const p of list) p.grad = p.grad!.mul(scale);
}

function scaled(g: TypedArray, scale: number, shape: readonly number[], dtype: Variable['dtype']) {
  const out = allocate(dtype, g.length);
  for (let i = 0; i < g.length; i++) out[i] = g[i] * scale;
  return fromTypedArray(out, shape);
}

export abstract class Optimizer {
  /** The parameters this optimizer updates; compile() fills it in if the optimizer was made without any. */
  params: Variable[] = [];
  lr: number;
  readonly clipNorm?: number;
  readonly globalClipNorm?: number;
  readonly clipValue?: number;
  /** Number of steps taken (Keras's `iterations`); Adam's bias correction counts from it. */
  iterations = 0;
  /** Per-parameter state arrays, by slot name ('m', 'v', 'momentum', …). */
  protected readonly slots = new Map<Variable, Map<string, Float64Array>>();
  /** The same state for parameters on a device, as tensors of the parameter's shape there. */
  protected readonly deviceSlots = new Map<Variable, Map<string, Tensor>>();

  constructor(paramsOrOptions: ParamsOrOptions<OptimizerOptions>, options: OptimizerOptions, defaultLr: number) {
    if (isIterable(paramsOrOptions)) this.params = [...paramsOrOptions];
    this.lr = options.lr ?? defaultLr;
    this.clipNorm = options.clipNorm;
    this.globalClipNorm = options.globalClipNorm;
    this.clipValue = options.clipValue;
    if (!(this.lr > 0)) throw new Error(`${this.constructor.name}: lr must be positive, got ${this.lr}`);
  }

  /** Forget every parameter's gradient (call before each backward, since gradients accumulate). */
  zeroGrad(): void { for (const p of this.params) p.grad = null; }

  /** One update of every parameter that has a gradient (after clipping, if asked). */
  step(): void {
    if (this.globalClipNorm !== undefined) {
      const withGrad = this.params.filter((p) => p.grad !== null);
      if (withGrad.length > 0 && withGrad.every((p) => this.onDevice(p))) clipGradNormOnDevice(withGrad, this.globalClipNorm);
      else clipGradNorm(this.params, this.globalClipNorm);
    }
    this.iterations++;
    for (const p of this.params) {
      if (p.grad === null) continue;
      if (this.onDevice(p)) { p.data = this.stepOnDevice(p); continue; }
      let g = p.grad.dataSync();
      if (this.clipNorm !== undefined || this.clipValue !== undefined) g = this.clipped(g);
      const w = p.data.dataSync();
      const out = allocate(p.dtype, w.length);
      this.update(w, g, out, this.slotsOf(p, w.length));
      p.data = fromTypedArray(out, p.shape);
    }
  }

  /** Write the new values of one parameter into `out`, given its values w and gradient g. */
  protected abstract update(w: TypedArray, g: TypedArray, out: TypedArray, state: Map<string, Float64Array>): void;
  /** The same update with backend ops, for a parameter on a device: returns the new w and replaces the state's tensors. */
  protected abstract updateOnDevice(w: Tensor, g: Tensor, state: Map<string, Tensor>): Tensor;
  /** The state slots each parameter gets, all starting at zero. */
  protected abstract slotNames(): string[];

  /** Options that rebuild this optimizer (save() writes them with the model). */
  getConfig(): Record<string, number | boolean | undefined> {
    return { lr: this.lr, clipNorm: this.clipNorm, globalClipNorm: this.globalClipNorm, clipValue: this.clipValue };
  }

  /** Whether p is updated on its device (float32 there, with a gradient that is not float64). */
  private onDevice(p: Variable): boolean {
    return isOnDevice(p.data) && p.grad !== null && p.grad.dtype !== 'float64';
  }

  /** One parameter's update on its device: clipping as in `clipped`, then updateOnDevice. */
  private stepOnDevice(p: Variable): Tensor {
    let g = p.grad!;
    if (this.clipNorm !== undefined) g = g.mul(g.square().sum().sqrt().maximum(this.clipNorm).reciprocal().mul(this.clipNorm));
    if (this.clipValue !== undefined) g = g.clip(-this.clipValue, this.clipValue);
    let state = this.deviceSlots.get(p);
    if (!state) {
      const zeros = () => new Tensor(getBackend(p.data.backend).upload(allocate('float32', p.data.size)), p.shape);
      state = new Map(this.slotNames().map((name) => [name, zeros()]));
      this.deviceSlots.set(p, state);
    }
    const old = [...state.values()];
    const w = this.updateOnDevice(p.data, g, state);
    const kept = new Set(state.values());
    for (const t of old) if (!kept.has(t)) t.storage.dispose(); // only the optimizer holds its state: free what was replaced
    return w;
  }

  private slotsOf(p: Variable, n: number): Map<string, Float64Array> {
    let state = this.slots.get(p);
    if (!state) {
      state = new Map(this.slotNames().map((name) => [name, new Float64Array(n)]));
      this.slots.set(p, state);
    }
    return state;
  }

  /** g · clipNorm / max(‖g‖, clipNorm), then each element clipped to ±clipValue (Keras's order). */
  private clipped(g: TypedArray): Float64Array {
    const out = Float64Array.from(g);
    if (this.clipNorm !== undefined) {
      let sq = 0;
      for (let i = 0; i < out.length; i++) sq += out[i] * out[i];
      const norm = sqrt(sq);
      if (norm > this.clipNorm) for (let i = 0; i < out.length; i++) out[i] *= this.clipNorm / norm;
    }
    if (this.clipValue !== undefined) {
      const c = this.clipValue;
      for (let i = 0; i < out.length; i++) out[i] = out[i] > c ? c : out[i] < -c ? -c : out[i];
    }
    return out;
  }
}

export interface SGDOptions extends OptimizerOptions {
  /** Default 0 (plain gradient descent). */
  momentum?: number;
  /** Nesterov momentum: look ahead along the velocity. Default false. */
  nesterov?: boolean;
}

/**
 * SGD, Keras's form (lr default 0.01). With momentum μ, a velocity v (starting at 0):
 *   v ← μ·v − lr·g
 *   w ← w + v                      (classical momentum)
 *   w ← w + μ·v − lr·g             (nesterov: the step as seen from the look-ahead point)
 * Without momentum: w ← w − lr·g.
 * (PyTorch keeps v ← μ·v + g and steps w ← w − lr·v: the same path while lr is constant.)
 */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly nesterov: boolean;
  constructor(params?: ParamsOrOptions<SGDOptions>, options: SGDOptions = {}) {
    const opts = isIterable(params) ? options : { ...(params as SGDOptions | undefined), ...options };
    super(params, opts, 0.01);
    this.momentum = opts.momentum ?? 0;
    this.nesterov = opts.nesterov ?? false;
  }
  protected slotNames(): string[] { return this.momentum !== 0 ? ['velocity'] : []; }
  protected update(w: TypedArray, g: TypedArray, out: TypedArray, state: Map<string, Float64Array>): void {
    const lr = this.lr, mu = this.momentum;
    if (mu === 0) {
      for (let i = 0; i < w.length; i++) out[i] = w[i] - lr * g[i];
      return;
    }
    const v = state.get('velocity')!;
    for (let i = 0; i < w.length; i++) {
      v[i] = mu * v[i] - lr * g[i];
      out[i] = this.nesterov ? w[i] + mu * v[i] - lr * g[i] : w[i] + v[i];
    }
  }
  protected updateOnDevice(w: Tensor, g: Tensor, state: Map<string, Tensor>): Tensor {
    const lr = this.lr, mu = this.momentum;
    if (mu === 0) return w.sub(g.mul(lr));
    const v = state.get('velocity')!.mul(mu).sub(g.mul(lr));
    state.set('velocity', v);
    return this.nesterov ? w.add(v.mul(mu)).sub(g.mul(lr)) : w.add(v);
  }
  override getConfig() { return { ...super.getConfig(), momentum: this.momentum, nesterov: this.nesterov }; }
}

export interface AdamOptions extends OptimizerOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/**
 * Adam (Kingma & Ba), Keras's form and defaults: lr 1e-3, β1 0.9, β2 0.999, ε 1e-7. At step t:
 *   m ← m + (1 − β1)(g − m)           (= β1·m + (1 − β1)·g, the running mean of g)
 *   v ← v + (1 − β2)(g² − v)          (the running mean of g²)
 *   α = lr · √(1 − β2ᵗ) / (1 − β1ᵗ)   (both bias corrections folded into the step size)
 *   w ← w − α · m / (√v + ε)
 * ε is added to √v before the bias correction, so it acts like PyTorch's ε times √(1 − β2ᵗ);
 * PyTorch computes w ← w − lr · m̂ / (√v̂ + ε) with m̂ = m/(1 − β1ᵗ), v̂ = v/(1 − β2ᵗ), and ε = 1e-8.
 */
export class Adam extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  constructor(params?: ParamsOrOptions<AdamOptions>, options: AdamOptions = {}) {
    const opts = isIterable(params) ? options : { ...(params as AdamOptions | undefined), ...options };
    super(params, opts, 1e-3);
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.epsilon = opts.epsilon ?? 1e-7;
  }
  protected slotNames(): string[] { return ['m', 'v']; }
  protected update(w: TypedArray, g: TypedArray, out: TypedArray, state: Map<string, Float64Array>): void {
    const { beta1: b1, beta2: b2, epsilon: eps } = this;
    const t = this.iterations;
    const alpha = (this.lr * sqrt(1 - b2 ** t)) / (1 - b1 ** t);
    const m = state.get('m')!, v = state.get('v')!;
    for (let i = 0; i < w.length; i++) {
      const gi = g[i];
      m[i] += (1 - b1) * (gi - m[i]);
      v[i] += (1 - b2) * (gi * gi - v[i]);
      out[i] = w[i] - (alpha * m[i]) / (sqrt(v[i]) + eps);
    }
  }
  protected updateOnDevice(w: Tensor, g: Tensor, state: Map<string, Tensor>): Tensor {
    const { beta1: b1, beta2: b2, epsilon: eps } = this;
    const t = this.iterations;
    const alpha = (this.lr * sqrt(1 - b2 ** t)) / (1 - b1 ** t);
    const m = state.get('m')!, v = state.get('v')!;
    const m2 = m.add(g.sub(m).mul(1 - b1));
    const v2 = v.add(g.square().sub(v).mul(1 - b2));
    state.set('m', m2);
    state.set('v', v2);
    return w.sub(m2.mul(alpha).div(v2.sqrt().add(eps)));
  }
  override getConfig() { return { ...super.getConfig(), beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon }; }
}

export interface RMSpropOptions extends OptimizerOptions {
  /** Decay of the running mean of g² (PyTorch's alpha). Default 0.9. */
  rho?: number;
  momentum?: number;
  epsilon?: number;
  /** Divide by the running variance of g instead of its running second moment. Default false. */
  centered?: boolean;
}

/**
 * RMSprop (Hinton), Keras's form and defaults: lr 1e-3, ρ 0.9, momentum 0, ε 1e-7 (inside the root):
 *   s ← ρ·s + (1 − ρ)·g²
 *   d = s + ε               (centered: a ← ρ·a + (1 − ρ)·g and d = s − a² + ε)
 *   Δ = lr · g / √d
 *   w ← w − Δ               (momentum μ: b ← μ·b + Δ, w ← w − b)
 * PyTorch's defaults differ: lr 1e-2, alpha (= ρ) 0.99, ε 1e-8 added outside the root (√s + ε).
 */
export class RMSprop extends Optimizer {
  readonly rho: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly centered: boolean;
  constructor(params?: ParamsOrOptions<RMSpropOptions>, options: RMSpropOptions = {}) {
    const opts = isIterable(params) ? options : { ...(params as RMSpropOptions | undefined), ...options };
    super(params, opts, 1e-3);
    this.rho = opts.rho ?? 0.9;
    this.momentum = opts.momentum ?? 0;
    this.epsilon = opts.epsilon ?? 1e-7;
    this.centered = opts.centered ?? false;
  }
  protected slotNames(): string[] {
    return ['s', ...(this.centered ? ['a'] : []), ...(this.momentum > 0 ? ['b'] : [])];
  }
  protected update(w: TypedArray, g: TypedArray, out: TypedArray, state: Map<string, Float64Array>): void {
    const { rho, momentum: mu, epsilon: eps, lr } = this;
    const s = state.get('s')!, a = state.get('a'), b = state.get('b');
    for (let i = 0; i < w.length; i++) {
      const gi = g[i];
      s[i] = rho * s[i] + (1 - rho) * gi * gi;
      let d = s[i] + eps;
      if (a) {
        a[i] = rho * a[i] + (1 - rho) * gi;
        d -= a[i] * a[i];
      }
      const delta = (lr * gi) / sqrt(d);
      if (b) {
        b[i] = mu * b[i] + delta;
        out[i] = w[i] - b[i];
      } else out[i] = w[i] - delta;
    }
  }
  protected updateOnDevice(w: Tensor, g: Tensor, state: Map<string, Tensor>): Tensor {
    const { rho, momentum: mu, epsilon: eps, lr } = this;
    const s = state.get('s')!.mul(rho).add(g.square().mul(1 - rho));
    state.set('s', s);
    let d = s.add(eps);
    if (state.has('a')) {
      const a = state.get('a')!.mul(rho).add(g.mul(1 - rho));
      state.set('a', a);
      d = d.sub(a.square());
    }
    const delta = g.mul(lr).div(d.sqrt());
    if (!state.has('b')) return w.sub(delta);
    const b = state.get('b')!.mul(mu).add(delta);
    state.set('b', b);
    return w.sub(b);
  }
  override getConfig() {
    return { ...super.getConfig(), rho: this.rho, momentum: this.momentum, epsilon: this.epsilon, centered: this.centered };
  }
}

const BY_NAME = { sgd: SGD, adam: Adam, rmsprop: RMSprop } as const;
export type OptimizerName = keyof typeof BY_NAME;

/** An optimizer from its Keras name ('adam', 'sgd', 'rmsprop'; any case) with default options. */
export function getOptimizer(spec: string | Optimizer, options: OptimizerOptions = {}): Optimizer {
  if (spec instanceof Optimizer) return spec;
  const Ctor = BY_NAME[spec.toLowerCase() as OptimizerName];
  if (!Ctor) throw new Error(`optimizer: unknown optimizer '${spec}' (known: ${Object.keys(BY_NAME).join(', ')})`);
  return new Ctor(options);
}
