/**
 * Elementwise kernels: unary maps, binary maps with NumPy broadcasting, where, and copy (which is
 * also how a strided view becomes contiguous on the device).
 *
 * Thread o computes out[o]. Each input is read at the storage position of out's index, seen
 * through that input's broadcast strides (zero along broadcast axes), so a [32, 10] + [10] add
 * reads the bias row again for every sample, with no copy:
 *   out[i0, …, ir] = f(a[Σ_k i_k·sa_k + offsetA], b[Σ_k i_k·sb_k + offsetB])
 * Two cheap cases skip the index arithmetic: an input with one element (read at its offset) and
 * a contiguous input of the output's shape (read at o + offset).
 */
import { Tensor, broadcastStrides } from '@gradlab/tensor';
import type { BinaryOp, DType, UnaryOp } from '@gradlab/tensor';
import { launch, isPlain, storageOf } from '../context.js';
import type { GpuContext } from '../context.js';
import { literal, position, unravel } from '../codegen.js';
import type { Reader } from '../program.js';

/** f(x) for each unary op, as kernel source. Stable forms where the naive formula overflows. */
export const UNARY: Record<UnaryOp, (x: string) => string> = {
  neg: (x) => `-${x}`,
  exp: (x) => `Math.exp(${x})`,
  log: (x) => `Math.log(${x})`,
  sqrt: (x) => `Math.sqrt(${x})`,
  abs: (x) => `Math.abs(${x})`,
  // tanh x = 1 − 2/(e^{2x} + 1): e^{2x} = ∞ gives 1 and e^{2x} = 0 gives −1, never ∞/∞
  tanh: (x) => `(1.0 - 2.0 / (Math.exp(2.0 * ${x}) + 1.0))`,
  // σ(x) = 1/(1 + e^{−x}): e^{−x} = ∞ gives 0, the right limit
  sigmoid: (x) => `(1.0 / (1.0 + Math.exp(-${x})))`,
  relu: (x) => `Math.max(${x}, 0.0)`,
  square: (x) => `(${x} * ${x})`,
  sign: (x) => `Math.sign(${x})`,
  reciprocal: (x) => `(1.0 / ${x})`,
  floor: (x) => `Math.floor(${x})`,
  ceil: (x) => `Math.ceil(${x})`,
  // JavaScript rounds halves up (Math.round(-2.5) = −2); GLSL's round may not
  round: (x) => `Math.floor(${x} + 0.5)`,
  sin: (x) => `Math.sin(${x})`,
  cos: (x) => `Math.cos(${x})`,
  // log(1 + eˣ) = max(x, 0) + log(1 + e^{−|x|})
  softplus: (x) => `(Math.max(${x}, 0.0) + Math.log(1.0 + Math.exp(-Math.abs(${x}))))`,
  log1p: (x) => `Math.log(1.0 + ${x})`,
  expm1: (x) => `(Math.exp(${x}) - 1.0)`,
};

/** f(a, b) for each binary op. Comparisons give 1 or 0. */
const BINARY: Record<BinaryOp, string> = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'a / b',
  // GLSL's pow is undefined for a < 0 (and 0⁰); JavaScript's gives ±|a|^b for integer b, else NaN
  pow: '(b == 0.0 ? 1.0 : (a >= 0.0 ? Math.pow(a, b) : (Math.floor(b) == b ? (b - 2.0 * Math.floor(b * 0.5) == 0.0 ? Math.pow(-a, b) : -Math.pow(-a, b)) : (0.0 / 0.0))))',
  // a != a is true only for NaN: maximum and minimum pass NaN on, as the CPU kernels do
  maximum: '((a > b || a != a) ? a : b)',
  minimum: '((a < b || a != a) ? a : b)',
  eq: '(a == b ? 1.0 : 0.0)',
  ne: '(a != b ? 1.0 : 0.0)',
  lt: '(a < b ? 1.0 : 0.0)',
  le: '(a <= b ? 1.0 : 0.0)',
  gt: '(a > b ? 1.0 : 0.0)',
  ge: '(a >= b ? 1.0 : 0.0)',
  reluGrad: '(b > 0.0 ? a : 0.0)',
};

/**
 * How one input is read when the output has `outShape`: source for its position, and a cache key. A
 * single value known on the host (a number in `x.mul(0.5)`) is passed as a uniform, `value`: no
 * texture, and a new value next step does not recompile.
 */
