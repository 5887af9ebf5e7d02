/**
 * Small source-writing helpers shared by the kernel families: the index arithmetic of shape.ts,
 * written out as kernel statements with the shapes and strides as literal numbers.
 */

/**
 * Integer division that survives float arithmetic. GL shaders compute in float32 and a GPU's
 * division may be off by an ulp or two, so floor(9 / 3) can come out as 2. Dividing (a + 0.5)
 * instead puts the exact quotient half a step away from the next integer, so a small error cannot
 * move the floor. Valid for 0 ≤ a < 2²², the tile limit (device.ts).
 */
export function idiv(a: string, d: number): string {
  return d === 1 ? `(${a})` : `Math.floor(((${a}) + 0.5) / ${d})`;
}

/**
 * Statements that turn the flat row-major index `flat` into one variable per axis,
 * `${prefix}0 … ${prefix}{r-1}` (ordinalToIndex of shape.ts):
 *   i_{r-1} = flat mod d_{r-1},  flat ← floor(flat / d_{r-1}),  … and so on leftwards.
 */
export function unravel(flat: string, shape: readonly number[], prefix: string): string {
  const rank = shape.length;
  if (rank === 0) return '';
  const lines: string[] = [];
  let rest = flat;
  for (let k = rank - 1; k >= 0; k--) {
    if (k === 0) { lines.push(`  const ${prefix}0 = ${rest};`); break; }
    const q = `${prefix}q${k}`;
    lines.push(`  const ${q} = ${idiv(rest, shape[k])};`);
    lines.push(`  const ${prefix}${k} = ${rest} - ${q} * ${shape[k]};`);
    rest = q;
  }
  return lines.join('\n');
}

/**
 * The storage position of the element with index variables `${prefix}k` in a view with these
 * strides (indexToPosition of shape.ts):  offset + Σ_k i_k · s_k. Zero strides (broadcast axes) and
 * unit strides are left out or simplified, so a contiguous input reads at `offset + o`-like sums.
 */
export function position(strides: readonly number[], prefix: string, offset: string): string {
  const terms = strides.flatMap((s, k) => (s === 0 ? [] : [s === 1 ? `${prefix}${k}` : `${prefix}${k} * ${s}`]));
  return [offset, ...terms].join(' + ');
}

/** A number as a kernel literal (GPU.js reads the JavaScript source: Infinity and NaN are not literals). */
export function literal(x: number): string {
  if (Number.isNaN(x)) return '(0.0 / 0.0)';
  if (x === Infinity) return '(1.0 / 0.0)';
  if (x === -Infinity) return '(-1.0 / 0.0)';
  return Number.isInteger(x) ? `${x}.0` : `${x}`;
}

/**
 * One level of nested kernel loops (see `nest`): an optional loop `for (let index = 0; index < count; …)`,
 * statements at the start of each pass (`set`), and an optional condition (`where`) that the rest of
 * the pass runs under. A level with neither loop nor condition just adds its statements.
 */
export interface Level {
  index?: string;
  count?: number;
  set?: readonly string[];
  where?: string;
}

/**
 * Kernel statements for `levels`, each inside the one before, with `inner` at the centre and every
 * block closed again. A shader's loop counts are fixed when it compiles, so a window that is cut by
 * the image's edge is a loop over the whole window with a `where` that skips what lies outside.
 */
export function nest(levels: readonly Level[], inner: readonly string[]): string {
  const lines: string[] = [];
  let open = 0;
  // A line gets one indent per open block, on top of the body's own (which body text already has).
  const write = (text: string) => {
    for (const line of text.split('\n')) lines.push(`${'  '.repeat(open)}${line.startsWith('  ') ? '' : '  '}${line}`);
  };
  for (const level of levels) {
    if (level.index !== undefined) { write(`for (let ${level.index} = 0; ${level.index} < ${level.count}; ${level.index}++) {`); open++; }
    for (const statement of level.set ?? []) write(statement);
    if (level.where !== undefined) { write(`if (${level.where}) {`); open++; }
  }
  for (const statement of inner) write(statement);
  while (open > 0) { open--; write('}'); }
  return lines.join('\n');
}

/** `let sum = 0.0;`, then `sum += term` inside `levels` (nest), then `return result` (the sum, or a formula of it). */
export function sumOver(levels: readonly Level[], term: string, result = 'sum'): string {
  return ['  let sum = 0.0;', nest(levels, [`sum += ${term};`]), `  return ${result};`].join('\n');
}

/**
 * A level that runs `index` over [0, count), sets `variable = value` and goes on only where that lies in
 * [0, size): one axis of a window or of a set of windows, skipping what falls outside.
 */
export function within(index: string, count: number, variable: string, value: string, size: number): Level {
  return { index, count, set: [`const ${variable} = ${value};`], where: `${variable} >= 0 && ${variable} < ${size}` };
}
