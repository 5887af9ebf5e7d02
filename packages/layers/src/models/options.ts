/**
 * Option objects are checked for names the function does not know: JavaScript would otherwise ignore a
 * misspelt option without a word (`fit(x, y, { epoch: 5 })` training one epoch). A Keras user's
 * snake_case name gets gradlab's spelling suggested (`batch_size` → `batchSize`).
 */

const camel = (name: string): string => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** What is wrong with `options` given to `op` (not an object, or names outside `known`), or null when nothing is. */
export function optionProblem(op: string, options: unknown, known: readonly string[]): string | null {
  if (options === undefined) return null;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    return `${op}: options must be an object ({ ${known.slice(0, 2).join(', ')}, … }), got ${Array.isArray(options) ? 'an array' : String(options)}`;
  }
  const unknown = Object.keys(options).filter((k) => !known.includes(k));
  if (unknown.length === 0) return null;
  const named = unknown.map((k) => (known.includes(camel(k)) ? `'${k}' (gradlab spells it '${camel(k)}')` : `'${k}'`));
  return `${op}: unknown option${unknown.length > 1 ? 's' : ''} ${named.join(', ')}; ${op} knows ${known.join(', ')}`;
}
