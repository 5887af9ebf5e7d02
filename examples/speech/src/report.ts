/**
 * The per-voice breakdown and the confusion matrices of a run, as markdown. train.ts stores the text in
 * the results file (`details`), and `pnpm docs:examples` copies it into docs/examples.md, so the figures
 * in the docs are the ones the run measured.
 */
import type { Evaluation } from './evaluate.js';
import { DIGITS } from './synth.js';

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

/** "espeak-ng:m3 97.5% (80)" cells, several to a row, so 20–40 voices fit on a screen. */
function voiceTable(ev: Evaluation, perRow = 4): string[] {
  const cells = Object.entries(ev.byGroup).map(([g, r]) => `${g} ${pct(r.accuracy)} (${r.examples})`);
  const lines = [`| ${Array(perRow).fill('voice, accuracy (utterances)').join(' | ')} |`, `|${' --- |'.repeat(perRow)}`];
  for (let i = 0; i < cells.length; i += perRow) {
    const row = cells.slice(i, i + perRow);
    while (row.length < perRow) row.push('');
    lines.push(`| ${row.join(' | ')} |`);
  }
  return lines;
}

/** Rows: the digit said; columns: the digit recognised. */
export function confusionTable(confusion: number[][]): string[] {
  return [
    `| said ↓ recognised → | ${DIGITS.join(' | ')} |`,
    `| --- |${' ---: |'.repeat(DIGITS.length)}`,
    ...confusion.map((row, d) => `| ${DIGITS[d]} | ${row.map((n, c) => (c === d ? `**${n}**` : n ? String(n) : '·')).join(' | ')} |`),
  ];
}

export function renderDetails(evaluations: Record<string, (Evaluation & { description: string }) | undefined>): string {
  const out: string[] = [];
  for (const ev of Object.values(evaluations)) {
    if (!ev) continue;
    out.push(`**${ev.description}: ${pct(ev.accuracy)} of ${ev.examples.toLocaleString('en-US')}.**`, '', ...voiceTable(ev), '', ...confusionTable(ev.confusion), '');
  }
  return out.join('\n').trimEnd();
}
