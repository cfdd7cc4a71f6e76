import { ApiSettings, callApi } from '../api/api-client';
import { intFlag, parseCommandArgs, usageError } from './cli-args';
import { parseSince, shortTime, table } from './format';

export const AUDIT_USAGE = `usage:
  certfleet audit [--subject TYPE[:ID]] [--action ACTION|PREFIX*] [--actor ACTOR] [--since ISO|30d|12h]
                  [--limit N | --all] [--json]
  certfleet audit verify [--json]       (exit 0 when the hash chain is intact, 1 when it is not)

Events are listed oldest first. --limit defaults to 100; above 10000, or with --all, the CLI pages
through the trail. Examples: --subject issuing-ca, --subject managed-certificate:ID, --action 'job.*',
--actor 'token:initial admin'.`;

/** The server's page ceiling (GET /api/v1/audit/events?limit=). */
export const SERVER_PAGE_LIMIT = 10_000;

export interface AuditEventRow {
  seq: string;
  at: string;
  actor: string;
  action: string;
  subjectType: string;
  subjectId: string;
  detail: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export interface AuditQuery {
  subjectType?: string;
  subjectId?: string;
  action?: string;
  actor?: string;
  since?: string;
}

/** --subject TYPE or TYPE:ID. */
export function parseSubject(value: string): { subjectType: string; subjectId?: string } {
  const colon = value.indexOf(':');
  const subjectType = (colon < 0 ? value : value.slice(0, colon)).trim();
  const subjectId = colon < 0 ? undefined : value.slice(colon + 1).trim();
  if (!subjectType || subjectId === '') throw new Error(`--subject must be TYPE or TYPE:ID (e.g. managed-certificate:5f0c...), got "${value}"`);
  return { subjectType, ...(subjectId ? { subjectId } : {}) };
}

/**
 * Fetches up to `limit` events (all of them when `limit` is undefined), in pages of at most
 * `pageSize`, each page continuing after the last sequence number of the one before.
 */
export async function fetchAuditEvents(
  fetchPage: (params: URLSearchParams) => Promise<AuditEventRow[]>,
  query: AuditQuery,
  limit: number | undefined,
  pageSize = SERVER_PAGE_LIMIT,
): Promise<AuditEventRow[]> {
  const events: AuditEventRow[] = [];
  let afterSeq: string | undefined;
  for (;;) {
    const want = limit === undefined ? pageSize : Math.min(pageSize, limit - events.length);
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, v);
    if (afterSeq !== undefined) params.set('afterSeq', afterSeq);
    params.set('limit', String(want));
    const page = await fetchPage(params);
    events.push(...page);
    if (page.length < want || (limit !== undefined && events.length >= limit)) return events;
    afterSeq = page[page.length - 1].seq;
  }
}

function brief(value: unknown): string {
  if (value === undefined) return '-';
  if (value === null) return 'null';
  const text = (typeof value === 'string' ? value : JSON.stringify(value)).replace(/\s*\n\s*/g, ', ');
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * A one-line summary of an event's detail: "status: pending→active" for changes, "name=x, ..." for
 * what was created, "was name=x" for what was removed; at most `width` characters.
 */
export function summarizeDetail(detail: Record<string, unknown>, width = 100): string {
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  const before = isObject(detail.before) ? detail.before : undefined;
  const after = isObject(detail.after) ? detail.after : undefined;
  let text: string;
  if (before && after) {
    // Changed values first, then what only one side has.
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => !same(before[k], after[k]));
    const both = keys.filter((k) => k in before && k in after);
    const added = keys.filter((k) => !(k in before));
    const dropped = keys.filter((k) => !(k in after));
    text =
      [...both.map((k) => `${k}: ${brief(before[k])}→${brief(after[k])}`), ...added.map((k) => `${k}=${brief(after[k])}`), ...dropped.map((k) => `-${k}`)].join(', ') ||
      'no change';
  } else if (after) {
    text = Object.entries(after).map(([k, v]) => `${k}=${brief(v)}`).join(', ');
  } else if (before) {
    text = `was ${Object.entries(before).map(([k, v]) => `${k}=${brief(v)}`).join(', ')}`;
  } else {
    text = Object.entries(detail).map(([k, v]) => `${k}=${brief(v)}`).join(', ');
  }
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

/** certfleet audit [filters] | certfleet audit verify */
export async function auditCommand(args: string[], api: () => ApiSettings): Promise<number> {
  if (args[0] === 'verify') return verify(args.slice(1), api);
  if (['help', '--help', '-h'].includes(args[0])) {
    console.log(AUDIT_USAGE);
    return 0;
  }
  const { values } = parseCommandArgs(
    {
      args,
      options: {
        subject: { type: 'string' },
        action: { type: 'string' },
        actor: { type: 'string' },
        since: { type: 'string' },
        limit: { type: 'string' },
        all: { type: 'boolean' },
        json: { type: 'boolean' },
      },
    },
    AUDIT_USAGE,
  );
  const query: AuditQuery = {};
  try {
    if (values.subject) Object.assign(query, parseSubject(values.subject));
  } catch (err) {
    throw usageError((err as Error).message, AUDIT_USAGE);
  }
  try {
    if (values.since) query.since = parseSince(values.since);
  } catch (err) {
    throw usageError(`--since: ${(err as Error).message}`, AUDIT_USAGE);
  }
  if (values.action) query.action = values.action;
  if (values.actor) query.actor = values.actor;
  const limit = intFlag(values.limit, '--limit', AUDIT_USAGE);
  if (limit === 0) throw usageError('--limit must be at least 1', AUDIT_USAGE);
  if (limit !== undefined && values.all) throw usageError('give --limit or --all, not both', AUDIT_USAGE);
  const settings = api();
  const events = await fetchAuditEvents(
    (params) => callApi<AuditEventRow[]>(settings, 'GET', `/api/v1/audit/events?${params}`),
    query,
    values.all ? undefined : (limit ?? 100),
  );
  if (values.json) {
    console.log(JSON.stringify(events, null, 2));
    return 0;
  }
  console.log(
    table(
      ['SEQ', 'TIME', 'ACTOR', 'ACTION', 'SUBJECT', 'CHANGE'],
      events.map((e) => [e.seq, shortTime(e.at), e.actor, e.action, `${e.subjectType}:${e.subjectId}`, summarizeDetail(e.detail ?? {})]),
    ),
  );
  console.log(`\n${events.length} event(s)`);
  return 0;
}

interface Verification {
  ok: boolean;
  checked: number;
  lastSeq: string;
  brokenAt?: string;
  reason?: string;
}

async function verify(args: string[], api: () => ApiSettings): Promise<number> {
  const { values } = parseCommandArgs({ args, options: { json: { type: 'boolean' } } }, AUDIT_USAGE);
  const result = await callApi<Verification>(api(), 'GET', '/api/v1/audit/verify');
  if (values.json) console.log(JSON.stringify(result, null, 2));
  else if (result.ok) console.log(`audit trail intact: ${result.checked} event(s) checked, last seq ${result.lastSeq}`);
  if (!result.ok) {
    console.error(`audit trail BROKEN at event ${result.brokenAt ?? '?'}: ${result.reason ?? 'no reason given'} (${result.checked} event(s) before it are intact)`);
    return 1;
  }
  return 0;
}
