/**
 * Looking a user's name up in a table of known names. `table[name]` would also find what every object
 * inherits: 'constructor' or 'toString' would "succeed" and fail later with a puzzling TypeError.
 * Only the table's own keys count.
 */
export function lookup<T>(table: Readonly<Record<string, T>>, name: unknown): T | undefined {
  return typeof name === 'string' && Object.hasOwn(table, name) ? table[name] : undefined;
}

/**
 * A name as Keras writes it ('sparse_categorical_crossentropy') or as TF.js does
 * ('sparseCategoricalCrossentropy'): the table holds Keras's; a camelCase name is tried in snake_case.
 */
export function lookupKerasName<T>(table: Readonly<Record<string, T>>, name: unknown): T | undefined {
  if (typeof name !== 'string') return undefined;
  return lookup(table, name) ?? lookup(table, name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase());
}
