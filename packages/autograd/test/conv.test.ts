import { tensor } from '@gradlab/tensor';
import { F, gradcheck, variable } from '@gradlab/autograd';
import { normal } from './helpers';

describe('conv2d and pooling: gradcheck', () => {
  const x = normal([2, 5, 5, 2], 1);
  it('conv2d, valid padding, stride 1', () => {
    gradcheck((v, w) => F.conv2d(v, w), [x, normal([3, 3, 2, 3], 2)]);
  });
  it('conv2d, same padding, stride 2, non-square kernel', () => {
    gradcheck((v, w) => F.conv2d(v, w, { strides: 2, padding: 'same' }), [x, normal([2, 3, 2, 2], 3)]);
  });
  it('conv2d with strides [1, 2] and a constant kernel', () => {
    gradcheck((v) => F.conv2d(v, normal([3, 2, 2, 1], 4), { strides: [1, 2] }), [x]);
  });
  it('maxPool2d: tiling windows, overlapping windows, same padding', () => {
    // normal values: no two elements of a window are equal, so no tie is straddled
    gradcheck((v) => F.maxPool2d(v, { poolSize: 2 }), [x]);
    gradcheck((v) => F.maxPool2d(v, { poolSize: 3, strides: 1 }), [x]);
    gradcheck((v) => F.maxPool2d(v, { poolSize: [2, 3], strides: 2, padding: 'same' }), [x]);
  });
  it('avgPool2d: tiling windows, overlapping windows, same padding', () => {
    gradcheck((v) => F.avgPool2d(v, { poolSize: 2 }), [x]);
    gradcheck((v) => F.avgPool2d(v, { poolSize: 3, strides: 1 }), [x]);
    gradcheck((v) => F.avgPool2d(v, { poolSize: 2, strides: 2, padding: 'same' }), [x]);
  });
  it('a small network: conv → relu → maxPool → sum', () => {
    gradcheck((v, w) => F.maxPool2d(F.conv2d(v, w, { padding: 'same' }).relu(), { poolSize: 2 }), [x, normal([3, 3, 2, 2], 5)]);
  });
});

describe('conv2d and pooling: values by hand', () => {
  it('a 1x1 convolution is a matmul over channels: ∂/∂w = Σ x, ∂/∂x = w', () => {
    // x [1,1,2,2] holds pixels (1,2) and (3,4); w [1,1,2,1] = [[5],[6]]; y = 5·x0 + 6·x1 per pixel
    const x = variable(tensor([1, 2, 3, 4], { shape: [1, 1, 2, 2] }), { requiresGrad: true });
    const w = variable(tensor([5, 6], { shape: [1, 1, 2, 1] }), { requiresGrad: true });
    F.conv2d(x, w).sum().backward();
    expect(Array.from(w.grad!.dataSync())).toEqual([1 + 3, 2 + 4]);
    expect(Array.from(x.grad!.dataSync())).toEqual([5, 6, 5, 6]);
  });
  it('maxPool2d sends the gradient to each window maximum, avgPool2d shares it', () => {
    // one 2x2 window over [[1, 4], [3, 2]]: the max 4 takes all, the average gives ¼ each
    const x = variable(tensor([1, 4, 3, 2], { shape: [1, 2, 2, 1] }), { requiresGrad: true });
    F.maxPool2d(x, { poolSize: 2 }).sum().backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([0, 1, 0, 0]);
    x.zeroGrad();
    F.avgPool2d(x, { poolSize: 2 }).sum().backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([0.25, 0.25, 0.25, 0.25]);
  });
});
