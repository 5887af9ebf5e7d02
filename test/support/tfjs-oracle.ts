/**
 * TensorFlow.js 4.22 as a test oracle (a devDependency of bench/models only; no gradlab package
 * depends on it), and the comparisons the format tests share.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { TfjsArtifacts } from '@gradlab/layers';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Tf = any;
export const tf: Tf = createRequire(path.join(__dirname, '../../bench/models/package.json'))('@tensorflow/tfjs');

/** The largest |a − b| over two equally long lists. */
export const maxDifference = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  return Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
};

/** What TF.js's model.save() hands a save handler. */
export async function saveOf(m: Tf): Promise<TfjsArtifacts> {
  let saved: TfjsArtifacts | undefined;
  await m.save(tf.io.withSaveHandler(async (a: TfjsArtifacts) => { saved = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }; }));
  return saved!;
}
