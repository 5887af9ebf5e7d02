/** pnpm bn-lab:report — write docs/bn-lab.md and redraw the SVGs from the runs in docs/bn-lab/seed-N/ and docs/bn-lab/long/. */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeReport } from './report.js';

const docs = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docs');
try {
  writeReport(docs);
  console.log(`wrote ${path.relative(process.cwd(), path.join(docs, 'bn-lab.md'))}`);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
}
