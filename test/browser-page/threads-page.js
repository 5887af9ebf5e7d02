// The page of the threads test: a module Web Worker (threads-worker.js) trains, the page waits for its report.
window.__result = new Promise((resolve) => {
  const worker = new Worker('./threads-worker.js', { type: 'module' });
  worker.onerror = (event) => resolve({ error: `worker: ${event.message}` });
  worker.onmessage = ({ data }) => { resolve(data); worker.terminate(); };
});
