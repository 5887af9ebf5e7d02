// One training step with the ready-made build's API `gl` (either file of gradlab/dist/browser/): what a
// page served straight from a CDN does first. A classic script, so that both CDN pages can load it.
globalThis.trainStep = (gl) => {
  const model = new gl.models.Sequential([gl.layers.Dense(2, { inputShape: [3] })]);
  model.compile({ optimizer: 'sgd', loss: 'mse' });
  return model.trainOnBatch(gl.tensor([[1, 2, 3]]), gl.tensor([[1, 0]]))
    .then((loss) => ({ loss, threads: gl.numThreads() }), (error) => ({ error: String(error.stack ?? error) }));
};
