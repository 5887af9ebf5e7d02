// Square float32 matmul: TensorFlow.js's WASM backend (XNNPACK, SIMD, one thread) against gradlab's
// WebAssembly SIMD kernel and its JavaScript kernel, one thread each, in the same process. Prints GFLOPS
// from the median wall time and from the median CPU time (this process's), two rounds.
// Run after `pnpm run build` and `pnpm install` in bench/models: node bench/models/matmul-vs-tfjs.mjs
import { loadTfjs } from './models-tfjs.mjs';
import { gemm, rowMajor } from '../../packages/tensor/dist/cpu/matmul.js';
import { setGemmKernel } from '../../packages/tensor/dist/cpu/wasm/gemm-f32.js';
const tf = await loadTfjs('tfjs-wasm');
function rnd(n){const a=new Float32Array(n);for(let i=0;i<n;i++)a[i]=Math.random()*2-1;return a;}
const med=(xs)=>[...xs].sort((p,q)=>p-q)[xs.length>>1];
function time(fn, reps){for(let i=0;i<2;i++)fn();const w=[],c=[];for(let r=0;r<reps;r++){const c0=process.cpuUsage(),t=performance.now();fn();w.push(performance.now()-t);const u=process.cpuUsage(c0);c.push((u.user+u.system)/1000);}return {w:med(w),c:med(c)};}
for (let round=0; round<2; round++) for (const n of [256,512,1024]) {
  const a=rnd(n*n), b=rnd(n*n), c=new Float32Array(n*n); const reps=n===1024?3:7;
  const ta=tf.tensor2d(a,[n,n]), tb=tf.tensor2d(b,[n,n]);
  const r = {};
  r.tfjs = time(()=>{const y=tf.matMul(ta,tb); y.dataSync(); y.dispose();}, reps);
  setGemmKernel('wasm'); r.wasm = time(()=>gemm(n,n,n,rowMajor(a,n),rowMajor(b,n),c), reps);
  setGemmKernel('js'); r.js = time(()=>gemm(n,n,n,rowMajor(a,n),rowMajor(b,n),c), n===1024?1:3);
  const g=(t)=>`${(2*n**3/t.w/1e6).toFixed(1)} wall / ${(2*n**3/t.c/1e6).toFixed(1)} cpu`;
  console.log(n, 'tfjs-wasm', g(r.tfjs), '| gradlab wasm', g(r.wasm), '| gradlab js', g(r.js), '| wasm/tfjs (cpu)', (r.tfjs.c/r.wasm.c).toFixed(2));
}
