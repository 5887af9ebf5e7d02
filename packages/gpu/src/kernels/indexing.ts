/**
 * The indexing kernels, ops that move values rather than compute with them: concat (and so stack),
 * pad, gather, scatterAdd and oneHot (the optional IndexingKernels of @gradlab/tensor's Backend). The
 * front end (ops/join.ts, ops/indexing.ts) has checked the arguments and worked out the output's shape;
 * each op here is one thread per output element that works out where its value comes from:
 *
 *   concat      out[…, a, …] = input n [a − start_n]   for the n whose span along the axis holds a
 *   pad         out[i] = x[i − before] inside, `value` outside
 *   gather      out[oi, k, j] = x[oi, idx[k], j]
 *   scatterAdd  out[oi, d, j] = Σ_{k : idx[k] = d} updates[oi, k, j]   (a gather over k: a fragment
 *               shader writes only its own output, so there is no scatter and no atomic add)
 *   oneHot      out[i, c] = (idx[i] = c)
 *
 * Indices on the device are not read back to be checked: an index that is not an integer in range
 * gives NaN in a float32 result (gather, oneHot) or is skipped (scatterAdd); the front end still checks
 * indices that live on the host, where checking costs nothing.
 */
import type { DType, Tensor } from '@gradlab/tensor';
import { launch, storageOf } from '../context.js';
import type { GpuContext } from '../context.js';
import { literal, sumOver, unravel } from '../codegen.js';
import { launchOnContiguous } from './elementwise.js';

type Read = (name: string, position: string) => string;

/** The storage position of x's element whose index variables are i0…, with axis `a`'s index given by `along`. */
function positionOf(x: Tensor, name: string, a: number, along: string): string {
  const terms = x.strides.map((s, k) => (s === 0 || x.shape[k] === 1 ? '' : `${k === a ? `(${along})` : `i${k}`} * ${s}`));
  return [`${name}Offset`, ...terms.filter(Boolean)].join(' + ');
}

/** True when `v` (kernel source) is a whole number in [0, n): the check that replaces reading indices back. */
function validIndex(v: string, n: number): string {
  return `(${v} >= 0.0 && ${v} < ${literal(n)} && Math.floor(${v}) == ${v})`;
}

/**
 * concat along `axis`. A shader may read only so many textures (device.maxTextureUnits, and each
 * tile of an input is one), so a long list — an LSTM stacking a hundred steps — is joined in groups,
 * and the groups are joined again.
 */
export function concat(ctx: GpuContext, tensors: readonly Tensor[], axis: number, outShape: number[], dtype: DType): Tensor {
  const parts = tensors.filter((t) => t.shape[axis] > 0);
  const limit = ctx.device.maxTextureUnits;
  const tilesOf = (t: Tensor) => storageOf(t).tileCount;
  const total = parts.reduce((n, t) => n + tilesOf(t), 0);
  if (total <= limit) return concatGroup(ctx, parts, axis, dtype, outShape);
  const groups: Tensor[][] = [[]];
  let textures = 0;
  for (const t of parts) {
    if (groups[groups.length - 1].length > 0 && textures + tilesOf(t) > limit) { groups.push([]); textures = 0; }
    groups[groups.length - 1].push(t);
    textures += tilesOf(t);
  }
  // A group of one input is copied too: a view of a big tensor reads all its tiles, a copy only its own.
  const joined = groups.map((g) => concatGroup(ctx, g, axis, dtype));
  if (joined.length === parts.length && joined.reduce((n, t) => n + tilesOf(t), 0) >= total) {
    for (const j of joined) j.storage.dispose();
    throw new Error(`gpu: concat of ${parts.length} tensors in ${total} textures: no group of them fits the ${limit} textures ` +
      'a shader may read here; use larger tiles (tileElements)');
  }
  const result = concat(ctx, joined, axis, outShape, dtype);
  for (const j of joined) j.storage.dispose();
  return result;
}

/** One kernel: the inputs' spans along the axis follow one another; a chain of comparisons picks the input. */
function concatGroup(ctx: GpuContext, parts: Tensor[], axis: number, dtype: DType, outShape?: number[]): Tensor {
  const shape = outShape ?? parts[0].shape.map((d, k) => (k === axis ? parts.reduce((n, t) => n + t.shape[axis], 0) : d));
  if (parts.length === 0) return launch(ctx, dtype, shape, { op: 'concat', key: 'empty', inputs: {}, body: () => '  return 0.0;' });
  const starts = parts.map((_, n) => parts.slice(0, n).reduce((s, t) => s + t.shape[axis], 0));
  const names = parts.map((_, n) => `x${n}`);
  const body = (read: Read) => [
    unravel('o', shape, 'i'),
    ...parts.map((t, n) => {
      const value = read(names[n], positionOf(t, names[n], axis, `i${axis} - ${starts[n]}`));
      return n === parts.length - 1 ? `  return ${value};` : `  if (i${axis} < ${starts[n] + t.shape[axis]}) { return ${value}; }`;
    }),
  ].join('\n');
  return launch(ctx, dtype, shape, {
    op: 'concat',
    key: `[${shape.join(',')}]|${axis}|${parts.map((t) => `${t.shape.join(',')}:${t.strides.join(',')}`).join('|')}`,
    inputs: Object.fromEntries(parts.map((t, n) => [names[n], storageOf(t)])),
    uniforms: Object.fromEntries(parts.map((t, n) => [`${names[n]}Offset`, t.offset])),
    body,
  });
}

