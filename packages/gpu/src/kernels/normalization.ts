/**
 * The gpu backend's normalisation kernels (NormalizationKernels in @gradlab/tensor): BatchNorm and
 * GroupNorm forward and backward (LayerNorm is GroupNorm with one group on [M, C]). Each is a few of
 * reduce.ts's levelled reductions and one elementwise kernel per output that reads its statistics
 * directly. The formulas are in @gradlab/tensor's backend.ts and, derived, in docs/layers.md; the CPU's
 * loops are packages/tensor/src/cpu/normalization.ts.
 */
import type { Tensor } from '@gradlab/tensor';
import { launch, storageOf } from '../context.js';
import type { GpuContext } from '../context.js';
import { idiv, literal } from '../codegen.js';
import { copy } from './elementwise.js';
import { reduce } from './reduce.js';
import { free, matrix, rows } from './matrix.js';
import type { Inputs } from './matrix.js';

// ---- BatchNorm --------------------------------------------------------------------------------

export function batchNormForward(ctx: GpuContext, x0: Tensor, gamma: Tensor, beta: Tensor, epsilon: number, mask: Tensor | null) {
  const temps: Tensor[] = [];
  const { x, M, C } = matrix(ctx, 'batchNormForward', x0, temps);
  const shape: [number, number] = [M, C];
  const eps = literal(epsilon);
  let mean: Tensor, variance: Tensor;
  if (mask === null) {
    mean = reduce(ctx, 'mean', x, [0]);                                                         // [1, C]
    const sq = rows(ctx, 'bn-dev2', shape, { x: [x, 'full'], mu: [mean, 'col'] }, '(x - mu) * (x - mu)');
    variance = reduce(ctx, 'mean', sq, [0]);
    temps.push(sq);
  } else {
    // weighted by the 0/1 mask: mean = Σ m·x / Σ m, variance = Σ m·(x − mean)² / Σ m
    const count = reduce(ctx, 'sum', mask.reshape([M, 1]), [0, 1]);                           // [1, 1]
    const mx = rows(ctx, 'bn-mx', shape, { x: [x, 'full'], m: [mask, 'row'] }, 'm * x');
    const sum = reduce(ctx, 'sum', mx, [0]);
    mean = rows(ctx, 'bn-div', [1, C], { s: [sum, 'col'], n: [count, 'one'] }, 's / n');
    const sq = rows(ctx, 'bn-mdev2', shape, { x: [x, 'full'], mu: [mean, 'col'], m: [mask, 'row'] }, 'm * (x - mu) * (x - mu)');
    const sqSum = reduce(ctx, 'sum', sq, [0]);
    variance = rows(ctx, 'bn-div', [1, C], { s: [sqSum, 'col'], n: [count, 'one'] }, 's / n');
    temps.push(count, mx, sum, sq, sqSum);
  }
  const invstd = rows(ctx, 'bn-invstd', [1, C], { v: [variance, 'col'] }, `1.0 / Math.sqrt(v + ${eps})`);
  const xHat = rows(ctx, 'bn-xhat', shape, { x: [x, 'full'], mu: [mean, 'col'], s: [invstd, 'col'] }, '(x - mu) * s');
  const y = rows(ctx, 'bn-y', shape, { h: [xHat, 'full'], g: [gamma, 'col'], b: [beta, 'col'] }, 'g * h + b');
  free(temps);
  return { y: y.reshape(x0.shape), xHat: xHat.reshape(x0.shape), mean: mean.reshape([C]), variance: variance.reshape([C]), invstd: invstd.reshape([C]) };
}

export function batchNormBackward(ctx: GpuContext, dy0: Tensor, xHat0: Tensor, invstd: Tensor, gamma: Tensor, mask: Tensor | null) {
  const temps: Tensor[] = [];
  const { x: dy, M, C } = matrix(ctx, 'batchNormBackward', dy0, temps);
  const { x: xHat } = matrix(ctx, 'batchNormBackward', xHat0, temps);
  const shape: [number, number] = [M, C];
  const sumG = reduce(ctx, 'sum', dy, [0]);                                                     // Σ_r dy   [1, C]
  const gx = rows(ctx, 'bn-gx', shape, { g: [dy, 'full'], h: [xHat, 'full'] }, 'g * h');
  const sumGx = reduce(ctx, 'sum', gx, [0]);                                                    // Σ_r dy·x̂
  const count = mask === null ? null : reduce(ctx, 'sum', mask.reshape([M, 1]), [0, 1]);
  const sums: Inputs = { g: [dy, 'full'], h: [xHat, 'full'], sg: [sumG, 'col'], sgx: [sumGx, 'col'] };
  let dx: Tensor;
  if (mask === null || count === null) {
    dx = rows(ctx, 'bn-dx', shape, { ...sums, s: [invstd, 'col'], w: [gamma, 'col'] }, `w * s * (g - sg / ${literal(M)} - h * sgx / ${literal(M)})`);
  } else {
    // γ·invstd first (one [1, C] kernel): the masked dx kernel then reads 7 inputs, not 8, which a WebGPU
    // device allows (8 storage buffers per shader by default, one of them the output).
    const scale = rows(ctx, 'bn-ws', [1, C], { w: [gamma, 'col'], s: [invstd, 'col'] }, 'w * s');
    dx = rows(ctx, 'bn-dx', shape, { ...sums, ws: [scale, 'col'], m: [mask, 'row'], n: [count, 'one'] }, 'ws * (g - m * sg / n - m * h * sgx / n)');
    temps.push(count, scale);
  }
  free([...temps, gx]);
  return { dx: dx.reshape(dy0.shape), dGamma: sumGx.reshape([C]), dBeta: sumG.reshape([C]) };
}

