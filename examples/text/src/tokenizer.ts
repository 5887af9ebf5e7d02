/**
 * From review text to the integer sequences an Embedding layer reads.
 *
 *  1. clean     drop the `<br />` line breaks (and any other HTML tag) the reviews carry, lowercase
 *  2. split     words are runs of letters (any script) and digits, keeping an inner apostrophe ("don't", "film's");
 *               punctuation separates words and is dropped
 *  3. index     a vocabulary of the `size − 2` most frequent training words gets ids 2, 3, … in order of
 *               frequency (ties alphabetically, so the same data always gives the same ids);
 *               id 0 is padding (what Embedding({ maskZero: true }) masks) and id 1 stands for every
 *               word outside the vocabulary
 *  4. cut       keep the last `maxLength` words of a long review (Keras's pad_sequences keeps the end
 *               too: reviews tend to close with the verdict)
 */

export const PAD = 0;
export const OOV = 1;

/** Remove HTML line breaks and tags, make typographic apostrophes plain ones, lowercase. */
export const cleanText = (text: string): string => text.replace(/<[^>]*>/g, ' ').replace(/[\u2018\u2019`]/g, "'").toLowerCase();

// Letters of any script ("brüggemann" is one word), digits, and apostrophes between letters.
const WORD = /[\p{L}\p{N}]+(?:'\p{L}+)*/gu;

export function tokenize(text: string): string[] {
  return cleanText(text).match(WORD) ?? [];
}

export class Vocabulary {
  /** words[id] is the word with that id (words[0] = '<pad>', words[1] = '<oov>'). */
  readonly words: string[];
  private readonly ids: Map<string, number>;

  constructor(words: readonly string[]) {
    this.words = ['<pad>', '<oov>', ...words];
    this.ids = new Map(words.map((w, i) => [w, i + 2]));
  }

  /** The `size − 2` most frequent words of the texts (size counts the padding and OOV ids). */
  static build(tokenized: Iterable<readonly string[]>, size: number): Vocabulary {
    if (!(Number.isInteger(size) && size >= 2)) throw new Error(`Vocabulary.build: size must be an integer ≥ 2 (padding and OOV), got ${size}`);
    const counts = new Map<string, number>();
    for (const tokens of tokenized) for (const t of tokens) counts.set(t, (counts.get(t) ?? 0) + 1);
    const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return new Vocabulary(ranked.slice(0, size - 2).map(([w]) => w));
  }

  /** Number of ids, padding and OOV included: the Embedding's inputDim. */
  get size(): number { return this.words.length; }

  idOf(word: string): number { return this.ids.get(word) ?? OOV; }

  /** Ids of the last `maxLength` tokens (all of them when maxLength is 0). */
  encode(tokens: readonly string[], maxLength = 0): Int32Array {
    const kept = maxLength > 0 && tokens.length > maxLength ? tokens.slice(tokens.length - maxLength) : tokens;
    return Int32Array.from(kept, (t) => this.idOf(t));
  }

  decode(ids: ArrayLike<number>): string {
    return Array.from(ids).filter((id) => id !== PAD).map((id) => this.words[id] ?? '<oov>').join(' ');
  }

  toJSON(): { words: string[] } { return { words: this.words.slice(2) }; }
  static fromJSON(json: { words: string[] }): Vocabulary { return new Vocabulary(json.words); }
}
