/** A JSON object as stored in jsonb columns. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- free-form JSON by nature
export type JsonObject = Record<string, any>;

/** JSON text of a value: Dates become ISO strings, bigints numbers (strings when too large). */
export function toJsonText(value: object): string {
  return JSON.stringify(value, (_k, v) =>
    typeof v === 'bigint' ? (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : v,
  );
}

/** Plain JSON copy of a value (see toJsonText). */
export function toJsonObject(value: object): JsonObject {
  return JSON.parse(toJsonText(value));
}
