// The cpu backend's files import one another one way only (pack → kernels → gemm.ts → threads.ts →
// matmul.ts): a cycle would make a learner read every file to understand any one of them.
import fs from 'node:fs';
import path from 'node:path';

const cpuDir = path.join(__dirname, '..', 'src', 'cpu');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const at = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(at);
    return at.endsWith('.ts') ? [at] : [];
  });
}

/** file → the files of src/cpu it imports or re-exports from (type-only imports included). */
function importGraph(files: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    const targets = [...text.matchAll(/(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/g)]
      .map((match) => path.resolve(path.dirname(file), match[1].replace(/\.js$/, '.ts')))
      .filter((target) => target.startsWith(cpuDir));
    graph.set(file, targets);
  }
  return graph;
}

/** Every import cycle found by a depth-first walk, each written as a → b → … → a. */
function cycles(graph: Map<string, string[]>): string[] {
  const found: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const name = (file: string): string => path.relative(cpuDir, file);
  const visit = (file: string, trail: string[]): void => {
    state.set(file, 'open');
    for (const target of graph.get(file) ?? []) {
      if (state.get(target) === 'open') found.push([...trail.slice(trail.indexOf(target)), target].map(name).join(' → '));
      else if (!state.has(target)) visit(target, [...trail, target]);
    }
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file, [file]);
  return found;
}

test('the cpu backend imports one way: no import cycle among packages/tensor/src/cpu', () => {
  const graph = importGraph(sourceFiles(cpuDir));
  // the walk sees the gemm layers (a broken pattern would find no imports and pass vacuously)
  expect(graph.get(path.join(cpuDir, 'threads.ts'))).toContain(path.join(cpuDir, 'gemm.ts'));
  expect(graph.get(path.join(cpuDir, 'gemm.ts'))).toContain(path.join(cpuDir, 'gemm-js.ts'));
  expect(cycles(graph)).toEqual([]);
});

test('the cycle finder finds a cycle', () => {
  const graph = new Map([['/a.ts', ['/b.ts']], ['/b.ts', ['/c.ts']], ['/c.ts', ['/a.ts']]]);
  expect(cycles(graph)).toHaveLength(1);
});
