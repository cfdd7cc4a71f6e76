import { ApiSettings, callApi } from '../api/api-client';
import { listFlag, onePositional, parseCommandArgs, usageError } from './cli-args';
import { parseDurationSeconds, shortTime, table } from './format';

export const ALERTS_USAGE = `usage:
  certfleet alerts list [--state open,acknowledged,silenced,resolved|all] [--kind KIND] [--limit N] [--json]
  certfleet alerts show ID [--json]                    (the alert and its deliveries)
  certfleet alerts ack ID
  certfleet alerts silence ID --until ISO-DATE|DURATION   (e.g. --until 7d or --until 2026-12-01)
  certfleet alerts evaluate                            (a pass now instead of at the next interval)
  certfleet alerts thresholds [--json]
  certfleet alerts thresholds set tag:TAG|managed:ID|NAME --days 30,14,7
  certfleet alerts thresholds remove tag:TAG|managed:ID|NAME
  KIND: expiry, agent-offline, renewal-failing, policy-violation, revoked-installed, chain-invalid`;

interface AlertRow {
  id: string;
  kind: string;
  state: string;
  stageLabel: string;
  severity: string;
  title: string;
  ownerTeam: string | null;
  silencedUntil: string | null;
  updatedAt: string;
}

/** --until: an ISO date, or a duration from now (7d, 12h). */
export function untilDate(value: string, now: Date = new Date()): string {
  if (/^\d+[smhdw]$/.test(value.trim())) return new Date(now.getTime() + parseDurationSeconds(value.trim()) * 1000).toISOString();
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw usageError(`--until must be an ISO date or a duration like 7d, got "${value}"`, ALERTS_USAGE);
  return d.toISOString();
}

/** --days 30,14,7 -> [30, 14, 7]. */
export function thresholdDays(values: string[]): number[] {
  const days = listFlag(values).map((d) => (/^\d+$/.test(d) ? Number(d) : NaN));
  if (days.length === 0 || days.some((d) => Number.isNaN(d))) throw usageError('--days must be whole days, e.g. --days 30,14,7', ALERTS_USAGE);
  return days;
}

/** certfleet alerts: list, inspect, acknowledge and silence alerts; thresholds per tag or profile. */
export async function alertsCommand(args: string[], api: () => ApiSettings): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseCommandArgs(
    { args: rest, allowPositionals: true, options: { state: { type: 'string' }, kind: { type: 'string' }, limit: { type: 'string' }, until: { type: 'string' }, days: { type: 'string', multiple: true }, json: { type: 'boolean' } } },
    ALERTS_USAGE,
  );
  const out = (v: unknown) => console.log(JSON.stringify(v, null, 2));
  switch (sub) {
    case undefined:
    case 'list': {
      const q = new URLSearchParams();
      for (const k of ['state', 'kind', 'limit'] as const) if (values[k]) q.set(k, values[k] as string);
      const rows = await callApi<AlertRow[]>(api(), 'GET', `/api/v1/alerts${q.size ? `?${q}` : ''}`);
      if (values.json) return out(rows), 0;
      console.log(
        table(
          ['ID', 'KIND', 'STAGE', 'SEVERITY', 'STATE', 'OWNER', 'UPDATED', 'TITLE'],
          rows.map((a) => [a.id, a.kind, a.stageLabel, a.severity, a.state === 'silenced' ? `silenced until ${shortTime(a.silencedUntil)}` : a.state, a.ownerTeam ?? '', shortTime(a.updatedAt), a.title]),
        ),
      );
      console.log(`\n${rows.length} alert(s)`);
      return 0;
    }
    case 'show':
      out(await callApi(api(), 'GET', `/api/v1/alerts/${encodeURIComponent(onePositional(positionals, 'the alert ID', ALERTS_USAGE))}`));
      return 0;
    case 'ack': {
      const a = await callApi<AlertRow>(api(), 'POST', `/api/v1/alerts/${encodeURIComponent(onePositional(positionals, 'the alert ID', ALERTS_USAGE))}/ack`, {});
      console.log(`acknowledged ${a.id}: ${a.title}`);
      return 0;
    }
    case 'silence': {
      const id = onePositional(positionals, 'the alert ID', ALERTS_USAGE);
      if (!values.until) throw usageError('--until is required', ALERTS_USAGE);
      const a = await callApi<AlertRow>(api(), 'POST', `/api/v1/alerts/${encodeURIComponent(id)}/silence`, { until: untilDate(values.until) });
      console.log(`silenced ${a.id} until ${a.silencedUntil}: ${a.title}`);
      return 0;
    }
    case 'evaluate':
      out(await callApi(api(), 'POST', '/api/v1/alerts/evaluate', {}));
      return 0;
    case 'thresholds': {
      const [action, scope] = positionals;
      if (!action) {
        const rows = await callApi<{ scope: string; scopeValue: string; days: number[] }[]>(api(), 'GET', '/api/v1/alerts/thresholds');
        if (values.json) return out(rows), 0;
        console.log(table(['SCOPE', 'VALUE', 'DAYS'], rows.map((r) => [r.scope, r.scopeValue, r.days.join(',')])));
        return 0;
      }
      if (!scope || positionals.length > 2) throw usageError('give one scope: tag:TAG or managed:ID|NAME', ALERTS_USAGE);
      if (action === 'set') out(await callApi(api(), 'POST', `/api/v1/alerts/thresholds/${encodeURIComponent(scope)}`, { days: thresholdDays(values.days ?? []) }));
      else if (action === 'remove') await callApi(api(), 'DELETE', `/api/v1/alerts/thresholds/${encodeURIComponent(scope)}`), console.log(`removed thresholds of ${scope}`);
      else throw usageError(`unknown thresholds action "${action}"`, ALERTS_USAGE);
      return 0;
    }
    case 'help':
    case '--help':
      console.log(ALERTS_USAGE);
      return 0;
    default:
      throw usageError(`unknown alerts command "${sub}"`, ALERTS_USAGE);
  }
}
