/**
 * The exercise track's checks (checks.ts), run three ways:
 *   - by default (CI): every reference solution passes; every stub, as committed, fails; and a solution
 *     whose answers are 1% off fails too — the checks can tell a wrong answer, not only a missing one;
 *   - with GRADLAB_EXERCISES=mine: the exercise.ts files, which the learner fills in, must pass
 *     (`GRADLAB_EXERCISES=mine npx jest docs/exercises -t 03` checks exercise 03 alone).
 */
import { Tensor, Variable } from 'gradlab';
import * as checks from './checks';
import * as E01 from '../01-sum-to-shape/exercise';
import * as S01 from '../01-sum-to-shape/solution';
import * as E02 from '../02-matmul-backward/exercise';
import * as S02 from '../02-matmul-backward/solution';
import * as E03 from '../03-softmax-backward/exercise';
import * as S03 from '../03-softmax-backward/solution';
import * as E04 from '../04-batchnorm-composite/exercise';
import * as S04 from '../04-batchnorm-composite/solution';
import * as E05 from '../05-batchnorm-closed-form/exercise';
import * as S05 from '../05-batchnorm-closed-form/solution';
import * as E06 from '../06-batchnorm-masked/exercise';
import * as S06 from '../06-batchnorm-masked/solution';
import * as E07 from '../07-lstm-cell-backward/exercise';
import * as S07 from '../07-lstm-cell-backward/solution';
import * as E08 from '../08-im2col-col2im/exercise';
import * as S08 from '../08-im2col-col2im/solution';
import * as E09 from '../09-adam/exercise';
import * as S09 from '../09-adam/solution';

type Module = Record<string, unknown>;
interface Exercise { id: string; title: string; check: (impl: never) => void; exercise: Module; solution: Module }

const TRACK: Exercise[] = [
  { id: '01', title: 'sumToShape', check: checks.check01, exercise: E01, solution: S01 },
  { id: '02', title: "matmul's backward", check: checks.check02, exercise: E02, solution: S02 },
  { id: '03', title: "softmax's backward", check: checks.check03, exercise: E03, solution: S03 },
  { id: '04', title: 'BatchNorm as a composite', check: checks.check04, exercise: E04, solution: S04 },
  { id: '05', title: "BatchNorm's backward in closed form", check: checks.check05, exercise: E05, solution: S05 },
  { id: '06', title: "masked BatchNorm's backward", check: checks.check06, exercise: E06, solution: S06 },
  { id: '07', title: "an LSTM cell's backward", check: checks.check07, exercise: E07, solution: S07 },
  { id: '08', title: 'im2col and col2im', check: checks.check08, exercise: E08, solution: S08 },
  { id: '09', title: 'an Adam step', check: checks.check09, exercise: E09, solution: S09 },
];

const run = (ex: Exercise, impl: Module): void => (ex.check as (impl: Module) => void)(impl);

/** The solution with every returned tensor (or Variable, or object of them) scaled by 1.01. */
function skewed(solution: Module): Module {
  const skew = (out: unknown): unknown => {
    if (out instanceof Tensor || out instanceof Variable) return out.mul(1.01);
    if (out && typeof out === 'object') return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, skew(v)]));
    return out;
  };
  return Object.fromEntries(Object.entries(solution).map(([name, fn]) => [name, (...args: unknown[]) => skew((fn as (...a: unknown[]) => unknown)(...args))]));
}

const mine = process.env.GRADLAB_EXERCISES === 'mine';

describe.each(TRACK)('exercise $id: $title', (ex) => {
  if (mine) {
    test('your exercise.ts passes the check', () => run(ex, ex.exercise));
    return;
  }
  test('the reference solution passes the check', () => run(ex, ex.solution));
  test('the stub, as committed, fails it', () => expect(() => run(ex, ex.exercise)).toThrow(`exercise ${ex.id}`));
  test('an answer 1% off fails it', () => expect(() => run(ex, skewed(ex.solution))).toThrow(`exercise ${ex.id}`));
});
