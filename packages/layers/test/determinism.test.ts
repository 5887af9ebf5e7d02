/**
 * Determinism: the same seed gives bit-identical training in separate processes, whatever the number
 * of threads (each thread computes whole blocks of a gemm in the same order as one thread would).
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const TRAIN = path.join(__dirname, 'fixtures', 'train-seeded.mjs');

function train(threads: number): { weightsCrc32: number; loss: number[] } {
  const child = spawnSync(process.execPath, [TRAIN], { env: { ...process.env, GRADLAB_THREADS: String(threads) }, encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`train-seeded.mjs failed: ${child.stderr}`);
  return JSON.parse(child.stdout) as { weightsCrc32: number; loss: number[] };
}

test('a seeded fit gives bit-identical weights and losses in two processes, on 1 thread and on 3', () => {
  const one = train(1);
  expect(one.loss.every(Number.isFinite)).toBe(true);
  expect(train(1)).toEqual(one);
  expect(train(3)).toEqual(one);
}, 120_000);
