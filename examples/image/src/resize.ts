/**
 * Bilinear resizing of grayscale images into the network's input: [n, size, size, channels] float32 in
 * [0, 1], the gray value replicated into every channel (the article's model expects 64×64×3).
 *
 * Pixel centres are aligned the way TensorFlow 2, PIL and PyTorch (align_corners = false) do: output
 * pixel d covers the same fraction of the image as input position
 *
 *     s = (d + ½) · (inSize / outSize) − ½
 *
 * and its value interpolates the two nearest input pixels along each axis,
 *
 *     v = (1 − t) · in[⌊s⌋] + t · in[⌊s⌋ + 1],   t = s − ⌊s⌋,
 *
 * with s clamped to [0, inSize − 1] at the borders. Halving an image therefore averages 2×2 blocks, and
 * doubling it keeps linear ramps linear.
 *
 * It runs per batch, never on the whole set: 60,000 images at 64×64×3 in float32 would be 2.9 GB.
 */

/** For each output index, the two input indices and the weight of the second. */
export interface AxisWeights { lo: Int32Array; hi: Int32Array; t: Float32Array }

export function axisWeights(inSize: number, outSize: number): AxisWeights {
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const t = new Float32Array(outSize);
  const scale = inSize / outSize;
  for (let d = 0; d < outSize; d++) {
    const s = Math.min(inSize - 1, Math.max(0, (d + 0.5) * scale - 0.5));
    lo[d] = Math.floor(s);
    hi[d] = Math.min(inSize - 1, lo[d] + 1);
    t[d] = s - lo[d];
  }
  return { lo, hi, t };
}

export interface ResizeOptions {
  /** Output height and width. */
  size: number;
  /** Copies of the gray value per pixel (3 for an RGB-shaped input). Default 1. */
  channels?: number;
  /** Multiply every value by this (1/255 turns bytes into [0, 1]). Default 1/255. */
  scale?: number;
}

/**
 * Resize `rows` of a [count, height, width] uint8 image array into a new Float32Array of shape
 * [rows.length, size, size, channels]. `rows` picks (and orders) the images: a batch of a shuffled epoch.
 */
export function resizeBatch(
  images: Uint8Array,
  height: number,
  width: number,
  rows: ArrayLike<number>,
  options: ResizeOptions,
): Float32Array {
  const { size, channels = 1, scale = 1 / 255 } = options;
  const ys = axisWeights(height, size);
  const xs = axisWeights(width, size);
  const out = new Float32Array(rows.length * size * size * channels);
  const pixels = height * width;
  let o = 0;
  for (let r = 0; r < rows.length; r++) {
    const base = rows[r] * pixels;
    for (let y = 0; y < size; y++) {
      const top = base + ys.lo[y] * width;
      const bottom = base + ys.hi[y] * width;
      const ty = ys.t[y];
      for (let x = 0; x < size; x++) {
        const x0 = xs.lo[x];
        const x1 = xs.hi[x];
        const tx = xs.t[x];
        const upper = images[top + x0] + tx * (images[top + x1] - images[top + x0]);
        const lower = images[bottom + x0] + tx * (images[bottom + x1] - images[bottom + x0]);
        const v = (upper + ty * (lower - upper)) * scale;
        for (let c = 0; c < channels; c++) out[o++] = v;
      }
    }
  }
  return out;
}
