/**
 * The page: reads the controls, runs the Lab (lab.ts) a few steps per animation frame so the page stays
 * responsive, and redraws the charts and the graph. `window.gradlabLab` exposes the running Lab, and
 * <body data-step> the steps taken, for the playwright test (examples/web/test/web-lab.test.ts).
 */
import { getBackend, setBackend } from 'gradlab';
import { modeSupport, registerGpuBackend } from '@gradlab/gpu';
import { decodeSubset } from './data.js';
import type { EncodedSubset } from './data.js';
import { Lab } from './lab.js';
import type { LabSettings, Mode, Net } from './lab.js';
import { COLOURS, drawBands, drawHistogram, drawLosses } from './charts.js';
import { dotToSvg } from './graph.js';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const form = $<HTMLFormElement>('controls');
const field = (name: string): HTMLInputElement | HTMLSelectElement => form.elements.namedItem(name) as HTMLInputElement;
const data = decodeSubset((globalThis as { GRADLAB_MNIST?: EncodedSubset }).GRADLAB_MNIST);
/** Steps between redraws: a redraw (probe forwards, test accuracy) costs about as much as ten steps. */
const STEPS_PER_FRAME = 10;

let lab: Lab;
let running = false;
let pending = 0; // steps still to take for "Train 50 steps"
let frameRequested = false; // one animation loop at most, however fast the buttons are clicked

/** The gpu backend where this browser has WebGL2; otherwise the option is disabled, with the reason. */
function offerGpu(): void {
  const option = field('backend').querySelector('option[value="gpu"]') as HTMLOptionElement;
  let reason: string;
  try {
    const support = modeSupport('webgl2');
    if (support.ok) { registerGpuBackend({ mode: 'webgl2', log: false }, 'gpu'); return; }
    reason = support.reason;
  } catch (e) {
    reason = (e as Error).message;
  }
  option.disabled = true;
  option.textContent = `gpu: not here (${reason})`;
}

function readSettings(): LabSettings {
  const num = (name: string): number => Number(field(name).value);
  return {
    norm: field('norm').value as LabSettings['norm'], lr: num('lr'), std: num('std'), batchSize: num('batchSize'),
    sgdMomentum: num('sgdMomentum'), bnMomentum: num('bnMomentum'), seed: num('seed'),
  };
}

function reset(): void {
  running = false; pending = 0;
  $('run').textContent = 'Train';
  try {
    setBackend(field('backend').value);
    lab = new Lab(data, readSettings());
  } catch (e) {
    $('status').className = 'error';
    $('status').textContent = String((e as Error).message);
    return;
  }
  (window as unknown as { gradlabLab: Lab }).gradlabLab = lab;
  $('status').className = '';
  const dot = lab.graphDot();
  $('dot').textContent = dot;
  $('graph').innerHTML = dotToSvg(dot);
  $('normed-title').textContent = lab.normed.label;
  redraw();
}

/** One column of charts per network: a histogram per hidden layer, then the percentile bands. */
function canvasesFor(net: 'plain' | 'normed'): HTMLCanvasElement[] {
  const box = $(net);
  if (box.childElementCount === 0) {
    for (let i = 0; i < 4; i++) box.appendChild(Object.assign(document.createElement('canvas'), { width: 520, height: i < 3 ? 110 : 150 }));
  }
  return [...box.querySelectorAll('canvas')];
}

function symmetricRange(values: Float32Array[]): number {
  let biggest = 1;
  for (const v of values) for (let i = 0; i < v.length; i += 7) biggest = Math.max(biggest, Math.abs(v[i])); // a sample is enough for a range
  return Math.min(50, Math.ceil(biggest));
}

function redraw(): void {
  const mode = field('mode').value as Mode;
  const which = field('side').value as 'input' | 'output';
  const inputs = lab.nets.map((net) => lab.sigmoidValues(net, mode, which));
  // sigmoid outputs live in (0, 1); inputs get one symmetric range shared by both sides, to compare them
  const [lo, hi] = which === 'output' ? [0, 1] : ((r) => [-r, r])(symmetricRange(inputs.flat().map((i) => i.values)));
  const allBands = lab.nets.flatMap((n) => n.bands);
  const bandLo = Math.min(...allBands.map((b) => b.p15)), bandHi = Math.max(...allBands.map((b) => b.p85));
  const pad = (bandHi - bandLo) * 0.1 || 1;
  (['plain', 'normed'] as const).forEach((side, n) => {
    const net: Net = lab.nets[n];
    const canvases = canvasesFor(side);
    const colour = side === 'plain' ? COLOURS.plain : COLOURS.normed;
    inputs[n].forEach((layer, l) => drawHistogram(canvases[l], `hidden layer ${l + 1}: sigmoid ${which}s (${mode} mode)`, layer.values, lo, hi, colour));
    drawBands(canvases[3], 'last layer, unit 1: 15/50/85th percentiles over steps (train mode)', net.bands, bandLo - pad, bandHi + pad, lab.step, colour);
  });
  drawLosses($<HTMLCanvasElement>('loss'), [{ values: lab.plain.losses, colour: COLOURS.plain }, { values: lab.normed.losses, colour: COLOURS.normed }]);
  const last = (n: Net): string => (n.losses.length ? n.losses[n.losses.length - 1].toFixed(4) : '—');
  const acc = (n: Net): string => `${(100 * lab.accuracy(n, mode)).toFixed(1)}%`;
  $('status').textContent = `step ${lab.step} on ${getBackend().name}   ${data.train.count} training / ${data.test.count} test images\n` +
    lab.nets.map((n) => `${n.label.padEnd(20)} loss ${last(n)}   test accuracy (${mode} mode) ${acc(n)}`).join('\n');
  document.body.dataset.step = String(lab.step);
}

function tick(): void {
  frameRequested = false;
  if (!running && pending === 0) return;
  const steps = pending > 0 ? Math.min(pending, STEPS_PER_FRAME) : STEPS_PER_FRAME;
  try {
    lab.train(steps);
  } catch (e) {
    running = false; pending = 0;
    $('status').className = 'error';
    $('status').textContent = `training stopped: ${(e as Error).message}`;
    return;
  }
  if (pending > 0) pending -= steps;
  redraw();
  schedule();
}

function schedule(): void {
  if (!frameRequested) { frameRequested = true; requestAnimationFrame(tick); }
}

function start(what: 'run' | 'fifty'): void {
  if (what === 'run') running = !running; else pending += 50;
  $('run').textContent = running ? 'Pause' : 'Train';
  schedule();
}

offerGpu();
$('reset').addEventListener('click', reset);
$('run').addEventListener('click', () => start('run'));
$('steps50').addEventListener('click', () => start('fifty'));
field('mode').addEventListener('change', () => redraw());
field('side').addEventListener('change', () => redraw());
reset();