/** pad: out[i] = x[i − before] where that is inside x, else `value`. */
export function pad(ctx: GpuContext, x: Tensor, paddings: [number, number][], value: number, outShape: number[], dtype: DType): Tensor {
  const inside = x.shape.map((d, k) => (paddings[k][0] === 0 && paddings[k][1] === 0 ? '' : `j${k} >= 0 && j${k} < ${d}`)).filter(Boolean);
  const body = (read: Read) => [
    unravel('o', outShape, 'i'),
    ...x.shape.map((_, k) => `  const j${k} = i${k} - ${paddings[k][0]};`),
    inside.length ? `  if (!(${inside.join(' && ')})) { return ${literal(value)}; }` : '',
    `  return ${read('x', ['xOffset', ...x.strides.map((s, k) => (s === 0 || x.shape[k] === 1 ? '' : `j${k} * ${s}`)).filter(Boolean)].join(' + '))};`,
  ].filter(Boolean).join('\n');
  return launch(ctx, dtype, outShape, {
    op: 'pad', key: `[${x.shape.join(',')}]:${x.strides.join(',')}|${paddings.flat().join(',')}|${value}`,
    inputs: { x: storageOf(x) }, uniforms: { xOffset: x.offset }, body,
  });
}

/** [outer, D, inner] around `axis`. */
function around(shape: readonly number[], axis: number): { outer: number; dim: number; inner: number } {
  const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
  return { outer: size(shape.slice(0, axis)), dim: shape[axis], inner: size(shape.slice(axis + 1)) };
}

/** gather: out[oi, k, j] = x[oi, idx[k], j];  NaN where idx[k] is not an index of the axis. */
export function gather(ctx: GpuContext, x: Tensor, indices: Tensor, axis: number, outShape: number[]): Tensor {
  const { outer, dim, inner } = around(x.shape, axis);
  const n = indices.size;
  const body = (read: Read) => [
    unravel('o', [outer, n, inner], 'q'), // q0 = oi, q1 = k, q2 = j
    `  const d = ${read('idx', 'q1 + idxOffset')};`,
    `  if (!${validIndex('d', dim)}) { return ${literal(NaN)}; }`,
    `  return ${read('x', `(q0 * ${dim} + d) * ${inner} + q2 + xOffset`)};`,
  ].join('\n');
  return launchOnContiguous(ctx, x.dtype, outShape, { x, idx: indices }, { op: 'gather', key: `${outer},${dim},${inner}|${n}`, body });
}

/**
 * scatterAdd: out[oi, d, j] = Σ_k [idx[k] = d] · updates[oi, k, j]. Each output loops over all n
 * indices, so the work is size(out)·n: fine for the gradient of a batch's rows, costly for a large
 * embedding table (a vocabulary of V rows costs V·n·D comparisons).
 */
export function scatterAdd(ctx: GpuContext, shape: number[], indices: Tensor, updates: Tensor, axis: number): Tensor {
  const { outer, dim, inner } = around(shape, axis);
  const n = indices.size;
  const body = (read: Read) => [
    unravel('o', [outer, dim, inner], 'q'), // q0 = oi, q1 = d, q2 = j
    sumOver([{ index: 'k', count: n, where: `${read('idx', 'k + idxOffset')} == q1` }], read('u', `(q0 * ${n} + k) * ${inner} + q2 + uOffset`)),
  ].join('\n');
  return launchOnContiguous(ctx, updates.dtype, shape, { u: updates, idx: indices }, { op: 'scatterAdd', key: `${outer},${dim},${inner}|${n}`, body });
}

/** oneHot: out[i, c] = 1 where idx[i] = c, else 0;  a row of NaN where idx[i] is not an index in [0, depth). */
export function oneHot(ctx: GpuContext, indices: Tensor, depth: number, dtype: DType): Tensor {
  const body = (read: Read) => [
    unravel('o', [indices.size, depth], 'q'), // q0 = i, q1 = c
    `  const v = ${read('idx', 'q0 + idxOffset')};`,
    `  if (!${validIndex('v', depth)}) { return ${literal(NaN)}; }`,
    '  return v == q1 ? 1.0 : 0.0;',
  ].join('\n');
  return launchOnContiguous(ctx, dtype, [...indices.shape, depth], { idx: indices }, { op: 'oneHot', key: `${indices.size},${depth}`, body });
}
