import { tensor } from '@gradlab/tensor';
import { F, toDot, variable } from '@gradlab/autograd';

describe('toDot', () => {
  const x = variable([[1, 2, 3]], { requiresGrad: true, name: 'x' });
  const w = variable([[1], [2], [3]], { requiresGrad: true, name: 'w' });
  const y = F.matmul(x, w).add(tensor([0.5])).relu().sum();
  const dot = toDot(y);

  it('is a digraph with every op, its output shape, and the leaves by name', () => {
    expect(dot.startsWith('digraph "autograd" {')).toBe(true);
    expect(dot.trimEnd().endsWith('}')).toBe(true);
    expect(dot).toContain('label="matmul\\n[1,1] float32"');
    expect(dot).toContain('label="add\\n[1,1] float32"');
    expect(dot).toContain('label="relu\\n[1,1] float32"');
    expect(dot).toContain('label="sum\\n[] float32", shape=box, style=bold');
    expect(dot).toContain('label="x\\n[1,3] float32", shape=ellipse');
    expect(dot).toContain('label="w\\n[3,1] float32", shape=ellipse');
    expect(dot).toContain('label="const\\n[1] float32"');
  });
  it('has one edge per use of an input (7 nodes, 6 edges here)', () => {
    expect(dot.match(/ -> /g)!.length).toBe(6);
    expect(dot.match(/\[label=/g)!.length).toBe(7);
    expect(toDot(y, { showConstants: false }).match(/ -> /g)!.length).toBe(5);
  });
  it('escapes quotes in names', () => {
    const q = variable([1], { requiresGrad: true, name: 'say "hi"' });
    expect(toDot(q.exp())).toContain('label="say \\"hi\\"\\n[1] float32"');
  });
});
