/**
 * What fit() prints, in Keras's formats.
 *   verbose 1 on a terminal: a progress bar redrawn in place, with running loss and metrics and an ETA,
 *     "  54/1688 [>.............................] - ETA: 12s - loss: 0.4123 - accuracy: 0.8750";
 *   verbose 2, or 1 when the output is not a terminal (a log file, CI): one line per epoch,
 *     "1688/1688 - 12s - loss: 0.2345 - accuracy: 0.9300 - val_loss: … - 12s/epoch - 7ms/step";
 *   verbose 0: nothing.
 * Each epoch starts with "Epoch 3/10" when there is more than one, as Keras.
 */
import type { Logs } from '../callbacks.js';

export interface ProgressOutput { write(text: string): void; isTTY?: boolean }

/**
 * process.stdout in Node; elsewhere (a page, a Web Worker) the console, one line per call: the console
 * cannot redraw a line, so it is not a terminal and the logger writes one line per epoch.
 */
export function defaultOutput(): ProgressOutput {
  const stdout = (globalThis as { process?: { stdout?: ProgressOutput } }).process?.stdout;
  if (stdout && typeof stdout.write === 'function') return stdout;
  return { write: (text) => { const line = text.replace(/\n$/, ''); if (line !== '') console.log(line); }, isTTY: false };
}

const BAR_WIDTH = 30;
/** Redraw the bar at most this often (seconds), as Keras's Progbar interval. */
const INTERVAL = 0.05;

/** Python's "%.4f" for ordinary values and "%.4e" for tiny ones (Keras's Progbar). */
export function formatValue(v: number): string {
  if (Math.abs(v) > 1e-3 || !Number.isFinite(v)) return Number.isFinite(v) ? v.toFixed(4) : String(v).toLowerCase();
  const [mantissa, exponent] = v.toExponential(4).split('e');
  const sign = exponent.startsWith('-') ? '-' : '+';
  return `${mantissa}e${sign}${exponent.replace(/^[-+]/, '').padStart(2, '0')}`;
}

/** Keras's time per step: "3s/step", "7ms/step" or "850us/step". */
function formatPerStep(seconds: number): string {
  if (seconds >= 1 || seconds === 0) return `${seconds.toFixed(0)}s/step`;
  if (seconds >= 1e-3) return `${(seconds * 1e3).toFixed(0)}ms/step`;
  return `${(seconds * 1e6).toFixed(0)}us/step`;
}

function formatEta(seconds: number): string {
  const s = Math.floor(seconds);
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (seconds > 3600) return `${Math.floor(s / 3600)}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
  if (seconds > 60) return `${Math.floor(s / 60)}:${pad(s % 60)}`;
  return `${s}s`;
}

const formatLogs = (logs: Logs): string => Object.entries(logs).map(([k, v]) => ` - ${k}: ${formatValue(v)}`).join('');

export class ProgressLogger {
  private readonly mode: 0 | 1 | 2;
  private start = 0;
  private lastDraw = 0;
  private drawnWidth = 0;

  constructor(
    verbose: number | 'auto',
    private readonly epochs: number,
    private steps: number | null,
    private readonly out: ProgressOutput = defaultOutput(),
  ) {
    const tty = Boolean(out.isTTY);
    this.mode = verbose === 0 ? 0 : verbose === 2 || !tty ? 2 : 1;
  }

  /** A dataset of unknown size: the steps learnt from the first epoch (Keras prints "12/Unknown" until then). */
  setSteps(steps: number): void { this.steps = steps; }

  epochBegin(epoch: number): void {
    if (this.mode === 0) return;
    if (this.epochs > 1) this.out.write(`Epoch ${epoch + 1}/${this.epochs}\n`);
    this.start = performance.now() / 1000;
    this.lastDraw = 0;
    this.drawnWidth = 0;
  }

  /** After batch `step` (1-based count of batches done), with the epoch's running logs. */
  batchEnd(step: number, logs: Logs): void {
    if (this.mode !== 1 || (this.steps !== null && step >= this.steps)) return;
    const now = performance.now() / 1000;
    if (now - this.lastDraw < INTERVAL) return;
    this.lastDraw = now;
    if (this.steps === null) { this.draw(`${step}/Unknown - ${(now - this.start).toFixed(0)}s${formatLogs(logs)}`); return; }
    const perStep = (now - this.start) / step;
    this.draw(`${this.bar(step)} - ETA: ${formatEta(perStep * (this.steps - step))}${formatLogs(logs)}`);
  }

  /** The epoch's closing line, with validation results if any. */
  epochEnd(logs: Logs): void {
    if (this.mode === 0) return;
    const elapsed = performance.now() / 1000 - this.start;
    const steps = this.steps ?? 0;
    const perStep = elapsed / Math.max(1, steps);
    if (this.mode === 1) {
      this.draw(`${this.bar(steps)} - ${elapsed.toFixed(0)}s ${formatPerStep(perStep)}${formatLogs(logs)}`);
      this.out.write('\n');
    } else {
      this.out.write(`${steps}/${steps} - ${elapsed.toFixed(0)}s${formatLogs(logs)} - ${elapsed.toFixed(0)}s/epoch - ${formatPerStep(perStep)}\n`);
    }
  }

  /** " 54/1688 [>....]": Keras pads the count to the width of the total. */
  private bar(step: number): string {
    const steps = this.steps ?? step;
    const digits = String(steps).length;
    const width = Math.floor((BAR_WIDTH * step) / Math.max(1, steps));
    let bar = `${String(step).padStart(digits)}/${steps} [`;
    if (width > 0) bar += '='.repeat(width - 1) + (step < steps ? '>' : '=');
    return `${bar}${'.'.repeat(BAR_WIDTH - width)}]`;
  }

  /** Overwrite the current terminal line (padding with spaces if the new text is shorter). */
  private draw(text: string): void {
    const pad = Math.max(0, this.drawnWidth - text.length);
    this.out.write(`\r${text}${' '.repeat(pad)}`);
    this.drawnWidth = text.length;
  }
}
