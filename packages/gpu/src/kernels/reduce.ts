/**
 * Reductions on the device: sum, mean, max, min, prod, argmax/argmin and the variance.
 *
 * As on the CPU (cpu/reduce.ts), the input is seen as [outer, R, inner] (R = the product of the
 * reduced axes) and the result is [outer, inner]. The difference is the shape of the work: a GPU
 * runs thousands of threads at once, and one thread per output element with a loop over all of R
 * leaves it idle when the output is small (the sum of a whole tensor is one thread). So a long R is
 * folded in levels, as a parallel reduction is:
 *
 *   level 1: [outer, R, inner]        → [outer, ⌈R/B⌉, inner]   each thread folds B values
 *   level 2: [outer, ⌈R/B⌉, inner]    → [outer, ⌈R/B²⌉, inner]  …until at most B remain
 *
 * That also helps precision: each float32 partial sum adds at most B = 128 numbers, where one
 * running sum over a million values would lose the small ones to rounding.
 */
import type { Tensor } from '@gradlab/tensor';
import type { ReduceOp } from '@gradlab/tensor';
import { launch, storageOf } from '../context.js';
import type { GpuContext } from '../context.js';
import { idiv, literal } from '../codegen.js';
import { binary, copy, unary } from './elementwise.js';

const BLOCK = 128;

/** x as a contiguous [outer, R, inner] block, plus any temporary copy to dispose afterwards. */
interface Block { x: Tensor; outer: number; R: number; inner: number; temp: Tensor | null }

function blockOf(ctx: GpuContext, x: Tensor, axes: readonly number[]): Block {
  const dims = x.shape.map((d, k) => ({ d, k })).filter(({ d }) => d !== 1);
  const reduced = dims.filter(({ k }) => axes.includes(k));
  const product = (list: { d: number }[]) => list.reduce((p, a) => p * a.d, 1);
  if (x.isContiguous()) {
    if (reduced.length === 0) return { x, outer: x.size, R: 1, inner: 1, temp: null };
    const first = dims.findIndex(({ k }) => axes.includes(k));
    const last = first + reduced.length - 1;
    if (dims.slice(first, last + 1).every(({ k }) => axes.includes(k))) {
      return { x, outer: product(dims.slice(0, first)), R: product(reduced), inner: product(dims.slice(last + 1)), temp: null };
    }
  }
  // Move the reduced axes to the end and copy: [kept…, reduced…], inner = 1.
  const kept = x.shape.map((_, k) => k).filter((k) => !axes.includes(k));
  const moved = copy(ctx, x.transpose([...kept, ...axes]), x.dtype);
  return { x: moved, outer: kept.reduce((p, k) => p * x.shape[k], 1), R: axes.reduce((p, k) => p * x.shape[k], 1), inner: 1, temp: moved };
}

function keptShape(x: Tensor, axes: readonly number[]): number[] {
  return x.shape.map((d, k) => (axes.includes(k) ? 1 : d));
}

/** The fold of one value `v` into the accumulator `acc`, per op (max/min keep a NaN once seen). */
const FOLD: Record<ReduceOp, string> = {
  sum: 'acc = acc + v;',
  mean: 'acc = acc + v;',
  prod: 'acc = acc * v;',
  max: 'if (v > acc || v != v) { acc = v; }',
  min: 'if (v < acc || v != v) { acc = v; }',
};
const START: Record<ReduceOp, string> = { sum: '0.0', mean: '0.0', prod: '1.0', max: '', min: '' };

/**
 * One level: out[oi, p, j] = fold of x[oi, r, j] for r in [p·span, min((p+1)·span, R)).
 * With span ≥ R this is the whole reduction. `scale` multiplies the result (1/N for a mean).
 */
function foldLevel(ctx: GpuContext, op: ReduceOp, b: Block, span: number, scale: number): Tensor {
  const { outer, R, inner } = b;
  const parts = Math.ceil(R / span);
  const first = op === 'max' || op === 'min';
  const body = (read: (n: string, p: string) => string) => [
    `  const oi = ${idiv('o', parts * inner)};`,
    `  const rest = o - oi * ${parts * inner};`,
    `  const p = ${idiv('rest', inner)};`,
    `  const j = rest - p * ${inner};`,
    `  const base = oi * ${R * inner} + j + xOffset;`,
    `  const r0 = p * ${span};`,
    first ? `  let acc = ${read('x', `base + r0 * ${inner}`)};` : `  let acc = ${START[op]};`,
    `  for (let t = ${first ? 1 : 0}; t < ${Math.min(span, R)}; t++) {`,
    `    if (r0 + t < ${R}) {`,
    `      const v = ${read('x', `base + (r0 + t) * ${inner}`)};`,
    `      ${FOLD[op]}`,
    '    }',
    '  }',
    scale === 1 ? '  return acc;' : `  return acc * ${literal(scale)};`,
  ].join('\n');
  return launch(ctx, b.x.dtype, [outer * parts * inner], {
    op: `reduce-${op}`, key: `${outer},${R},${inner}|${span}|${scale}`,
    inputs: { x: storageOf(b.x) }, uniforms: { xOffset: b.x.offset }, body,
  });
}

