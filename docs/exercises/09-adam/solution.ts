/** Exercise 09, a reference solution, with Tensor ops (gradlab's kernel does the same in one loop). */
import type { Tensor } from 'gradlab';
import type { AdamHyper } from './exercise';

export function adamStep(w: Tensor, g: Tensor, m: Tensor, v: Tensor, t: number, { lr, beta1, beta2, epsilon }: AdamHyper): { w: Tensor; m: Tensor; v: Tensor } {
  const mNew = m.mul(beta1).add(g.mul(1 - beta1));
  const vNew = v.mul(beta2).add(g.square().mul(1 - beta2));
  const alpha = (lr * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
  return { w: w.sub(mNew.mul(alpha).div(vNew.sqrt().add(epsilon))), m: mNew, v: vNew };
}
