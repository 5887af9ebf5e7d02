/**
 * The direct float32 convolutions (conv-direct.ts: the kernel reads windows straight from the image)
 * against the patch-matrix path (setConvAlgorithm('patches')) and against float64. The forward pass
 * and the filter gradient sum in the same order as the patch path, so they must equal it bit for bit;
 * the input gradient (a convolution of dy with the turned filter) sums in another order, so it is held
 * to float64 within float32's rounding.
 */
import { conv2d, conv2dBackpropFilter, conv2dBackpropInput, conv2dBiasActivation, mulAdd, randn, setConvAlgorithm, convAlgorithm, tensor, Tensor } from '@gradlab/tensor';
import type { Conv2DOptions } from '@gradlab/tensor';
import { directFits } from '../src/cpu/conv-direct';
import type { Conv2DInfo } from '../src/backend';

type Shape4 = [number, number, number, number];

afterEach(() => setConvAlgorithm('direct'));

/** `op` on the direct kernels and on the patch matrix. */
function bothPaths(op: () => Tensor): { direct: Float32Array; patches: Float32Array } {
  setConvAlgorithm('direct');
  const direct = op().dataSync() as Float32Array;
  setConvAlgorithm('patches');
  const patches = op().dataSync() as Float32Array;
  setConvAlgorithm('direct');
  return { direct, patches };
}

function expectBitIdentical(got: Float32Array, expected: Float32Array): void {
  expect(got.length).toBe(expected.length);
  for (let i = 0; i < got.length; i++) {
    if (!Object.is(got[i], expected[i])) throw new Error(`element ${i}: direct ${got[i]}, patches ${expected[i]}`);
  }
}

/** |got − ref| ≤ 1e-5·Σ|terms| + 1e-6 (Σ|terms|: the op on |inputs| in float64). */
function expectNearFloat64(got: ArrayLike<number>, ref: ArrayLike<number>, scale: ArrayLike<number>): void {
  expect(got.length).toBe(ref.length);
  for (let i = 0; i < ref.length; i++) {
    if (!(Math.abs(got[i] - ref[i]) <= 1e-5 * scale[i] + 1e-6)) throw new Error(`element ${i}: got ${got[i]}, float64 ${ref[i]} (Σ|terms| ${scale[i]})`);
  }
}

const f64 = (t: Tensor): Tensor => t.astype('float64');

/** The Conv2DInfo of a stride-1 case, as the backend sees it. */
function infoOf(xs: Shape4, ws: Shape4, same: boolean): Conv2DInfo {
  const [N, H, W, C] = xs, [KH, KW, , F] = ws;
  const padH = same ? KH - 1 : 0, padW = same ? KW - 1 : 0;
  return {
    batch: N, inHeight: H, inWidth: W, inChannels: C, outHeight: H + padH - KH + 1, outWidth: W + padW - KW + 1, outChannels: F,
    filterHeight: KH, filterWidth: KW, strideHeight: 1, strideWidth: 1,
    padTop: Math.floor(padH / 2), padLeft: Math.floor(padW / 2), padBottom: padH - Math.floor(padH / 2), padRight: padW - Math.floor(padW / 2),
  };
}

// [what, x shape, filter shape, padding]: stride 1, where the direct kernels run
const cases: Array<[string, Shape4, Shape4, 'valid' | 'same']> = [
  ['the article\'s first layer, small: C = 3, 32 filters', [2, 12, 10, 3], [3, 3, 3, 32], 'valid'],
  ['C = 32, 64 filters (the second layer), same', [2, 9, 8, 32], [3, 3, 32, 64], 'same'],
  ['C = 1, 5×3 window, 5 filters (less than a panel)', [3, 11, 9, 1], [5, 3, 1, 5], 'same'],
  ['C = 5, 17 filters (a partial panel), even window', [1, 7, 6, 5], [2, 2, 5, 17], 'valid'],
  ['C = 64, 12 filters: several bands of the kernel\'s memory', [1, 100, 90, 64], [3, 3, 64, 12], 'same'],
];

