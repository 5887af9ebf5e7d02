/**
 * autograd's toDot output drawn as SVG without Graphviz: a small parser for the DOT that toDot writes
 * (one node or edge per line) and a layered layout — each op one row below its deepest input, each leaf
 * (parameter, data) one row above its first user, rows ordered by the mean position of their inputs.
 * Edges are straight lines; a real Sugiyama layout would also minimise crossings, which a graph of
 * ~40 nodes does not need to be readable.
 */
export interface DotNode { id: string; lines: string[]; op: boolean; fill: string; bold: boolean }
export interface DotGraph { name: string; nodes: DotNode[]; edges: [string, string][] }

/** The body of a DOT string literal: \" and \\ unescaped, \n as a line break. */
function unquote(text: string): string {
  return text.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

const NODE = /^\s*(v\d+) \[label="((?:[^"\\]|\\.)*)", shape=(box|ellipse)(.*)\];$/;
const EDGE = /^\s*(v\d+) -> (v\d+);$/;
const NAME = /^digraph "((?:[^"\\]|\\.)*)" \{$/;

/** Parse toDot's text; a line it cannot read is an error naming the line (the format is toDot's own). */
export function parseDot(dot: string): DotGraph {
  const graph: DotGraph = { name: '', nodes: [], edges: [] };
  for (const line of dot.split('\n')) {
    let m: RegExpMatchArray | null;
    if ((m = line.match(NAME))) graph.name = unquote(m[1]);
    else if ((m = line.match(NODE))) {
      const fill = /fillcolor=(\w+)/.exec(m[4])?.[1] ?? 'white';
      graph.nodes.push({ id: m[1], lines: unquote(m[2]).split('\n'), op: m[3] === 'box', fill, bold: m[4].includes('bold') });
    } else if ((m = line.match(EDGE))) graph.edges.push([m[1], m[2]]);
    else if (line.trim() !== '' && line.trim() !== '}' && !line.trim().startsWith('node [')) {
      throw new Error(`parseDot: cannot read the line ${JSON.stringify(line)} (expected toDot's output)`);
    }
  }
  return graph;
}

export interface Placed { node: DotNode; row: number; x: number; y: number; width: number }

const CHAR = 6.6, LINE = 13, PAD = 8, GAP = 14, ROW = 58;

/** Rows and positions for every node (see the file comment). */
export function layout(graph: DotGraph): { placed: Map<string, Placed>; width: number; height: number } {
  const inputs = new Map<string, string[]>(graph.nodes.map((n) => [n.id, []]));
  const users = new Map<string, string[]>(graph.nodes.map((n) => [n.id, []]));
  for (const [from, to] of graph.edges) { inputs.get(to)!.push(from); users.get(from)!.push(to); }
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const row = new Map<string, number>();
  // Ops first, by the longest chain of ops above them (memoised; toDot's graphs have no cycles).
  const opRow = (id: string): number => {
    if (!row.has(id)) row.set(id, 1 + Math.max(0, ...inputs.get(id)!.filter((i) => byId.get(i)!.op).map(opRow)));
    return row.get(id)!;
  };
  graph.nodes.filter((n) => n.op).forEach((n) => opRow(n.id));
  for (const n of graph.nodes.filter((n) => !n.op)) row.set(n.id, Math.min(...users.get(n.id)!.map((u) => row.get(u)!)) - 1);

  const rows: DotNode[][] = [];
  for (const n of graph.nodes) (rows[row.get(n.id)!] ??= []).push(n);
  const placed = new Map<string, Placed>();
  let width = 0;
  rows.forEach((members, r) => {
    if (!members) return;
    // Order a row by where its inputs sit (a leaf, with none placed yet, by its first user's order in toDot).
    const centre = (n: DotNode): number => {
      const xs = inputs.get(n.id)!.map((i) => placed.get(i)?.x).filter((x): x is number => x !== undefined);
      return xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.POSITIVE_INFINITY;
    };
    members.sort((a, b) => centre(a) - centre(b));
    let x = PAD;
    for (const node of members) {
      const w = Math.max(...node.lines.map((l) => l.length)) * CHAR + 2 * PAD;
      placed.set(node.id, { node, row: r, x: x + w / 2, y: PAD + r * ROW + LINE, width: w });
      x += w + GAP;
    }
    width = Math.max(width, x);
  });
  return { placed, width, height: PAD + rows.length * ROW };
}

const xml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The graph as an SVG document: ops as boxes, leaves as rounded pills, edges top to bottom. */
export function dotToSvg(dot: string): string {
  const graph = parseDot(dot);
  const { placed, width, height } = layout(graph);
  const half = (p: Placed): number => (p.node.lines.length * LINE) / 2 + 4;
  const parts: string[] = [];
  for (const [from, to] of graph.edges) {
    const a = placed.get(from)!, b = placed.get(to)!;
    parts.push(`<line x1="${a.x}" y1="${a.y + half(a)}" x2="${b.x}" y2="${b.y - half(b)}" stroke="#889" marker-end="url(#arrow)"/>`);
  }
  for (const p of placed.values()) {
    const h = 2 * half(p);
    const fill = p.node.op ? '#fff' : ({ lightblue: '#cfe6f7', lightgrey: '#e4e4e4' } as Record<string, string>)[p.node.fill] ?? '#fff';
    parts.push(`<rect x="${p.x - p.width / 2}" y="${p.y - h / 2}" width="${p.width}" height="${h}" rx="${p.node.op ? 2 : h / 2}" fill="${fill}" stroke="#334" stroke-width="${p.node.bold ? 2.5 : 1}"/>`);
    p.node.lines.forEach((text, i) => {
      const y = p.y - h / 2 + 4 + LINE * (i + 0.8);
      parts.push(`<text x="${p.x}" y="${y}" text-anchor="middle" font-weight="${i === 0 ? 'bold' : 'normal'}">${xml(text)}</text>`);
    });
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="monospace" font-size="11">` +
    `<title>${xml(graph.name)}</title><defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#889"/></marker></defs>` +
    `${parts.join('')}</svg>`;
}
