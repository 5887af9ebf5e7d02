// Where two threads start to pay for a float32 matmul: square n³ products, one thread against two with
// the split forced on (setParallelMinWork(0)), median wall time of 7 runs after 3 warm-ups, each run's
// memory recycled as fit's steps recycle it. threads.ts's PARALLEL_MIN_WORK is chosen from this.
// Run after a build: node bench/threads-sweep.mjs [--sizes 256,288,320,384,512,768,1024,2048] [--no-save]
import * as t from '../packages/tensor/dist/index.js';
import { describeMachine, finish, round } from './lib/timing.mjs';

const args = Object.fromEntries(process.argv.slice(2).map((a) => { const [k, v = 'true'] = a.replace(/^--/, '').split('='); return [k, v]; }));
const sizes = (args.sizes ?? '256,288,320,352,384,448,512,640,768,1024,1536,2048').split(',').map(Number);
const machine = describeMachine();
const results = {};
for (const n of sizes) {
  const a = t.randn([n, n], { seed: 1 }), b = t.randn([n, n], { seed: 2 });
  const median = (threads) => {
    t.setNumThreads(threads);
    t.setParallelMinWork(threads === 1 ? null : 0);
    const times = [];
    for (let r = 0; r < 10; r++) {
      const t0 = performance.now();
      t.recycleAfter('sweep', () => { t.matmul(a, b).dataSync(); return null; }, () => []);
      if (r >= 3) times.push(performance.now() - t0);
    }
    return times.sort((x, y) => x - y)[3];
  };
  const one = median(1), two = median(2);
  results[n] = { one_thread_ms: round(one, 2), two_threads_ms: round(two, 2), speedup: round(one / two, 2), gflops_one_thread: round((2 * n ** 3) / one / 1e6, 1) };
  console.error(n, results[n]);
}
t.setParallelMinWork(null);
t.shutdownThreads();
finish('threads-sweep', { machine, results });
