import type { HostFacts } from '@certfleet/proto';
import { JsonObject, toJsonObject } from '../../../common/json';

/** Host facts as plain JSON for the database. */
export function hostFactsToJson(host: HostFacts | undefined): JsonObject {
  return host ? toJsonObject(host) : {};
}
