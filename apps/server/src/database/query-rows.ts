/**
 * The rows of a raw `query()` result. For UPDATE/DELETE ... RETURNING the pg driver answers
 * [rows, count] and PGlite answers rows; SELECT gives rows from both.
 */
export function queryRows<T = unknown>(result: unknown): T[] {
  const r = result as unknown[];
  return (Array.isArray(r[0]) ? r[0] : r) as T[];
}
