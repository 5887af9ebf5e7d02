/** Exercise 01, a reference solution (the same as packages/autograd/src/ops/binary.ts). */
import { formatShape } from 'gradlab';
import type { Tensor } from 'gradlab';

export function sumToShape(grad: Tensor, shape: readonly number[]): Tensor {
  const lead = grad.rank - shape.length;
  const fail = (): Error => new Error(`sumToShape: a gradient of shape ${formatShape(grad.shape)} is not a broadcast of ${formatShape(shape)}`);
  if (lead < 0) throw fail();
  const axes: number[] = [];
  for (let k = 0; k < grad.rank; k++) {
    const target = k < lead ? undefined : shape[k - lead];
    if (target === undefined || (target === 1 && grad.shape[k] !== 1)) axes.push(k); // broadcast along k: sum it
    else if (target !== grad.shape[k]) throw fail();
  }
  return (axes.length > 0 ? grad.sum(axes, true) : grad).reshape(shape);
}
