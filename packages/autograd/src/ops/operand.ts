/**
 * What the differentiable ops accept. A user can mix Variables, plain Tensors and numbers:
 * `F.mul(x, 2)`, `F.add(h, biasTensor)`. Only Variables that require grad receive gradients; a Tensor or
 * a number becomes a constant (a Variable with requiresGrad false), so the engine skips it.
 */
import { Tensor, scalar } from '@gradlab/tensor';
import type { DType } from '@gradlab/tensor';
import { Variable } from '../variable.js';
import { defineOp } from '../engine.js';
import type { OpDefinition } from '../engine.js';

export type Operand = Variable | Tensor | number;

/**
 * `x` as a Variable. A number becomes a rank-0 constant of `like`'s dtype (so that `x.mul(2)` on a
 * float64 x stays float64), or float32 when `like` is int32 and the number is fractional.
 */
export function lift(x: Operand, like?: Variable): Variable {
  if (x instanceof Variable) return x;
  if (x instanceof Tensor) return new Variable(x);
  if (typeof x !== 'number') throw new Error(`expected a Variable, a Tensor or a number, got ${typeof x}`);
  const dtype: DType = like === undefined || (like.dtype === 'int32' && !Number.isInteger(x)) ? 'float32' : like.dtype;
  return new Variable(scalar(x, dtype));
}

/** Both operands of a binary op as Variables; a number takes the dtype of the other operand. */
export function liftPair(a: Operand, b: Operand): [Variable, Variable] {
  if (typeof a === 'number' && typeof b === 'number') throw new Error('expected at least one Variable or Tensor, got two numbers');
  const vb = typeof b === 'number' ? undefined : lift(b);
  const va = lift(a, vb);
  return [va, vb ?? lift(b, va)];
}

/** Define an op of one input and no options, and return it as a plain function `f(x)`. */
export function unaryOp(name: string, definition: OpDefinition<undefined>): (x: Operand) => Variable {
  const op = defineOp(name, definition);
  return (x) => op([lift(x)], undefined);
}

/** Define an op of two broadcast inputs, and return it as a plain function `f(a, b)`. */
export function binaryOp(name: string, definition: OpDefinition<undefined>): (a: Operand, b: Operand) => Variable {
  const op = defineOp(name, definition);
  return (a, b) => op(liftPair(a, b), undefined);
}