/** sum Σx, mean Σx/N, prod Πx, max, min over `axes`, folded in levels of BLOCK. */
export function reduce(ctx: GpuContext, op: ReduceOp, x: Tensor, axes: number[]): Tensor {
  const shape = keptShape(x, axes);
  let b = blockOf(ctx, x, axes);
  const total = b.R;
  const temps: Tensor[] = b.temp ? [b.temp] : [];
  // Partial levels fold with the op itself (a mean's partials are sums, scaled once at the end).
  const levelOp: ReduceOp = op === 'mean' ? 'sum' : op;
  while (b.R > BLOCK) {
    const partial = foldLevel(ctx, levelOp, b, BLOCK, 1);
    temps.push(partial);
    b = { x: partial, outer: b.outer, R: Math.ceil(b.R / BLOCK), inner: b.inner, temp: null };
  }
  const result = foldLevel(ctx, levelOp, b, Math.max(b.R, 1), op === 'mean' ? 1 / total : 1);
  for (const t of temps) t.storage.dispose();
  return result.reshape(shape);
}

/**
 * Index of the first largest (argmax) or smallest (argmin) value along one axis; a NaN counts as
 * the extreme value, as on the CPU. One thread per output walks the whole axis (an axis is short:
 * class scores, say).
 */
export function argReduce(ctx: GpuContext, op: 'argmax' | 'argmin', x: Tensor, axis: number): Tensor {
  const b = blockOf(ctx, x, [axis]);
  const { outer, R, inner } = b;
  const sign = op === 'argmax' ? '' : '-';
  const body = (read: (n: string, p: string) => string) => [
    `  const oi = ${idiv('o', inner)};`,
    `  const j = o - oi * ${inner};`,
    `  const base = oi * ${R * inner} + j + xOffset;`,
    `  let best = ${sign}${read('x', 'base')};`,
    '  let at = 0;',
    `  for (let r = 1; r < ${R}; r++) {`,
    `    const v = ${sign}${read('x', `base + r * ${inner}`)};`,
    '    if (v > best || (v != v && best == best)) { best = v; at = r; }',
    '  }',
    '  return at;',
  ].join('\n');
  const result = launch(ctx, 'int32', [outer * inner], {
    op: op, key: `${outer},${R},${inner}`, inputs: { x: storageOf(b.x) }, uniforms: { xOffset: b.x.offset }, body,
  });
  if (b.temp) b.temp.storage.dispose();
  return result.reshape(keptShape(x, [axis]));
}

/**
 * var = Σ (x − mean)² / (N − correction), in two passes as on the CPU: the mean first, then the
 * squared deviations. Never E[x²] − E[x]², which cancels catastrophically in float32.
 */
export function variance(ctx: GpuContext, x: Tensor, axes: number[], correction: number): Tensor {
  const N = axes.reduce((p, k) => p * x.shape[k], 1);
  const mean = reduce(ctx, 'mean', x, axes);
  const deviation = binary(ctx, 'sub', x, mean, [...x.shape], x.dtype);
  const squared = unary(ctx, 'square', deviation);
  const sum = reduce(ctx, 'sum', squared, axes);
  const divisor = Math.max(N - correction, 0);
  const scale = launchScale(ctx, sum, divisor);
  for (const t of [mean, deviation, squared, sum]) t.storage.dispose();
  return scale;
}

/** s / divisor, elementwise (divisor 0 gives Infinity or NaN, as NumPy's does). */
function launchScale(ctx: GpuContext, s: Tensor, divisor: number): Tensor {
  return launch(ctx, s.dtype, s.shape, {
    op: 'variance-scale', key: `${divisor}`, inputs: { s: storageOf(s) }, uniforms: { sOffset: s.offset },
    body: (read) => `  return ${read('s', 'o + sOffset')} / ${literal(divisor)};`,
  });
}
