// A markdown table from bench-models.mjs's JSON:  node bench/models/table.mjs results.json
// (or pipe the JSON in). One row per model and phase: each backend's median wall and CPU ms, the ratios
// gradlab / tfjs by wall and by CPU time, and peak rss.
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync(process.argv[2] ?? 0, 'utf8'));
const backends = report.config.backends;
const cell = (m) => (m?.wall_ms !== undefined ? `${Math.round(m.wall_ms)} (${Math.round(m.cpu_ms)})` : m?.skipped ? 'skipped' : m?.error ? 'error' : '—');
const rss = (m) => (m?.memory?.rss_peak_mb ? `${Math.round(m.memory.rss_peak_mb)}` : '—');
const ratio = (r, key) => (r?.[key] !== undefined && r?.[key] !== null ? r[key].toFixed(2) : '—');
const head = ['model', 'phase', ...backends.map((b) => `${b} ms wall (cpu)`), 'gradlab/wasm wall (cpu)', 'gradlab/cpu wall (cpu)', ...backends.map((b) => `${b} peak rss MB`)];
console.log(`| ${head.join(' | ')} |`);
console.log(`|${head.map(() => ' --- ').join('|')}|`);
for (const [model, entry] of Object.entries(report.models)) {
  for (const phase of report.config.phases) {
    const r = entry.ratios?.[phase], rc = entry.ratios_cpu?.[phase];
    const row = [model, phase, ...backends.map((b) => cell(entry[b]?.[phase])),
      `${ratio(r, 'gradlab/tfjs-wasm')} (${ratio(rc, 'gradlab/tfjs-wasm')})`, `${ratio(r, 'gradlab/tfjs-cpu')} (${ratio(rc, 'gradlab/tfjs-cpu')})`,
      ...backends.map((b) => rss(entry[b]?.[phase]))];
    console.log(`| ${row.join(' | ')} |`);
  }
}
const load = report.machine;
console.log(`\nLoad average (1, 5, 15 min) at start ${load.loadavg_at_start.join(', ')}, at end ${load.loadavg_at_end.join(', ')}; ${load.cores} cores; ${load.total_seconds} s in all.`);
for (const [model, entry] of Object.entries(report.models)) {
  const t = entry.targets ?? {}, tc = entry.targets_cpu ?? {};
  console.log(`${model} targets (wall / cpu): ${Object.keys({ ...t, ...tc }).map((k) => `${k} ${t[k] ?? '—'} / ${tc[k] ?? '—'}`).join('; ') || 'none measured'}`);
}
