/**
 * The base of every optimizer: how parameters move once backward() has filled their `.grad`.
 * PyTorch's shape (`new Adam(params, { lr })`, `zeroGrad()`, `step()`) with Keras's formulas,
 * defaults and clipping options. What is common lives here once: the parameter list, the state slots
 * (tensors of each parameter's shape, on its backend, in its dtype), gradient clipping, the step
 * count. Each rule is one file (sgd.ts, adam.ts, rmsprop.ts) whose update is a backend kernel
 * (OptimizerKernels in @gradlab/tensor), so a step runs where the parameters live and reads nothing back.
 */
import type { Variable } from '@gradlab/autograd';
import { zerosLike } from '@gradlab/tensor';
import type { Tensor } from '@gradlab/tensor';

export interface OptimizerOptions {
  /** Learning rate (Keras's learning_rate). */
  lr?: number;
  /** The same as lr, under TF.js's and Keras's name (give one of the two). */
  learningRate?: number;
  /** Keras's clipnorm: each gradient is rescaled so that its own L2 norm is at most this. */
  clipNorm?: number;
  /** Keras's global_clipnorm: all gradients are rescaled together so that their joint L2 norm is at most this. */
  globalClipNorm?: number;
  /** Keras's clipvalue: each gradient element is clipped to [−clipValue, clipValue]. */
  clipValue?: number;
}

/** An optimizer's state, as state() gives it and loadState() takes it. */
export interface OptimizerState {
  className: string;
  iterations: number;
  slots: Array<{ param: number; name: string; value: Tensor }>;
}

export type ParamsOrOptions<O> = Iterable<Variable> | O | undefined;

export function isIterable(x: unknown): x is Iterable<Variable> {
  return typeof x === 'object' && x !== null && Symbol.iterator in x;
}

/** The options of a subclass, whether it was called as (params, options) or as (options). */
export function optionsOf<O>(params: ParamsOrOptions<O>, options: O): O {
  return isIterable(params) ? options : { ...(params as O | undefined), ...options };
}

/** Throw unless `value` is a finite number in the range `ok` describes, naming the optimizer and the option. */
export function checkOption(optimizer: string, name: string, value: number, ok: (v: number) => boolean, range: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) {
    throw new Error(`${optimizer}: ${name} must be ${range}, got ${value}`);
  }
}

/** A decay rate or momentum: in [0, 1) (1 would never forget; above 1 diverges). */
export const checkDecay = (optimizer: string, name: string, value: number): void =>
  checkOption(optimizer, name, value, (v) => v >= 0 && v < 1, 'in [0, 1)');
/** An ε added for stability: finite and not negative. */
export const checkEpsilon = (optimizer: string, value: number): void =>
  checkOption(optimizer, 'epsilon', value, (v) => v >= 0, 'a non-negative finite number');

/**
 * The L2 norm of all the gradients together, √(Σ g²) over every element of every parameter that has
 * one, as a scalar tensor (read it with .item() when you want the number). If it exceeds maxNorm, every
 * gradient is multiplied by maxNorm / norm, so their directions are kept:
 *   g ← g · maxNorm / max(norm, maxNorm)
 * written without a comparison on the host, so nothing is read back from a device.
 * (PyTorch's clip_grad_norm_ divides by norm + 1e-6; Keras does not.)
 */
