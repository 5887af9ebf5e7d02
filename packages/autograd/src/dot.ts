/**
 * toDot: the recorded graph as Graphviz DOT text, to look at what backward will walk.
 *   node [shape=box]     an op (its name and output shape); the output of the whole graph is bold
 *   node [shape=ellipse] a leaf: blue if it requires grad (a parameter or input), grey if a constant
 * Edges point from inputs to the op that used them, the direction of the forward pass.
 * Render with `dot -Tsvg graph.dot -o graph.svg`, or paste into any online Graphviz viewer.
 */
import { formatShape } from '@gradlab/tensor';
import type { Variable } from './variable.js';

export interface DotOptions {
  /** Graph name (default 'autograd'). */
  name?: string;
  /** Also show constants (inputs that do not require grad); default true. */
  showConstants?: boolean;
}

/** DOT string literal: backslashes and quotes escaped, line breaks written as DOT's \n. */
function quote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

export function toDot(output: Variable, options: DotOptions = {}): string {
  const { name = 'autograd', showConstants = true } = options;
  const ids = new Map<Variable, string>();
  const lines: string[] = [`digraph ${quote(name)} {`, '  node [fontname="Helvetica", fontsize=11];'];
  const edges: string[] = [];
  // Walk from the output with an explicit stack (graphs can be 10,000 ops deep).
  const stack: Variable[] = [output];
  ids.set(output, 'v0');
  while (stack.length > 0) {
    const v = stack.pop()!;
    const id = ids.get(v)!;
    const shape = `${formatShape(v.shape)} ${v.dtype}`;
    if (v.gradFn) {
      const outputNo = v.gradFn.outputCount === null ? '' : `[${v.outputIndex}]`;
      const label = `${v.gradFn.op}${outputNo}${v.name ? ` (${v.name})` : ''}\n${shape}`;
      lines.push(`  ${id} [label=${quote(label)}, shape=box${v === output ? ', style=bold' : ''}];`);
    } else {
      const label = `${v.name ?? (v.requiresGrad ? 'leaf' : 'const')}\n${shape}`;
      const fill = v.requiresGrad ? 'lightblue' : 'lightgrey';
      lines.push(`  ${id} [label=${quote(label)}, shape=ellipse, style=filled, fillcolor=${fill}];`);
    }
    for (const input of v.gradFn?.inputs ?? []) {
      if (!input.requiresGrad && !showConstants) continue;
      if (!ids.has(input)) {
        ids.set(input, `v${ids.size}`);
        stack.push(input);
      }
      edges.push(`  ${ids.get(input)} -> ${id};`);
    }
  }
  return [...lines, ...edges, '}'].join('\n') + '\n';
}
