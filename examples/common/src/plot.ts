/**
 * A small SVG line-chart writer for learning curves: one or more panels side by side (loss, accuracy),
 * each with labelled axes, "nice" tick values, a legend and a title. No dependencies: the SVG is text.
 *
 *   svgChart({ title: 'Fashion-MNIST', panels: [
 *     { title: 'loss', xLabel: 'epoch', yLabel: 'loss', series: [{ name: 'train', points: [[1, 0.5], [2, 0.3]] }] },
 *   ] })
 */

export interface Series {
  name: string;
  points: ReadonlyArray<readonly [number, number]>;
  /** Drawn dashed (validation curves, by convention here). */
  dashed?: boolean;
  color?: string;
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Fix the y range (e.g. [0, 1] for accuracy); otherwise it is fitted to the data. */
  yRange?: readonly [number, number];
  /** Which corner of the frame holds the legend (default top right; rising curves want bottom right). */
  legend?: 'top-right' | 'bottom-right' | 'top-left' | 'bottom-left';
}

export interface Chart {
  title: string;
  panels: Panel[];
  panelWidth?: number;
  panelHeight?: number;
}

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];
const MARGIN = { left: 64, right: 16, top: 34, bottom: 48 };
const TITLE_HEIGHT = 30;

/** Escape text for use inside SVG elements and attributes. */
export const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * Tick values covering [lo, hi] with a step of 1, 2 or 5 × 10^k, about `count` of them (Heckbert's
 * "nice numbers"): the axis reads 0.2, 0.4, 0.6 rather than 0.1873, 0.3746.
 */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) {
    ticks.push(Number(t.toPrecision(12)));
  }
  return ticks;
}

/** A tick label: integers as such, others with just enough decimals for the step. */
function formatTick(value: number, step: number): string {
  const decimals = Math.max(0, -Math.floor(Math.log10(step || 1)));
  return value.toFixed(Number.isInteger(value) && decimals === 0 ? 0 : decimals);
}

/** The data range of a panel, padded a little so curves do not touch the frame. */
function ranges(panel: Panel): { x: [number, number]; y: [number, number] } {
  const xs = panel.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = panel.series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  let x: [number, number] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  if (x[0] === x[1]) x = [x[0] - 1, x[1] + 1];
  let y: [number, number];
  if (panel.yRange) y = [panel.yRange[0], panel.yRange[1]];
  else {
    y = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
    const pad = (y[1] - y[0]) * 0.08 || Math.abs(y[0]) * 0.1 || 1;
    y = [y[0] - pad, y[1] + pad];
  }
  return { x, y };
}

