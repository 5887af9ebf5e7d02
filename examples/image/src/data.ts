/**
 * Fashion-MNIST (Zalando Research, MIT licence): 70,000 grayscale 28×28 photos of clothes in 10 classes,
 * 60,000 for training and 10,000 for testing, from Debian's package `dataset-fashion-mnist`.
 *
 * The images stay as bytes (47 MB for the training set); each batch is turned into floats, and resized
 * when --size is not 28, only when the batch is used (resize.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readIdxFile } from './idx.js';

/** Where `apt-get install dataset-fashion-mnist` puts the files; FASHION_MNIST_DIR overrides it. */
export const DEFAULT_DIR = '/usr/share/datasets/fashion-mnist';

export const CLASS_NAMES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
] as const;

export interface ImageSet {
  /** [count, height, width] bytes, 0 = black … 255 = white. */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
}

export const FILES = {
  trainImages: 'train-images-idx3-ubyte.gz',
  trainLabels: 'train-labels-idx1-ubyte.gz',
  testImages: 't10k-images-idx3-ubyte.gz',
  testLabels: 't10k-labels-idx1-ubyte.gz',
} as const;

export function dataDir(): string { return process.env.FASHION_MNIST_DIR ?? DEFAULT_DIR; }

/** Read one images file and its labels file, checking that they agree. */
export function readImageSet(imagesFile: string, labelsFile: string): ImageSet {
  const images = readIdxFile(imagesFile);
  const labels = readIdxFile(labelsFile);
  if (images.shape.length !== 3 || !(images.data instanceof Uint8Array)) {
    throw new Error(`fashion-mnist: ${imagesFile} should hold uint8 images [count, height, width], got shape [${images.shape.join(',')}]`);
  }
  if (labels.shape.length !== 1 || labels.shape[0] !== images.shape[0] || !(labels.data instanceof Uint8Array)) {
    throw new Error(`fashion-mnist: ${labelsFile} has shape [${labels.shape.join(',')}] but ${imagesFile} has ${images.shape[0]} images`);
  }
  const [count, height, width] = images.shape;
  return { images: images.data, labels: labels.data, count, height, width };
}

export function loadFashionMnist(dir = dataDir()): { train: ImageSet; test: ImageSet } {
  const missing = Object.values(FILES).filter((f) => !fs.existsSync(path.join(dir, f)));
  if (missing.length > 0) {
    throw new Error(`fashion-mnist: ${missing.join(', ')} not found in ${dir}; install them with ` +
      '`apt-get install dataset-fashion-mnist` (as root) or point FASHION_MNIST_DIR at a folder holding them');
  }
  return {
    train: readImageSet(path.join(dir, FILES.trainImages), path.join(dir, FILES.trainLabels)),
    test: readImageSet(path.join(dir, FILES.testImages), path.join(dir, FILES.testLabels)),
  };
}

/** The labels of the given rows as int32 (what sparse_categorical_crossentropy takes). */
export function labelsOf(set: ImageSet, rows: ArrayLike<number>): Int32Array {
  return Int32Array.from({ length: rows.length }, (_, i) => set.labels[rows[i]]);
}

/** How many examples of each class the rows hold. */
export function classCounts(labels: ArrayLike<number>, classes = 10): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
  return counts;
}
