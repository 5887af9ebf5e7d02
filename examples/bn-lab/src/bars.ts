/**
 * Grouped bar charts as SVG text, for the figures that are categories rather than curves (the cost of
 * each normalisation, accuracy per placement). Same look as examples/common's line charts: a title,
 * panels side by side, labelled axes with "nice" ticks, a legend.
 */
import { escapeXml, niceTicks } from '@gradlab/example-common';

export interface BarPanel {
  title: string;
  yLabel: string;
  /** One label per bar group (x axis). */
  categories: string[];
  /** One entry per bar of each group; values[i] belongs to categories[i]. */
  series: Array<{ name: string; values: number[]; color?: string; errors?: number[] }>;
  /** Fix the y range; by default it starts at 0 and leaves room above the bars for the legend. */
  yRange?: readonly [number, number];
}

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd'];
const M = { left: 64, right: 16, top: 34, bottom: 84 };

function panelSvg(p: BarPanel, left: number, top: number, width: number, height: number): string[] {
  const out: string[] = [];
  const w = width - M.left - M.right, h = height - M.top - M.bottom;
  const x0 = left + M.left, y0 = top + M.top;
  const values = p.series.flatMap((s) => s.values.map((v, i) => v + (s.errors?.[i] ?? 0))).filter(Number.isFinite);
  // Default range: from 0 to a third above the tallest bar, leaving the top for the legend.
  const [lo, hi] = p.yRange ?? [0, Math.max(1e-9, ...values) * (1.15 + 0.1 * p.series.length)];
  const sy = (v: number) => y0 + h - ((Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * h;
  const f = (v: number) => v.toFixed(1);
  out.push(`<text x="${f(x0 + w / 2)}" y="${f(top + 20)}" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(p.title)}</text>`);
  const ticks = niceTicks(lo, hi, 5).filter((t) => t >= lo && t <= hi);
  const step = ticks.length > 1 ? ticks[1] - ticks[0] : 1;
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  for (const t of ticks) {
    out.push(`<line x1="${f(x0)}" y1="${f(sy(t))}" x2="${f(x0 + w)}" y2="${f(sy(t))}" stroke="#ddd"/>`);
    out.push(`<text x="${f(x0 - 6)}" y="${f(sy(t) + 4)}" text-anchor="end" font-size="11">${t.toFixed(decimals)}</text>`);
  }
  const group = w / p.categories.length;
  const bar = (group * 0.8) / p.series.length;
  p.categories.forEach((cat, i) => {
    const gx = x0 + i * group + group * 0.1;
    p.series.forEach((s, k) => {
      const v = s.values[i];
      if (!Number.isFinite(v)) return;
      const color = s.color ?? PALETTE[k % PALETTE.length];
      const bx = gx + k * bar;
      out.push(`<rect x="${f(bx)}" y="${f(sy(v))}" width="${f(bar * 0.92)}" height="${f(sy(lo) - sy(v))}" fill="${color}"/>`);
      const e = s.errors?.[i];
      if (e !== undefined && e > 0) {
        const cx = bx + bar * 0.46;
        out.push(`<line x1="${f(cx)}" y1="${f(sy(v - e))}" x2="${f(cx)}" y2="${f(sy(v + e))}" stroke="#333"/>`);
      }
    });
    const lx = x0 + i * group + group / 2, ly = y0 + h + 14;
    out.push(`<text x="${f(lx)}" y="${f(ly)}" text-anchor="end" font-size="11" transform="rotate(-25 ${f(lx)} ${f(ly)})">${escapeXml(cat)}</text>`);
  });
  out.push(`<rect x="${f(x0)}" y="${f(y0)}" width="${f(w)}" height="${f(h)}" fill="none" stroke="#333"/>`);
  const yMid = y0 + h / 2;
  out.push(`<text x="${f(left + 16)}" y="${f(yMid)}" text-anchor="middle" font-size="12" transform="rotate(-90 ${f(left + 16)} ${f(yMid)})">${escapeXml(p.yLabel)}</text>`);
  p.series.forEach((s, k) => {
    const ly = y0 + 14 + k * 16, lx = x0 + 8;
    out.push(`<rect x="${f(lx)}" y="${f(ly - 9)}" width="12" height="10" fill="${s.color ?? PALETTE[k % PALETTE.length]}"/>`);
    out.push(`<text x="${f(lx + 18)}" y="${f(ly)}" font-size="11">${escapeXml(s.name)}</text>`);
  });
  return out;
}

/** Panels of grouped bars side by side, as one SVG document. */
export function svgBars(title: string, panels: BarPanel[], panelWidth = 460, panelHeight = 340): string {
  const width = panelWidth * panels.length, height = panelHeight + 30;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(title)}</text>`,
    ...panels.flatMap((p, i) => panelSvg(p, i * panelWidth, 30, panelWidth, panelHeight)),
    '</svg>',
    '',
  ].join('\n');
}
