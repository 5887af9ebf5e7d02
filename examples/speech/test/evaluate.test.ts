import { summarise } from '../src/evaluate';
import { confusionTable, renderDetails } from '../src/report';

describe('judging predictions', () => {
  test('accuracy overall and per group, and the confusion matrix (row said, column recognised)', () => {
    const labels = [7, 7, 1, 1, 0];
    const predicted = [7, 1, 1, 1, 6];
    const groups = ['b', 'b', 'a', 'a', 'a'];
    const ev = summarise(labels, predicted, groups);
    expect(ev.accuracy).toBeCloseTo(3 / 5, 12);
    expect(ev.examples).toBe(5);
    expect(ev.byGroup).toEqual({ a: { accuracy: 2 / 3, examples: 3 }, b: { accuracy: 1 / 2, examples: 2 } });
    expect(Object.keys(ev.byGroup)).toEqual(['a', 'b']);
    expect(ev.confusion[7][7]).toBe(1);
    expect(ev.confusion[7][1]).toBe(1);
    expect(ev.confusion[1][1]).toBe(2);
    expect(ev.confusion[0][6]).toBe(1);
    expect(ev.confusion.flat().reduce((a, b) => a + b)).toBe(5);
    expect(() => summarise([1], [1, 2], ['a'])).toThrow('summarise: 1 labels, 2 predictions and 1 groups must be as many');
  });

  test('the markdown: counts on the diagonal in bold, zeros as dots, one line per voice group cell', () => {
    const ev = summarise([7, 7, 1], [7, 1, 1], ['espeak:m1', 'espeak:m1', 'festival:slt']);
    const table = confusionTable(ev.confusion);
    expect(table[0]).toBe('| said ↓ recognised → | zero | one | two | three | four | five | six | seven | eight | nine |');
    expect(table[2 + 7]).toBe('| seven | · | 1 | · | · | · | · | · | **1** | · | · |');
    expect(table[2 + 1]).toBe('| one | · | **1** | · | · | · | · | · | · | · | · |');
    const md = renderDetails({ test: { ...ev, description: 'a test' } });
    expect(md).toContain('**a test: 66.7% of 3.**');
    expect(md).toContain('espeak:m1 50.0% (2)');
    expect(md).toContain('festival:slt 100.0% (1)');
  });
});