function access(name: string, x: Tensor, outShape: readonly number[]): { pos: string; key: string; needsIndex: boolean; value?: number } {
  const offset = `${name}Offset`;
  const value = x.size === 1 ? storageOf(x).hostValue(x.offset) : null;
  if (value !== null) return { pos: '', key: `${name}:u`, needsIndex: false, value };
  if (x.size === 1) return { pos: offset, key: `${name}:1`, needsIndex: false };
  if (isPlain(x, outShape)) return { pos: `o + ${offset}`, key: `${name}:c`, needsIndex: false };
  const strides = broadcastStrides(x.shape, x.strides, outShape);
  return { pos: position(strides, 'i', offset), key: `${name}:[${strides.join(',')}]`, needsIndex: true };
}

/**
 * The shared shape of every elementwise kernel: read each input at its position, then combine.
 *   out[o] = combine(read(x₁ at its position), read(x₂ …), …)
 */
function mapKernel(ctx: GpuContext, op: string, inputs: Record<string, Tensor>, outShape: readonly number[], dtype: DType,
  combine: string): Tensor {
  const names = Object.keys(inputs);
  const reads = names.map((n) => access(n, inputs[n], outShape));
  const textures = names.filter((_, k) => reads[k].value === undefined);
  const body = (read: Reader) => [
    reads.some((r) => r.needsIndex) ? unravel('o', outShape, 'i') : '',
    ...names.map((n, k) => `  const ${n} = ${reads[k].value === undefined ? read(n, reads[k].pos) : `${n}Value`};`),
    `  return ${combine};`,
  ].filter(Boolean).join('\n');
  return launch(ctx, dtype, outShape, {
    op,
    key: `[${outShape.join(',')}]|${reads.map((r) => r.key).join('|')}|${combine}`,
    inputs: Object.fromEntries(textures.map((n) => [n, storageOf(inputs[n])])),
    uniforms: Object.fromEntries(names.map((n, k) => (reads[k].value === undefined ? [`${n}Offset`, inputs[n].offset] : [`${n}Value`, reads[k].value]))),
    body,
  });
}

export function unary(ctx: GpuContext, op: UnaryOp, x: Tensor): Tensor {
  const f = UNARY[op];
  if (!f) throw new Error(`gpu: unknown unary op '${op as string}'`);
  return mapKernel(ctx, op, { x }, x.shape, x.dtype, f('x'));
}

export function binary(ctx: GpuContext, op: BinaryOp, a: Tensor, b: Tensor, outShape: number[], dtype: DType): Tensor {
  const f = BINARY[op];
  if (!f) throw new Error(`gpu: unknown binary op '${op as string}'`);
  return mapKernel(ctx, op, { a, b }, outShape, dtype, f);
}

/** cond ? a : b, with cond true where it is not zero. */
export function where(ctx: GpuContext, cond: Tensor, a: Tensor, b: Tensor, outShape: number[], dtype: DType): Tensor {
  return mapKernel(ctx, 'where', { c: cond, a, b }, outShape, dtype, '(c != 0.0 ? a : b)');
}

/**
 * A contiguous copy of x, cast to `dtype` (float32 or int32; float64 is handled on the host).
 * float → int32 truncates toward zero, as a typed-array store does.
 */
export function copy(ctx: GpuContext, x: Tensor, dtype: DType): Tensor {
  const cast = dtype === 'int32' && x.dtype !== 'int32' ? '(x < 0.0 ? Math.ceil(x) : Math.floor(x))' : 'x';
  return mapKernel(ctx, 'copy', { x }, x.shape, dtype, cast);
}

/** A literal for kernels that need a constant (re-exported for the other families). */
export { literal };

/**
 * Run a kernel that reads each of `tensors` as a contiguous row-major buffer: input `name` is read
 * through `read(name, …)` from the uniform `${name}Offset`. A strided view is copied first, and the
 * copies are freed once the kernel has run (the conv, pool and indexing kernels all work this way).
 */
export function launchOnContiguous(
  ctx: GpuContext, dtype: DType, shape: readonly number[], tensors: Record<string, Tensor>,
  call: { op: string; key: string; body: (read: Reader) => string },
): Tensor {
  const names = Object.keys(tensors);
  const plain = names.map((n) => (tensors[n].isContiguous() ? tensors[n] : copy(ctx, tensors[n], tensors[n].dtype)));
  try {
    return launch(ctx, dtype, shape, {
      ...call,
      inputs: Object.fromEntries(names.map((n, i) => [n, storageOf(plain[i])])),
      uniforms: Object.fromEntries(names.map((n, i) => [`${n}Offset`, plain[i].offset])),
    });
  } finally {
    plain.forEach((t, i) => { if (t !== tensors[names[i]]) t.storage.dispose(); });
  }
}
