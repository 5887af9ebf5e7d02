// The article's speech model and a small synthetic batch, the same in the page and in the worker.
import { fromTypedArray, randn, setSeed } from 'gradlab';
import { buildModel } from './model.ts';

export const EPOCHS = 2;
export const BATCH = 8;

/** 16 "utterances" of 20 frames × 40 bands, labels 0…9; the seed makes both sides draw the same. */
export function speechData() {
  setSeed(15);
  const x = randn([16, 20, 40]);
  const y = fromTypedArray(Int32Array.from({ length: 16 }, (_, i) => i % 10), [16]);
  return { x, y };
}

/** The article's speech model (examples/speech/src/model.ts, copied beside this file by the test), drawn after speechData(). */
export const speechModel = () => buildModel(40);

export const fitOptions = (extra = {}) => ({ epochs: EPOCHS, batchSize: BATCH, seed: 3, ...extra });
