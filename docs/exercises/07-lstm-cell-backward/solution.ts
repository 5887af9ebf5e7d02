/** Exercise 07, a reference solution: the forward again, then the chain rule gate by gate. */
import { concat } from 'gradlab';
import type { Tensor } from 'gradlab';
import type { LstmCellGrads } from './exercise';

export function lstmCellBackward(xz: Tensor, hPrev: Tensor, cPrev: Tensor, U: Tensor, dh: Tensor, dc: Tensor): LstmCellGrads {
  const u = U.shape[0];
  const z = xz.add(hPrev.matmul(U));
  const gate = (k: number): Tensor => z.slice([null, [k * u, (k + 1) * u]]);
  const i = gate(0).sigmoid(), f = gate(1).sigmoid(), cc = gate(2).tanh(), o = gate(3).sigmoid();
  const tanhC = f.mul(cPrev).add(i.mul(cc)).tanh();
  // c's total gradient: from the next step (dc) and through h = o ⊙ tanh(c)
  const dcTotal = dc.add(dh.mul(o).mul(tanhC.square().neg().add(1)));
  const sigmoidGrad = (s: Tensor): Tensor => s.mul(s.neg().add(1));
  const dz = concat([
    dcTotal.mul(cc).mul(sigmoidGrad(i)), // ∂c/∂i = c̃
    dcTotal.mul(cPrev).mul(sigmoidGrad(f)), // ∂c/∂f = c_prev
    dcTotal.mul(i).mul(cc.square().neg().add(1)), // ∂c/∂c̃ = i
    dh.mul(tanhC).mul(sigmoidGrad(o)), // ∂h/∂o = tanh(c)
  ], 1);
  return { dxz: dz, dhPrev: dz.matmul(U.T), dcPrev: dcTotal.mul(f), dU: hPrev.T.matmul(dz) };
}
