/**
 * Judging the model on a set of utterances: its prediction for each, the accuracy overall and per voice,
 * and the confusion matrix (row: the digit said, column: the digit recognised), as the results file and
 * docs/examples.md report them.
 */
import type { models } from 'gradlab';
import { fixedBatches } from './batches.js';
import type { Example } from './corpus.js';
import { DIGITS } from './synth.js';

export interface Evaluation {
  accuracy: number;
  examples: number;
  /** Accuracy and count per group (voice, engine, …). */
  byGroup: Record<string, { accuracy: number; examples: number }>;
  /** confusion[said][recognised]: counts. */
  confusion: number[][];
}

/**
 * The recognised digit of every example (model.predict, in inference mode), in batches of utterances
 * of similar length so that little is padded.
 */
export async function predictDigits(model: models.Model, examples: readonly Example[], batchSize = 64): Promise<Int32Array> {
  const order = Int32Array.from(examples.keys()).sort((a, b) => examples[a].frames - examples[b].frames);
  const out = await (await model.predict(fixedBatches(examples, batchSize, order))).data();
  const classes = out.length / examples.length;
  const predicted = new Int32Array(examples.length);
  order.forEach((row, i) => {
    let best = 0;
    for (let c = 1; c < classes; c++) if (out[i * classes + c] > out[i * classes + best]) best = c;
    predicted[row] = best;
  });
  return predicted;
}

/** Accuracy, per-group accuracy and confusion matrix of predictions against labels. */
export function summarise(labels: ArrayLike<number>, predicted: ArrayLike<number>, groups: readonly string[]): Evaluation {
  if (labels.length !== predicted.length || labels.length !== groups.length) {
    throw new Error(`summarise: ${labels.length} labels, ${predicted.length} predictions and ${groups.length} groups must be as many`);
  }
  const confusion = DIGITS.map(() => new Array<number>(DIGITS.length).fill(0));
  const tally = new Map<string, { right: number; n: number }>();
  let right = 0;
  for (let i = 0; i < labels.length; i++) {
    confusion[labels[i]][predicted[i]]++;
    const ok = labels[i] === predicted[i] ? 1 : 0;
    right += ok;
    const t = tally.get(groups[i]) ?? { right: 0, n: 0 };
    t.right += ok; t.n++;
    tally.set(groups[i], t);
  }
  const byGroup: Evaluation['byGroup'] = {};
  for (const [g, t] of [...tally].sort((a, b) => a[0].localeCompare(b[0]))) byGroup[g] = { accuracy: t.right / t.n, examples: t.n };
  return { accuracy: labels.length ? right / labels.length : NaN, examples: labels.length, byGroup, confusion };
}