describe.each(cases)('%s: x %j, filter %j, %s', (_what, xs, ws, padding) => {
  const options: Conv2DOptions = { padding };
  const x = randn(xs, { seed: 1 }), w = randn(ws, { seed: 2 }), bias = randn([ws[3]], { seed: 3 });
  const dy = randn(conv2d(x, w, options).shape, { seed: 4 });

  it('takes the direct kernels for all three', () => {
    expect(directFits(infoOf(xs, ws, padding === 'same'))).toEqual({ forward: true, inputGradient: true, filterGradient: true });
  });

  it('forward with bias and ReLU: bit for bit the patch path, and float64\'s within rounding', () => {
    const { direct, patches } = bothPaths(() => conv2dBiasActivation(x, w, bias, 'relu', options));
    expectBitIdentical(direct, patches);
    const ref = conv2d(f64(x), f64(w), options).add(f64(bias)).relu();
    const scale = conv2d(f64(x).abs(), f64(w).abs(), options).add(f64(bias).abs());
    expectNearFloat64(direct, ref.dataSync(), scale.dataSync());
  });

  it('forward with a folded BatchNorm after the ReLU (·scale + shift): bit for bit mulAdd after the convolution, on both paths', () => {
    const scale = randn([ws[3]], { seed: 6 }), shift = randn([ws[3]], { seed: 7 });
    const separate = bothPaths(() => mulAdd(conv2dBiasActivation(x, w, bias, 'relu', options), scale, shift));
    const fused = bothPaths(() => conv2dBiasActivation(x, w, bias, 'relu', options, { scale, shift }));
    expectBitIdentical(fused.direct, separate.direct);
    expectBitIdentical(fused.patches, separate.patches);
  });

  it('forward without an epilogue: bit for bit the patch path', () => {
    const { direct, patches } = bothPaths(() => conv2d(x, w, options));
    expectBitIdentical(direct, patches);
  });

  it('filter gradient: bit for bit the patch path, and float64\'s within rounding', () => {
    const { direct, patches } = bothPaths(() => conv2dBackpropFilter(x, dy, ws, options));
    expectBitIdentical(direct, patches);
    expectNearFloat64(direct, conv2dBackpropFilter(f64(x), f64(dy), ws, options).dataSync(), conv2dBackpropFilter(f64(x).abs(), f64(dy).abs(), ws, options).dataSync());
  });

  it('input gradient (the turned filter over padded dy): float64\'s within rounding', () => {
    const { direct, patches } = bothPaths(() => conv2dBackpropInput(dy, w, xs, options));
    const ref = conv2dBackpropInput(f64(dy), f64(w), xs, options).dataSync();
    const scale = conv2dBackpropInput(f64(dy).abs(), f64(w).abs(), xs, options).dataSync();
    expectNearFloat64(direct, ref, scale);
    expectNearFloat64(patches, ref, scale);
  });
});

describe('where the direct kernels do not go', () => {
  it('stride 2 and a window beyond the padding stay on the patch path', () => {
    const strided = { ...infoOf([1, 9, 9, 3], [3, 3, 3, 8], false), strideHeight: 2, strideWidth: 2, outHeight: 4, outWidth: 4 };
    expect(directFits(strided).forward).toBe(false);
    setConvAlgorithm('patches');
    expect(directFits(infoOf([1, 9, 9, 3], [3, 3, 3, 8], false)).forward).toBe(false);
  });

  it('a folded BatchNorm of the wrong length is refused, naming the op and the shapes', () => {
    const x = randn([1, 5, 5, 3]), w = randn([3, 3, 3, 8]);
    expect(() => conv2dBiasActivation(x, w, null, 'relu', {}, { scale: randn([7]), shift: randn([8]) })).toThrow(/conv2dBiasActivation.*scale.*\[7\]/);
    expect(() => conv2dBiasActivation(x, w, null, 'linear', {}, { scale: randn([8]), shift: randn([2, 4]) })).toThrow(/conv2dBiasActivation.*shift/);
  });

  it('setConvAlgorithm refuses an unknown name, naming itself; convAlgorithm says the choice', () => {
    expect(() => setConvAlgorithm('winograd' as 'direct')).toThrow(`setConvAlgorithm: expected 'direct' or 'patches', got "winograd"`);
    setConvAlgorithm('patches');
    expect(convAlgorithm()).toBe('patches');
  });
});

describe('non-finite numbers are not hidden', () => {
  it('a NaN pixel makes NaN exactly the outputs whose windows hold it, ReLU included', () => {
    const values = new Float32Array(1 * 6 * 6 * 2).fill(1);
    values[(2 * 6 + 3) * 2] = NaN; // pixel (2, 3), channel 0
    const x = tensor(values, { shape: [1, 6, 6, 2] }), w = randn([3, 3, 2, 8], { seed: 5 });
    const y = conv2dBiasActivation(x, w, null, 'relu', { padding: 'valid' }).dataSync();
    for (let oy = 0; oy < 4; oy++) for (let ox = 0; ox < 4; ox++) {
      const holds = oy <= 2 && 2 <= oy + 2 && ox <= 3 && 3 <= ox + 2;
      for (let f = 0; f < 8; f++) expect(Number.isNaN(y[(oy * 4 + ox) * 8 + f])).toBe(holds);
    }
  });
});
