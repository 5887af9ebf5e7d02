// The page: ?phase=train trains with fit and saves to IndexedDB; ?phase=load (after a reload) loads
// it back; ?phase=worker trains in a Web Worker. Each phase leaves its result in window.__result.
import { gemmKernel, models } from 'gradlab';
import { fitOptions, speechData, speechModel } from './speech.mjs';

const predictionsOf = async (model, x) => Array.from(await (await model.predict(x)).data());

/** Whether this page may compile strings to code (it must not, under script-src 'self'). */
function evalAllowed() {
  try { return new Function('return 1')() === 1; } catch (error) { return `${error.name}`; }
}

async function train() {
  const { x, y } = speechData();
  const model = speechModel();
  const history = await model.fit(x, y, fitOptions({ verbose: 2 })); // verbose: the console fallback (no process.stdout here)
  await model.save('indexeddb://speech');
  return { evalAllowed: evalAllowed(), gemm: gemmKernel(), losses: history.history.loss, predictions: await predictionsOf(model, x) };
}

async function load() {
  const { x } = speechData();
  const model = await models.load('indexeddb://speech');
  return { predictions: await predictionsOf(model, x), optimizer: model.optimizer?.className };
}

function inWorker() {
  return new Promise((resolve, reject) => {
    const worker = new Worker('./worker.js', { type: 'module' });
    const progress = [];
    worker.onerror = (event) => reject(new Error(`worker: ${event.message}`));
    worker.onmessage = async ({ data }) => {
      if (data.type === 'progress') { progress.push(data); return; }
      if (data.type === 'error') { reject(new Error(`worker: ${data.message}`)); return; }
      try {
        const model = await models.load(models.memory(data.artifacts));
        resolve({ progress, losses: data.losses, threads: data.threads, predictions: await predictionsOf(model, speechData().x) });
      } catch (error) {
        reject(error);
      }
    };
  });
}

const phases = { train, load, worker: inWorker };
const phase = new URL(location.href).searchParams.get('phase');
window.__result = phases[phase]().catch((error) => ({ error: String(error.stack ?? error) }));
