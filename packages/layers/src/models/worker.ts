/**
 * Training in a Web Worker, so that a page stays responsive while a model learns. The worker runs
 * fit() as anywhere else, with postProgress() among its callbacks, then saves into memory() and posts
 * the artifacts; the page loads them (README, "In a browser"):
 *
 *   // worker.js                                          // page
 *   await model.fit(x, y, { callbacks: [models.postProgress()] });
 *   const saved = models.memory();                        worker.onmessage = async ({ data }) => {
 *   await model.save(saved);                                if (data.type === 'progress') show(data.logs);
 *   postMessage({ type: 'trained',                          else trained = await models.load(models.memory(data.artifacts));
 *     artifacts: saved.artifacts },                       };
 *     [saved.artifacts.weights.buffer]);
 *
 * The weights buffer is transferred, not copied. In a cross-origin-isolated page (COOP/COEP headers)
 * the worker's gemm also uses helper Web Workers (packages/tensor/src/cpu/browser-threads.ts);
 * otherwise it runs on the worker's one thread.
 */
import type { Callback, Logs } from '../callbacks.js';

export interface ProgressMessage { type: 'progress'; epoch: number; batch: number | null; logs: Logs }

/** A fit() callback that posts a ProgressMessage after every epoch (and every batch when `batches` is set). */
export function postProgress(options: { batches?: boolean; post?: (message: ProgressMessage) => void } = {}): Callback {
  const post = options.post ?? ((message: ProgressMessage) => {
    const postMessage = (globalThis as { postMessage?: (message: unknown) => void }).postMessage;
    if (typeof postMessage !== 'function') throw new Error('postProgress: no postMessage here (it runs inside a Web Worker); pass { post } to send progress elsewhere');
    postMessage(message);
  });
  let epoch = 0;
  return {
    onEpochBegin: (e) => { epoch = e; },
    onBatchEnd: options.batches ? (batch, logs) => post({ type: 'progress', epoch, batch, logs: { ...logs } }) : undefined,
    onEpochEnd: (e, logs) => post({ type: 'progress', epoch: e, batch: null, logs: { ...logs } }),
  };
}
