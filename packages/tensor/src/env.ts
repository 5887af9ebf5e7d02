/**
 * gradlab's environment variables (GRADLAB_THREADS, GRADLAB_GEMM, GRADLAB_BACKEND). Each is checked
 * where it is read: a value gradlab cannot honour is refused with an error naming the variable and
 * the values it takes, rather than ignored (a typo would otherwise run silently with the defaults).
 */

/** The variable's value; unset and empty both mean "not given". Undefined where there is no process (browsers). */
export function envVar(name: string): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const value = env?.[name];
  return value === undefined || value === '' ? undefined : value;
}

/** The variable's value if it is one of `allowed`; an error naming it otherwise. */
export function envChoice<T extends string>(name: string, allowed: readonly T[]): T | undefined {
  const value = envVar(name);
  if (value !== undefined && !(allowed as readonly string[]).includes(value)) {
    throw new Error(`${name}=${JSON.stringify(value)} is not a value gradlab knows; use one of: ${allowed.join(', ')} (or leave it unset)`);
  }
  return value as T | undefined;
}
