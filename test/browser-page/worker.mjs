// The Web Worker: the same training as the page's, progress posted per batch, the model posted at the end.
import { models, startThreads } from 'gradlab';
import { fitOptions, speechData, speechModel } from './speech.mjs';

try {
  const { x, y } = speechData();
  const model = speechModel();
  const history = await model.fit(x, y, fitOptions({ verbose: 0, callbacks: [models.postProgress({ batches: true })] }));
  const saved = models.memory();
  await model.save(saved);
  const threads = await startThreads(); // after training: how many threads gemm ended up with
  postMessage({ type: 'trained', artifacts: saved.artifacts, losses: history.history.loss, threads }, [saved.artifacts.weights.buffer]);
} catch (error) {
  postMessage({ type: 'error', message: String(error.stack ?? error) });
}
