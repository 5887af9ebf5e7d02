/**
 * Looking a user's name up in a table of known names. `table[name]` would also find what every object
 * inherits: 'constructor' or 'toString' would "succeed" and fail later with a puzzling TypeError.
 * Only the table's own keys count.
 */
export function lookup<T>(table: Readonly<Record<string, T>>, name: unknown): T | undefined {
  return typeof name === 'string' && Object.hasOwn(table, name) ? table[name] : undefined;
}
