/**
 * A naive LSTM in float64 on plain arrays, written from the equations (Keras's gate order i, f, c, o)
 * and Keras's masking rule, independently of the library's loops. Tests compare the layers with it.
 *
 *   z = x_t·W + h·U + b;  i = σ(z_i), f = σ(z_f), c̃ = tanh(z_c), o = σ(z_o)   (σ: `gate`, the sigmoid by default)
 *   c = f·c + i·c̃;  h = o·tanh(c);   at a masked step h, c and the output stay as they were
 *   (or, with zeroOutputForMask, the output is 0 there).
 */
export type Matrix = number[][];

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
/** TF.js 4.22's hardSigmoid (tfjs-layers backend/tfjs_backend.ts): clipByValue(0.2·x + 0.5, 0, 1). */
export const hardSigmoid = (v: number) => Math.min(1, Math.max(0, 0.2 * v + 0.5));

export interface ReferenceRun {
  /** outputs[b][k]: the output after processing step k (processing order) */
  outputs: number[][][];
  h: number[][];
  c: number[][];
}

/**
 * x[b][t][f]; W [in][4u]; U [u][4u]; bias [4u]; mask[b][t] (1 real, 0 padding) or null.
 * goBackwards reads t = T−1 … 0; outputs stay in processing order, as Keras returns them.
 */
export function referenceLstm(x: number[][][], W: Matrix, U: Matrix, bias: number[], mask: number[][] | null, goBackwards = false,
  zeroOutputForMask = false, gate: (v: number) => number = sigmoid): ReferenceRun {
  const u = U.length;
  const outputs: number[][][] = [];
  const hs: number[][] = [], cs: number[][] = [];
  for (let b = 0; b < x.length; b++) {
    let h = new Array<number>(u).fill(0), c = new Array<number>(u).fill(0);
    const seq: number[][] = [];
    const T = x[b].length;
    for (let k = 0; k < T; k++) {
      const t = goBackwards ? T - 1 - k : k;
      if (mask && mask[b][t] === 0) { seq.push(zeroOutputForMask ? new Array<number>(u).fill(0) : [...h]); continue; }
      const z = bias.map((bj, j) => {
        let s = bj;
        for (let f = 0; f < W.length; f++) s += x[b][t][f] * W[f][j];
        for (let r = 0; r < u; r++) s += h[r] * U[r][j];
        return s;
      });
      const cNew = c.map((cj, j) => gate(z[u + j]) * cj + gate(z[j]) * Math.tanh(z[2 * u + j]));
      h = cNew.map((cj, j) => gate(z[3 * u + j]) * Math.tanh(cj));
      c = cNew;
      seq.push([...h]);
    }
    outputs.push(seq);
    hs.push(h);
    cs.push(c);
  }
  return { outputs, h: hs, c: cs };
}

/** A deterministic pseudo-random matrix (a small LCG), values in [−scale, scale). */
export function pseudoRandom(rows: number, cols: number, seed: number, scale = 1): Matrix {
  let s = seed >>> 0;
  const next = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return (s / 2 ** 32) * 2 - 1; };
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => next() * scale));
}

/** Max |a − b| over two nested arrays of the same shape. */
export function maxAbsDiff(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b);
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return Infinity;
    return a.reduce((m: number, v, i) => Math.max(m, maxAbsDiff(v, b[i])), 0);
  }
  return Infinity;
}
