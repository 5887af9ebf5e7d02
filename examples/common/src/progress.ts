/**
 * A progress bar for the examples' data preparation (synthesis, feature extraction); training's
 * progress is model.fit's own (packages/layers/src/models/progress.ts). On a terminal it redraws one
 * line in place; in a log file or CI it prints a
 * line at 0%, every 25% and at the end, so logs stay short.
 *
 *   const bar = new ProgressBar('features', total);
 *   for (...) bar.tick(1, 'loss 0.41');
 *   bar.done();
 */
export interface Output { write(text: string): unknown; isTTY?: boolean }

const WIDTH = 30;

/** "[=========>....................]" for a fraction in [0, 1]. */
export function barText(fraction: number, width = WIDTH): string {
  const f = Math.min(1, Math.max(0, fraction));
  const filled = Math.floor(f * width);
  if (filled >= width) return `[${'='.repeat(width)}]`;
  return `[${'='.repeat(filled)}>${'.'.repeat(width - filled - 1)}]`;
}

/** Seconds as "42s", "3:07" or "1:02:03". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (s >= 3600) return `${Math.floor(s / 3600)}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
  if (s >= 60) return `${Math.floor(s / 60)}:${pad(s % 60)}`;
  return `${s}s`;
}

export class ProgressBar {
  private done_ = 0;
  private readonly start = Date.now();
  private lastDraw = 0;
  private lastQuarter = -1;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly out: Output = process.stdout,
  ) {}

  get count(): number { return this.done_; }
  elapsed(): number { return (Date.now() - this.start) / 1000; }

  tick(n = 1, info = ''): void {
    this.done_ += n;
    const now = Date.now();
    if (this.out.isTTY) {
      if (now - this.lastDraw < 100 && this.done_ < this.total) return;
      this.lastDraw = now;
      this.out.write(`\r${this.line(info)}\x1b[K`);
    } else {
      const quarter = Math.floor((4 * this.done_) / Math.max(1, this.total));
      if (quarter === this.lastQuarter || this.done_ >= this.total) return;
      this.lastQuarter = quarter;
      this.out.write(`${this.line(info)}\n`);
    }
  }

  /** Final line, with the total time. */
  done(info = ''): void {
    const line = `${this.label} ${String(this.done_).padStart(String(this.total).length)}/${this.total} ${barText(1)} ${formatDuration(this.elapsed())}${info ? ` - ${info}` : ''}`;
    this.out.write(this.out.isTTY ? `\r${line}\x1b[K\n` : `${line}\n`);
  }

  private line(info: string): string {
    const elapsed = this.elapsed();
    const rate = this.done_ / Math.max(elapsed, 1e-9);
    const eta = this.done_ > 0 ? (this.total - this.done_) / rate : 0;
    const count = `${String(this.done_).padStart(String(this.total).length)}/${this.total}`;
    return `${this.label} ${count} ${barText(this.done_ / this.total)} ETA ${formatDuration(eta)}${info ? ` - ${info}` : ''}`;
  }
}
