/**
 * model.summary(): Keras's table, character for character as tf.keras 2.11 prints it for a Sequential
 * model (65 columns; column ends at 45 %, 85 % and 100 % of the width; a cell too long for its column
 * wraps onto the next line, as "batch_normalization (BatchN" / "ormalization)" does in Keras). A functional
 * model's table has a fourth column, "Connected to" (each call's inputs as 'layer[call][tensor]'), and is
 * 98 columns wide with column ends at 33 %, 55 %, 67 % and 100 %, as Keras prints a functional model.
 */

export interface SummaryRow {
  /** "conv2d (Conv2D)" */
  layer: string;
  /** "(None, 62, 62, 32)" */
  outputShape: string;
  params: number;
  /** A functional model's layer: the inputs of its calls, ['dense[0][0]', …]. */
  connectedTo?: string[];
}

export interface SummaryCounts { trainable: number; nonTrainable: number; total: number }

const LINE_LENGTH = 65;
const POSITIONS = [0.45, 0.85, 1.0].map((p) => Math.floor(LINE_LENGTH * p)); // [29, 55, 65]
const GRAPH_LINE_LENGTH = 98;
const GRAPH_POSITIONS = [0.33, 0.55, 0.67, 1.0].map((p) => Math.floor(GRAPH_LINE_LENGTH * p)); // [32, 53, 65, 98]

/** ['a[0][0]', 'b[0][0]'] as Python prints a list of strings. */
const pythonList = (items: readonly string[]): string => `[${items.map((s) => `'${s}'`).join(', ')}]`;

/** 1627338 → "1,627,338" (Python's '{:,}'). */
export function withThousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * One table row, possibly over several lines: each column gets what fits before its end position (less two
 * spaces between columns); the rest goes to the next line. As Keras, a cell is also cut after "),",
 * "},", "]," or "'," so that a list of shapes wraps between shapes.
 */
export function formatRow(fields: readonly string[], positions: readonly number[] = POSITIONS): string[] {
  const left = [...fields];
  const lines: string[] = [];
  while (left.some((s) => s.length > 0)) {
    let line = '';
    for (let col = 0; col < left.length; col++) {
      const start = col > 0 ? positions[col - 1] : 0;
      const space = col !== positions.length - 1 ? 2 : 0;
      let cutoff = positions[col] - start - space;
      let fit = left[col].slice(0, cutoff);
      const breaks = ['),', '},', '],', "',"].map((s) => (fit.includes(s) ? fit.indexOf(s) + s.length : -1)).filter((i) => i >= 0);
      if (breaks.length > 0) {
        cutoff = Math.min(...breaks);
        fit = fit.slice(0, cutoff);
      }
      if (col === 0) line += ' ';
      line += fit + ' '.repeat(space);
      left[col] = left[col].slice(cutoff);
      line += ' '.repeat(Math.max(0, positions[col] - line.length));
    }
    lines.push(line);
  }
  return lines;
}

/** The whole summary as lines. */
export function formatSummary(modelName: string, rows: readonly SummaryRow[], counts: SummaryCounts): string[] {
  const graph = rows.some((r) => r.connectedTo !== undefined);
  const width = graph ? GRAPH_LINE_LENGTH : LINE_LENGTH;
  const positions = graph ? GRAPH_POSITIONS : POSITIONS;
  const header = graph ? ['Layer (type)', 'Output Shape', 'Param #', 'Connected to'] : ['Layer (type)', 'Output Shape', 'Param #'];
  const lines = [`Model: "${modelName}"`, '_'.repeat(width), ...formatRow(header, positions), '='.repeat(width)];
  for (const row of rows) {
    const fields = [row.layer, row.outputShape, String(row.params)];
    if (graph) fields.push(row.connectedTo && row.connectedTo.length ? pythonList(row.connectedTo) : '[]');
    lines.push(...formatRow(fields, positions));
    lines.push(' '.repeat(width));
  }
  lines.push('='.repeat(width));
  lines.push(`Total params: ${withThousands(counts.total)}`);
  lines.push(`Trainable params: ${withThousands(counts.trainable)}`);
  lines.push(`Non-trainable params: ${withThousands(counts.nonTrainable)}`);
  lines.push('_'.repeat(width));
  return lines;
}
