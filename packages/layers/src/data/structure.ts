/**
 * Several inputs or outputs in one field of an example or a batch, as Keras and tf.data take them: one
 * value, a list (in the order of the model's inputs or outputs) or an object keyed by name (the Input
 * layers' names for x, the output layers' names for y and sampleWeight).
 *
 *   { x: ids, y: label }                                  one input, one output
 *   { x: [ids, features], y: [value, label] }             lists, in the model's order
 *   { x: { ids, features }, y: { reg: value, cls: label } }  keyed by name
 *
 * Slicing (fromTensorSlices) and stacking (batch) work leaf by leaf: a field is taken apart into its
 * leaves with its layout, each leaf is sliced or stacked on its own, and the field is put back together.
 */

/** One value, a list of them, or an object of them keyed by name. */
export type Nest<T> = T | T[] | { [name: string]: T };

/** How a field is laid out: one leaf, a list of `length` leaves, or an object whose keys are `keys` (in that order). */
export type Layout = { kind: 'one' } | { kind: 'list'; length: number } | { kind: 'named'; keys: string[] };

/**
 * Whether v is an object keyed by name: a plain object ({ … }), not a Tensor, a typed array or any other
 * class instance (those are leaves).
 */
export function isNamed(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function layoutOf(v: unknown): Layout {
  if (Array.isArray(v)) return { kind: 'list', length: v.length };
  if (isNamed(v)) return { kind: 'named', keys: Object.keys(v) };
  return { kind: 'one' };
}

/** The leaves of a field, in the order of `layout` (by default its own): an object's by the layout's keys. */
export function leavesOf<T>(v: Nest<T>, layout: Layout = layoutOf(v)): T[] {
  if (layout.kind === 'list') return v as T[];
  if (layout.kind === 'named') return layout.keys.map((k) => (v as Record<string, T>)[k]);
  return [v as T];
}

/** A field put back together from its leaves. */
export function rebuild<T>(layout: Layout, leaves: T[]): Nest<T> {
  if (layout.kind === 'one') return leaves[0];
  if (layout.kind === 'list') return leaves;
  return Object.fromEntries(layout.keys.map((k, i) => [k, leaves[i]]));
}

/** Whether two layouts are the same: the same kind, a list's length, an object's keys (in any order). */
export function sameLayout(a: Layout, b: Layout): boolean {
  if (a.kind === 'list' && b.kind === 'list') return a.length === b.length;
  if (a.kind === 'named' && b.kind === 'named') return a.keys.length === b.keys.length && a.keys.every((k) => b.keys.includes(k));
  return a.kind === b.kind;
}

/** A layout in words, for the messages: "one value", "a list of 2", "an object with keys a, b". */
export function describeLayout(layout: Layout): string {
  if (layout.kind === 'one') return 'one value';
  if (layout.kind === 'list') return `a list of ${layout.length}`;
  return `an object with keys ${layout.keys.join(', ')}`;
}

/** The name of leaf k of field `field` in the messages: "x", "x[1]", "y.cls". */
export function leafName(field: string, layout: Layout, k: number): string {
  if (layout.kind === 'one') return field;
  if (layout.kind === 'list') return `${field}[${k}]`;
  return `${field}.${layout.keys[k]}`;
}