export function clipGradNorm(params: Iterable<Variable>, maxNorm: number): Tensor | null {
  const list = [...params].filter((p) => p.grad !== null);
  if (list.length === 0) return null;
  const norm = list.map((p) => p.grad!.square().sum()).reduce((a, b) => a.add(b)).sqrt();
  const scale = norm.maximum(maxNorm).reciprocal().mul(maxNorm);
  for (const p of list) p.grad = p.grad!.mul(scale.astype(p.grad!.dtype));
  return norm;
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
  /** Per-parameter state, by slot name ('m', 'v', 'velocity', …): tensors of the parameter's shape. */
  protected readonly slots = new Map<Variable, Map<string, Tensor>>();

  /** The name saved files record: the class's static className (minifiers rename classes), else its name. */
  get className(): string {
    const ctor = this.constructor as { className?: unknown; name: string };
    return Object.prototype.hasOwnProperty.call(ctor, 'className') && typeof ctor.className === 'string' ? ctor.className : ctor.name;
  }

  /** `ownOptions`: the subclass's option names; any other name given is refused, naming it (a typo would go unnoticed). */
  constructor(paramsOrOptions: ParamsOrOptions<OptimizerOptions>, options: OptimizerOptions, defaultLr: number, ownOptions: readonly string[] = []) {
    const name = this.className;
    if (isIterable(paramsOrOptions)) {
      this.params = [...paramsOrOptions];
      // An empty list would make every step() a silent no-op: the usual cause is an unbuilt model.
      if (this.params.length === 0) {
        throw new Error(`${name}: given no parameters to update (an empty list). If they come from model.parameters(), build the ` +
          'model first (give its first layer an inputShape, or call it on a batch); or make the optimizer without them and compile() a model with it');
      }
    }
    const known = ['lr', 'learningRate', 'clipNorm', 'globalClipNorm', 'clipValue', ...ownOptions];
    const unknown = Object.keys(options).filter((key) => !known.includes(key) && (options as Record<string, unknown>)[key] !== undefined);
    if (unknown.length > 0) throw new Error(`${name}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} (known: ${known.join(', ')})`);
    if (options.lr !== undefined && options.learningRate !== undefined && options.lr !== options.learningRate) {
      throw new Error(`${name}: lr ${options.lr} and learningRate ${options.learningRate} are the same option; give one of them`);
    }
    this.lr = options.lr ?? options.learningRate ?? defaultLr;
    checkOption(name, 'lr', this.lr, (v) => v > 0, 'a positive finite number');
    for (const key of ['clipNorm', 'globalClipNorm', 'clipValue'] as const) {
      if (options[key] !== undefined) checkOption(name, key, options[key]!, (v) => v > 0, 'a positive finite number');
    }
    this.clipNorm = options.clipNorm;
    this.globalClipNorm = options.globalClipNorm;
    this.clipValue = options.clipValue;
  }

  /** Forget every parameter's gradient (call before each backward, since gradients accumulate). */
  zeroGrad(): void { for (const p of this.params) p.grad = null; }

  /** One update of every parameter that has a gradient, after clipping (Keras's order: global norm, norm, value). */
  step(): void {
    if (this.params.length === 0) {
      throw new Error(`${this.className}: step() has no parameters to update; pass them (new ${this.className}(model.parameters(), …)) or compile() a model with this optimizer`);
    }
    checkOption(this.className, 'lr', this.lr, (v) => v > 0, 'a positive finite number'); // schedules set it
    if (this.globalClipNorm !== undefined) clipGradNorm(this.params, this.globalClipNorm);
    this.iterations++;
    for (const p of this.params) {
      if (p.grad === null) continue;
      let g = p.grad;
      if (this.clipNorm !== undefined) {
        const c = this.clipNorm;
        g = g.mul(g.square().sum().sqrt().maximum(c).reciprocal().mul(c)); // g · c / max(‖g‖, c)
      }
      if (this.clipValue !== undefined) g = g.clip(-this.clipValue, this.clipValue);
      const state = this.slotsOf(p);
      const old = [...state.values()];
      p.data = this.update(p.data, g, state);
      // Only the optimizer holds its state: free what was replaced now (device memory is not the GC's).
      const kept = new Set(state.values());
      for (const t of old) if (!kept.has(t)) t.storage.dispose();
    }
  }

  /** The new value of one parameter w from its gradient g; replaces the tensors in `state` with their new values. */
  protected abstract update(w: Tensor, g: Tensor, state: Map<string, Tensor>): Tensor;
  /** The state slots each parameter gets, all starting at zero. */
  protected abstract slotNames(): string[];

  /** Options that rebuild this optimizer (save() writes them with the model). */
  getConfig(): Record<string, number | boolean | undefined> {
    return { lr: this.lr, clipNorm: this.clipNorm, globalClipNorm: this.globalClipNorm, clipValue: this.clipValue };
  }

  /**
   * What a resumed run needs besides the weights: the step count and every parameter's slots (Adam's
   * m and v, RMSprop's averages, momentum's velocity), by the parameter's position in `params`.
   */
  state(): OptimizerState {
    const slots: OptimizerState['slots'] = [];
    this.params.forEach((p, param) => {
      for (const [name, value] of this.slots.get(p) ?? []) slots.push({ param, name, value });
    });
    return { className: this.className, iterations: this.iterations, slots };
  }

  /** Put back a state() taken from an optimizer of the same class over parameters of the same shapes. */
  loadState(state: OptimizerState): void {
    const name = this.className;
    if (state.className !== name) throw new Error(`${name}: loadState: the state is ${state.className}'s`);
    if (!(Number.isInteger(state.iterations) && state.iterations >= 0)) throw new Error(`${name}: loadState: iterations must be a non-negative integer, got ${state.iterations}`);
    const known = new Set(this.slotNames());
    const next = new Map<Variable, Map<string, Tensor>>();
    for (const { param, name: slot, value } of state.slots) {
      const p = this.params[param];
      if (!p) throw new Error(`${name}: loadState: slot '${slot}' is for parameter ${param}, but the optimizer has ${this.params.length}`);
      if (!known.has(slot)) throw new Error(`${name}: loadState: unknown slot '${slot}' (${name} keeps ${[...known].join(', ')})`);
      if (value.shape.length !== p.shape.length || value.shape.some((d, k) => d !== p.shape[k])) {
        throw new Error(`${name}: loadState: slot '${slot}' of parameter ${param} is [${value.shape.join(',')}], the parameter is [${p.shape.join(',')}]`);
      }
      if (!next.has(p)) next.set(p, new Map());
      next.get(p)!.set(slot, value.astype(p.data.dtype));
    }
    this.slots.clear();
    for (const [p, slots] of next) this.slots.set(p, slots);
    this.iterations = state.iterations;
  }

  private slotsOf(p: Variable): Map<string, Tensor> {
    let state = this.slots.get(p);
    if (!state) {
      state = new Map(this.slotNames().map((name) => [name, zerosLike(p.data)]));
      this.slots.set(p, state);
    }
    return state;
  }
}