function drawPanel(panel: Panel, left: number, top: number, width: number, height: number): string[] {
  const out: string[] = [];
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const x0 = left + MARGIN.left;
  const y0 = top + MARGIN.top;
  const { x: xr, y: yr } = ranges(panel);
  const sx = (v: number): number => x0 + ((v - xr[0]) / (xr[1] - xr[0])) * plotW;
  const sy = (v: number): number => y0 + plotH - ((v - yr[0]) / (yr[1] - yr[0])) * plotH;
  const f = (v: number): string => v.toFixed(1);

  out.push(`<text x="${f(x0 + plotW / 2)}" y="${f(top + 20)}" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(panel.title)}</text>`);
  out.push(`<rect x="${f(x0)}" y="${f(y0)}" width="${f(plotW)}" height="${f(plotH)}" fill="none" stroke="#333"/>`);

  // Axes: ticks, grid lines and labels.
  const xTicks = niceTicks(xr[0], xr[1], Math.min(8, Math.max(2, Math.round(xr[1] - xr[0])))).filter((t) => t >= xr[0] && t <= xr[1]);
  const yTicks = niceTicks(yr[0], yr[1], 5).filter((t) => t >= yr[0] && t <= yr[1]);
  const xStep = xTicks.length > 1 ? xTicks[1] - xTicks[0] : 1;
  const yStep = yTicks.length > 1 ? yTicks[1] - yTicks[0] : 1;
  for (const t of xTicks) {
    out.push(`<line x1="${f(sx(t))}" y1="${f(y0 + plotH)}" x2="${f(sx(t))}" y2="${f(y0 + plotH + 5)}" stroke="#333"/>`);
    out.push(`<text x="${f(sx(t))}" y="${f(y0 + plotH + 18)}" text-anchor="middle" font-size="11">${formatTick(t, xStep)}</text>`);
  }
  for (const t of yTicks) {
    out.push(`<line x1="${f(x0)}" y1="${f(sy(t))}" x2="${f(x0 + plotW)}" y2="${f(sy(t))}" stroke="#ddd"/>`);
    out.push(`<text x="${f(x0 - 6)}" y="${f(sy(t) + 4)}" text-anchor="end" font-size="11">${formatTick(t, yStep)}</text>`);
  }
  out.push(`<text x="${f(x0 + plotW / 2)}" y="${f(y0 + plotH + 38)}" text-anchor="middle" font-size="12">${escapeXml(panel.xLabel)}</text>`);
  const yMid = y0 + plotH / 2;
  out.push(`<text x="${f(left + 16)}" y="${f(yMid)}" text-anchor="middle" font-size="12" transform="rotate(-90 ${f(left + 16)} ${f(yMid)})">${escapeXml(panel.yLabel)}</text>`);

  // The curves, each with a dot per point.
  panel.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const pts = s.points.filter((p) => Number.isFinite(p[1]));
    if (pts.length === 0) return;
    const d = pts.map((p, k) => `${k === 0 ? 'M' : 'L'}${f(sx(p[0]))},${f(sy(p[1]))}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    for (const p of pts) out.push(`<circle cx="${f(sx(p[0]))}" cy="${f(sy(p[1]))}" r="2.5" fill="${color}"/>`);
  });

  // Legend, inside the frame, in the corner asked for (top right by default).
  const legendW = 14 + 8 + Math.max(...panel.series.map((s) => s.name.length)) * 6.5;
  const corner = panel.legend ?? 'top-right';
  const legendTop = corner.startsWith('top') ? y0 + 14 : y0 + plotH - 6 - 16 * (panel.series.length - 1);
  panel.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const ly = legendTop + i * 16;
    const lx = corner.endsWith('right') ? x0 + plotW - legendW - 6 : x0 + 8;
    out.push(`<line x1="${f(lx)}" y1="${f(ly - 4)}" x2="${f(lx + 14)}" y2="${f(ly - 4)}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="4 2"' : ''}/>`);
    out.push(`<text x="${f(lx + 20)}" y="${f(ly)}" font-size="11">${escapeXml(s.name)}</text>`);
  });
  return out;
}

/** The whole chart as an SVG document. */
export function svgChart(chart: Chart): string {
  const w = chart.panelWidth ?? 420;
  const h = chart.panelHeight ?? 300;
  const width = w * chart.panels.length;
  const height = h + TITLE_HEIGHT;
  const body = chart.panels.flatMap((p, i) => drawPanel(p, i * w, TITLE_HEIGHT, w, h));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(chart.title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

/** The usual two panels of a training run: loss and accuracy, training solid and validation dashed. */
export function learningCurves(
  title: string,
  epochs: ReadonlyArray<{ epoch: number; loss: number; accuracy: number; valLoss?: number; valAccuracy?: number }>,
): string {
  const series = (pick: (e: (typeof epochs)[number]) => number | undefined) =>
    epochs.filter((e) => pick(e) !== undefined).map((e) => [e.epoch, pick(e) as number] as const);
  const panel = (name: 'loss' | 'accuracy'): Panel => {
    const val = series((e) => (name === 'loss' ? e.valLoss : e.valAccuracy));
    return {
      title: name,
      xLabel: 'epoch',
      yLabel: name,
      // Loss falls and accuracy rises: keep the legend in the corner the curves leave empty.
      legend: name === 'loss' ? 'top-right' : 'bottom-right',
      series: [
        { name: `training ${name}`, points: series((e) => e[name]) },
        ...(val.length ? [{ name: `validation ${name}`, points: val, dashed: true }] : []),
      ],
    };
  };
  return svgChart({ title, panels: [panel('loss'), panel('accuracy')] });
}
