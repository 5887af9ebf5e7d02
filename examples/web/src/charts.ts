/**
 * The page's three kinds of chart, drawn straight onto <canvas> (no chart library): loss curves, a
 * histogram of a layer's sigmoid inputs, and Figure 1(b, c)'s 15/50/85 percentile bands over training.
 * Each draws a frame with its y-range written at the edge, so two side-by-side charts can share axes.
 */
export const COLOURS = { plain: '#c0392b', normed: '#2471a3', grid: '#ddd', text: '#333' };

interface Frame { ctx: CanvasRenderingContext2D; x0: number; y0: number; w: number; h: number }

function frame(canvas: HTMLCanvasElement, title: string, yLabels: [string, string]): Frame {
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const f = { ctx, x0: 34, y0: 16, w: canvas.width - 40, h: canvas.height - 30 };
  ctx.strokeStyle = COLOURS.grid;
  ctx.strokeRect(f.x0, f.y0, f.w, f.h);
  ctx.fillStyle = COLOURS.text;
  ctx.font = '11px sans-serif';
  ctx.fillText(title, f.x0, 11);
  ctx.fillText(yLabels[0], 2, f.y0 + 9);
  ctx.fillText(yLabels[1], 2, f.y0 + f.h);
  return f;
}

const fmt = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(2));

/** Loss per step for each series, on one y-range starting at 0 (the first steps' ~2.3 sets the top). */
export function drawLosses(canvas: HTMLCanvasElement, series: { values: number[]; colour: string }[]): void {
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  const top = Math.max(1e-3, ...all);
  const f = frame(canvas, 'training loss per step', [fmt(top), '0']);
  const steps = Math.max(2, ...series.map((s) => s.values.length));
  for (const s of series) {
    f.ctx.strokeStyle = s.colour;
    f.ctx.beginPath();
    s.values.forEach((v, i) => {
      const x = f.x0 + (i / (steps - 1)) * f.w, y = f.y0 + f.h * (1 - Math.min(v, top) / top);
      if (i === 0) f.ctx.moveTo(x, y); else f.ctx.lineTo(x, y);
    });
    f.ctx.stroke();
  }
}

/** A histogram of `values` on [lo, hi] (values outside pile up in the end bins, so none vanish). */
export function drawHistogram(canvas: HTMLCanvasElement, title: string, values: ArrayLike<number>, lo: number, hi: number, colour: string): void {
  const bins = new Float64Array(48);
  for (let i = 0; i < values.length; i++) {
    const b = Math.floor(((values[i] - lo) / (hi - lo)) * bins.length);
    bins[Math.min(bins.length - 1, Math.max(0, Number.isNaN(b) ? 0 : b))]++;
  }
  const peak = Math.max(1, ...bins);
  const f = frame(canvas, title, ['', '']);
  f.ctx.fillStyle = colour;
  bins.forEach((count, b) => {
    const h = (count / peak) * f.h;
    f.ctx.fillRect(f.x0 + (b / bins.length) * f.w, f.y0 + f.h - h, f.w / bins.length - 1, h);
  });
  f.ctx.fillStyle = COLOURS.text;
  f.ctx.fillText(String(lo), f.x0, f.y0 + f.h + 12);
  f.ctx.fillText(String(hi), f.x0 + f.w - 10, f.y0 + f.h + 12);
  const zero = f.x0 + ((0 - lo) / (hi - lo)) * f.w;
  f.ctx.fillText('0', zero - 3, f.y0 + f.h + 12);
}

/** The 15th–85th percentile band and the median over training, on a y-range given (shared by both sides). */
export function drawBands(canvas: HTMLCanvasElement, title: string, bands: { step: number; p15: number; p50: number; p85: number }[], lo: number, hi: number, lastStep: number, colour: string): void {
  const f = frame(canvas, title, [fmt(hi), fmt(lo)]);
  if (bands.length === 0) return;
  const x = (step: number): number => f.x0 + (step / Math.max(1, lastStep)) * f.w;
  const y = (v: number): number => f.y0 + f.h * (1 - (Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo || 1));
  f.ctx.fillStyle = colour;
  f.ctx.globalAlpha = 0.25;
  f.ctx.beginPath();
  bands.forEach((b, i) => (i === 0 ? f.ctx.moveTo(x(b.step), y(b.p85)) : f.ctx.lineTo(x(b.step), y(b.p85))));
  [...bands].reverse().forEach((b) => f.ctx.lineTo(x(b.step), y(b.p15)));
  f.ctx.closePath();
  f.ctx.fill();
  f.ctx.globalAlpha = 1;
  f.ctx.strokeStyle = colour;
  f.ctx.beginPath();
  bands.forEach((b, i) => (i === 0 ? f.ctx.moveTo(x(b.step), y(b.p50)) : f.ctx.lineTo(x(b.step), y(b.p50))));
  f.ctx.stroke();
}
