// A module Web Worker on the ready-made ES module build: asks gemm for 2 threads, trains a small LSTM
// model whose products are large enough to be split, and reports the threads it got and what it learned;
// then runs the three float32 convolution kernels with every size split (the helper's conv job).
import * as gl from './cdn/gradlab/dist/browser/gradlab.min.js';

try {
  const defaultThreads = gl.numThreads();
  gl.setNumThreads(2);
  const threads = await gl.startThreads(); // the helpers load in the background: wait for them, or get 1
  gl.setSeed(15);
  const x = gl.randn([64, 10, 32]);
  const y = gl.fromTypedArray(Int32Array.from({ length: 64 }, (_, i) => i % 10), [64]);
  // batches of 32: LSTM input [320, 32]·[32, 256] (row bands), its step [32, 64]·[64, 256] and the Dense
  // [32, 256]·[256, 256] (column bands), all above the threads' PARALLEL_MIN_WORK
  const model = new gl.models.Sequential([
    gl.layers.LSTM(64, { inputShape: [10, 32] }),
    gl.layers.Dense(256, { activation: 'relu' }),
    gl.layers.Dense(10, { activation: 'softmax' }),
  ]);
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
  const history = await model.fit(x, y, { epochs: 2, batchSize: 32, seed: 3, verbose: 0 });
  const predictions = Array.from(await (await model.predict(x)).data());
  gl.setParallelMinWork(0); // these convolutions are below the default threshold: split them anyway
  gl.setConvPartsPolicy('workers'); // and let the helper compute its parts even when the worker finishes its own first
  const conv = { padding: 'same' };
  const cx = gl.randn([3, 12, 10, 3], { seed: 5 }), cw = gl.randn([3, 3, 3, 8], { seed: 6 });
  const cy = gl.conv2dBiasActivation(cx, cw, gl.randn([8], { seed: 7 }), 'relu', conv);
  const cdy = gl.randn(cy.shape, { seed: 8 });
  const convolutions = [cy, gl.conv2dBackpropInput(cdy, cw, cx.shape, conv), gl.conv2dBackpropFilter(cx, cdy, cw.shape, conv)]
    .map((t) => Array.from(t.dataSync()));
  gl.setParallelMinWork(null);
  gl.setConvPartsPolicy('first');
  postMessage({
    crossOriginIsolated: self.crossOriginIsolated, hardwareConcurrency: navigator.hardwareConcurrency,
    defaultThreads, threads, gemm: gl.gemmKernel(), losses: history.history.loss, predictions, convolutions,
  });
} catch (error) {
  postMessage({ error: String(error.stack ?? error) });
}
