/** A JSON object as stored in jsonb columns. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- free-form JSON by nature
export type JsonObject = Record<string, any>;

/** Plain JSON copy of a value: Dates become ISO strings, bigints numbers or strings when too large. */
export function toJsonObject(value: object): JsonObject {
  return JSON.parse(
    JSON.stringify(value, (_k, v) =>
      typeof v === 'bigint' ? (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : v,
    ),
  );
}
