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
  it('conv2dBiasActivation (bias and ReLU fused into the convolution): gradcheck, with and without bias and ReLU', () => {
    const w = normal([3, 3, 2, 3], 6), b = normal([3], 7);
    gradcheck((v, k, c) => F.conv2dBiasActivation(v, k, c, 'relu'), [x, w, b]);
    gradcheck((v, k, c) => F.conv2dBiasActivation(v, k, c, 'linear', { strides: 2, padding: 'same' }), [x, w, b]);
    gradcheck((v, k) => F.conv2dBiasActivation(v, k, null, 'relu', { padding: 'same' }), [x, w]);
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

describe('conv2dBiasActivation against its composite, conv2d(x, w).add(b).relu()', () => {
  // float32, as models run it: the fused op must give the composite's values and gradients bit for bit
  const x = normal([2, 6, 6, 3], 8).astype('float32'), w = normal([3, 3, 3, 4], 9).astype('float32');
  const b = normal([4], 10).astype('float32'), dy = normal([2, 6, 6, 4], 11).astype('float32');
  for (const activation of ['relu', 'linear'] as const) {
    for (const withBias of [true, false]) {
      it(`${activation}, ${withBias ? 'with' : 'without'} bias`, () => {
        const run = (op: typeof F.conv2dBiasActivation) => {
          const [vx, vw, vb] = [x, w, b].map((t) => variable(t, { requiresGrad: true }));
          const y = op(vx, vw, withBias ? vb : null, activation, { padding: 'same' });
          y.backward(dy);
          return [y.data, vx.grad!, vw.grad!, ...(withBias ? [vb.grad!] : [])].map((t) => Array.from(t.dataSync()));
        };
        expect(run(F.conv2dBiasActivation)).toEqual(run(F.conv2dBiasActivationComposite));
      });
    }
  }
  it('refuses a bias of the wrong shape and an activation it does not fuse, naming them', () => {
    expect(() => F.conv2dBiasActivation(x, w, normal([3], 1), 'relu')).toThrow(/conv2dBiasActivation: bias has shape \[3\], expected \[4\]/);
    expect(() => F.conv2dBiasActivation(x, w, b, 'tanh' as 'relu')).toThrow(/activation must be 'relu' or 'linear', got 'tanh'/);
  });
});
