/**
 * Helpers shared by the gpu backend's fused kernels (normalization.ts, losses.ts, recurrent.ts): an
 * elementwise kernel over a matrix [M, C] whose inputs are read per element, per row, per column or
 * once, so that statistics are never broadcast into a full-size temporary.
 * x is a matrix [M, C]: element o sits in row r = ⌊o/C⌋, column c = o − r·C.
 */
import type { Tensor } from '@gradlab/tensor';
import { formatShape } from '@gradlab/tensor';
import { launch, storageOf } from '../context.js';
import type { GpuContext } from '../context.js';
import { idiv } from '../codegen.js';
import { copy } from './elementwise.js';

/** How a kernel input is indexed from (r, c): the full matrix, one value per column, per row, or one value. */
export type Kind = 'full' | 'col' | 'row' | 'one';
export type Inputs = Record<string, [Tensor, Kind]>;

/** out[r, c] = expr, where each input name in expr is that input read at (r, c) as its kind says. */
export function rows(ctx: GpuContext, op: string, shape: [number, number], inputs: Inputs, expr: string): Tensor {
  const [M, C] = shape;
  const names = Object.keys(inputs);
  const at: Record<Kind, string> = { full: 'o', col: 'c', row: 'r', one: '0' };
  return launch(ctx, 'float32', shape, {
    op, key: `${M},${C}|${names.map((n) => `${n}:${inputs[n][1]}`).join(',')}|${expr}`,
    inputs: Object.fromEntries(names.map((n) => [n, storageOf(inputs[n][0])])),
    uniforms: Object.fromEntries(names.map((n) => [`${n}Offset`, inputs[n][0].offset])),
    body: (read) => [
      `  const r = ${idiv('o', C)};`,
      `  const c = o - r * ${C};`,
      ...names.map((n) => `  const ${n} = ${read(n, `${at[inputs[n][1]]} + ${n}Offset`)};`),
      `  return ${expr};`,
    ].join('\n'),
  });
}

/** x as a contiguous [M, C] matrix (a copy when it is a strided view). */
export function matrix(ctx: GpuContext, op: string, x: Tensor, temps: Tensor[]): { x: Tensor; M: number; C: number } {
  if (x.rank < 1) throw new Error(`${op}: expected a tensor with a feature axis, got shape ${formatShape(x.shape)}`);
  const C = x.shape[x.rank - 1], M = C === 0 ? 0 : x.size / C;
  let m = x.isContiguous() && x.offset === 0 ? x : copy(ctx, x, x.dtype);
  if (m !== x) temps.push(m);
  m = m.reshape([M, C]);
  return { x: m, M, C };
}

export function free(temps: Tensor[]): void {
  for (const t of temps) t.storage.dispose();
}


