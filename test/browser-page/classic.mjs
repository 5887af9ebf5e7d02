// Bundled as an IIFE for a classic <script>: it must load (no "Invalid URL" from import.meta) and train a step.
import { layers, models, tensor } from 'gradlab';

const model = new models.Sequential([layers.Dense(2, { inputShape: [3] })]);
model.compile({ optimizer: 'sgd', loss: 'mse' });
window.__result = model.trainOnBatch(tensor([[1, 2, 3]]), tensor([[1, 0]]))
  .then((loss) => ({ loss }), (error) => ({ error: String(error.stack ?? error) }));