// ---- GroupNorm: x [B, …, C] as [B, S, G, K]; statistics per (b, g) sit at b·G + g ---------------------

/** out[o] = expr over x-shaped inputs ('full'), per-channel ones ('chan', at c) and per-group ones ('group', at b·G + g). */
function grouped(ctx: GpuContext, op: string, shape: readonly number[], groups: number,
  inputs: Record<string, [Tensor, 'full' | 'chan' | 'group']>, expr: string): Tensor {
  const C = shape[shape.length - 1], size = shape.reduce((a, b) => a * b, 1), B = shape[0], S = size / (B * C), K = C / groups;
  const names = Object.keys(inputs);
  const at = { full: 'o', chan: 'c', group: 'b * ' + groups + ' + g' };
  return launch(ctx, 'float32', shape, {
    op, key: `${B},${S},${C},${groups}|${names.map((n) => `${n}:${inputs[n][1]}`).join(',')}|${expr}`,
    inputs: Object.fromEntries(names.map((n) => [n, storageOf(inputs[n][0])])),
    body: (read) => [
      `  const b = ${idiv('o', S * C)};`,
      `  const c = o - ${idiv('o', C)} * ${C};`,
      `  const g = ${idiv('c', K)};`,
      ...names.map((n) => `  const ${n} = ${read(n, at[inputs[n][1]])};`),
      `  return ${expr};`,
    ].join('\n'),
  });
}

/** x as a contiguous tensor (a copy, recorded in temps, when it is a strided view). */
function plain(ctx: GpuContext, x: Tensor, temps: Tensor[]): Tensor {
  if (x.isContiguous() && x.offset === 0) return x;
  const c = copy(ctx, x, x.dtype);
  temps.push(c);
  return c;
}

export function groupNormForward(ctx: GpuContext, x0: Tensor, gamma: Tensor, beta: Tensor, groups: number, epsilon: number) {
  const temps: Tensor[] = [];
  const x = plain(ctx, x0, temps);
  const C = x.shape[x.rank - 1], B = x.shape[0], S = x.size / (B * C), K = C / groups;
  const view = [B, S, groups, K];
  const mean = reduce(ctx, 'mean', x.reshape(view), [1, 3]);                                   // [B, 1, G, 1]
  const sq = grouped(ctx, 'gn-dev2', x.shape, groups, { x: [x, 'full'], mu: [mean, 'group'] }, '(x - mu) * (x - mu)');
  const variance = reduce(ctx, 'mean', sq.reshape(view), [1, 3]);
  const invstd = rows(ctx, 'gn-invstd', [B * groups, 1], { v: [variance, 'full'] }, `1.0 / Math.sqrt(v + ${literal(epsilon)})`);
  const xHat = grouped(ctx, 'gn-xhat', x.shape, groups, { x: [x, 'full'], mu: [mean, 'group'], s: [invstd, 'group'] }, '(x - mu) * s');
  const y = grouped(ctx, 'gn-y', x.shape, groups, { h: [xHat, 'full'], w: [gamma, 'chan'], b0: [beta, 'chan'] }, 'w * h + b0');
  free([...temps, mean, sq, variance]);
  return { y, xHat, invstd: invstd.reshape([B, groups]) };
}

export function groupNormBackward(ctx: GpuContext, dy0: Tensor, xHat: Tensor, invstd: Tensor, gamma: Tensor, groups: number) {
  const temps: Tensor[] = [];
  const dy = plain(ctx, dy0, temps);
  const C = xHat.shape[xHat.rank - 1], B = xHat.shape[0], S = xHat.size / (B * C), K = C / groups;
  const view = [B, S, groups, K];
  const h = grouped(ctx, 'gn-h', xHat.shape, groups, { d: [dy, 'full'], w: [gamma, 'chan'] }, 'd * w');   // h = γ·dy
  const hx = grouped(ctx, 'gn-hx', xHat.shape, groups, { h: [h, 'full'], x: [xHat, 'full'] }, 'h * x');
  const meanH = reduce(ctx, 'mean', h.reshape(view), [1, 3]), meanHx = reduce(ctx, 'mean', hx.reshape(view), [1, 3]);
  const dx = grouped(ctx, 'gn-dx', xHat.shape, groups,
    { h: [h, 'full'], x: [xHat, 'full'], mh: [meanH, 'group'], mhx: [meanHx, 'group'], s: [invstd, 'group'] }, 's * (h - mh - x * mhx)');
  const dyx = grouped(ctx, 'gn-dyx', xHat.shape, groups, { d: [dy, 'full'], x: [xHat, 'full'] }, 'd * x');
  const dGamma = reduce(ctx, 'sum', dyx.reshape([B * S, C]), [0]), dBeta = reduce(ctx, 'sum', dy.reshape([B * S, C]), [0]);
  free([...temps, h, hx, meanH, meanHx, dyx]);
  return { dx, dGamma: dGamma.reshape([C]), dBeta: dBeta.reshape([C]) };
}
