/**
 * What the parts of Model that live in their own files (model-checks.ts, model-step.ts, model-loop.ts)
 * need of a model beyond its public members: the protected hooks that Sequential, Functional and a
 * subclassed model override. TypeScript lets only the class and its subclasses call a protected method,
 * so the model hands these parts its hooks bound to itself (Model's internals()): each call still
 * reaches the subclass's override, exactly as `this.hook(…)` inside the class did.
 */
import type { Variable } from '@gradlab/autograd';
import type { Tensor } from '@gradlab/tensor';
import type { CallOptions, SymbolicShape } from '../layer.js';
import type { Loss } from '../losses.js';
import type { Optimizer } from '../optimizers/index.js';
import type { BatchExpectations } from './check-batch.js';
import type { Ordered } from './fit-data.js';
import type { ModelNames } from './fit-inputs.js';
import type { Model } from './model.js';

export interface ModelInternals {
  /** The model itself, for its public state (name, heads, metrics, stopTraining, …). */
  readonly model: Model;
  /** Its inputs' and outputs' names (fit-inputs.ts). */
  names(): ModelNames;
  outputShapeList(): SymbolicShape[] | null;
  checkInputs(op: string, x: Tensor[]): void;
  dataExpectations(x: Tensor): Omit<BatchExpectations, 'model'>;
  checkData(op: string, x: Ordered, y: Ordered): void;
  forwardForLoss(x: Variable | Variable[], options: CallOptions): { pred: Variable; loss: Loss };
  forwardForLosses(x: Variable | Variable[], options: CallOptions, losses: Loss[]): Array<{ pred: Variable; loss: Loss }>;
  requireCompiled(): { loss: Loss; optimizer: Optimizer };
}
