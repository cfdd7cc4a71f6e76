import { ApiSettings, callApi } from '../api/api-client';
import { intFlag, listFlag, onePositional, parseCommandArgs, usageError } from './cli-args';
import { table } from './format';

export const OWNERS_USAGE = `usage:
  certfleet owners list [--json]                           (owners assigned by hand)
  certfleet owners show FINGERPRINT|MANAGED             (effective owner: hand assignment and rules)
  certfleet owners set FINGERPRINT|MANAGED [--team T] [--email ADDR,...] [--channel NAME,...] [--tag T,...]
  certfleet owners unset FINGERPRINT|MANAGED
  certfleet owners rules [--json]
  certfleet owners rules add NAME [--priority N] [--path GLOB] [--san PATTERN] [--agent-label k=v]...
        [--team T] [--email ADDR,...] [--channel NAME,...] [--tag T,...]
  certfleet owners rules remove NAME
  A hand assignment wins over rules; rules are tried by ascending priority, the first match wins.
  GLOB: * within a directory, ** across; PATTERN: e.g. *.shop.example.com (DNS names and CN).`;

const OPTIONS = {
  team: { type: 'string' },
  email: { type: 'string', multiple: true },
  channel: { type: 'string', multiple: true },
  tag: { type: 'string', multiple: true },
  priority: { type: 'string' },
  path: { type: 'string' },
  san: { type: 'string' },
  'agent-label': { type: 'string', multiple: true },
  json: { type: 'boolean' },
} as const;

/** k=v pairs to an object; "k=" is an empty value. */
export function labelPairs(pairs: string[], usage: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i < 1) throw usageError(`labels are k=v, got "${p}"`, usage);
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

/** certfleet owners: who owns which certificate (alerts go to them), by hand and by rules. */
export async function ownersCommand(args: string[], api: () => ApiSettings): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseCommandArgs({ args: rest, allowPositionals: true, options: OPTIONS }, OWNERS_USAGE);
  const owner = () => ({ team: values.team, emails: listFlag(values.email), channels: listFlag(values.channel), tags: listFlag(values.tag) });
  const show = (v: unknown) => console.log(JSON.stringify(v, null, 2));
  switch (sub) {
    case undefined:
    case 'list': {
      const rows = await callApi<{ subjectKey: string; team: string | null; emails: string[]; tags: string[] }[]>(api(), 'GET', '/api/v1/owners');
      if (values.json) return show(rows), 0;
      console.log(table(['CERTIFICATE', 'TEAM', 'EMAILS', 'TAGS'], rows.map((r) => [r.subjectKey, r.team ?? '', r.emails.join(','), r.tags.join(',')])));
      return 0;
    }
    case 'show':
      show(await callApi(api(), 'GET', `/api/v1/owners/${encodeURIComponent(onePositional(positionals, 'the certificate', OWNERS_USAGE))}`));
      return 0;
    case 'set':
      show(await callApi(api(), 'POST', `/api/v1/owners/${encodeURIComponent(onePositional(positionals, 'the certificate', OWNERS_USAGE))}`, owner()));
      return 0;
    case 'unset':
      await callApi(api(), 'DELETE', `/api/v1/owners/${encodeURIComponent(onePositional(positionals, 'the certificate', OWNERS_USAGE))}`);
      console.log('removed');
      return 0;
    case 'rules': {
      const [action, name] = positionals;
      if (!action) {
        const rows = await callApi<{ name: string; priority: number; pathGlob: string | null; sanPattern: string | null; agentLabels: Record<string, string> | null; team: string | null; tags: string[] }[]>(api(), 'GET', '/api/v1/ownership-rules');
        if (values.json) return show(rows), 0;
        console.log(
          table(
            ['PRIORITY', 'NAME', 'PATH', 'SAN', 'AGENT LABELS', 'TEAM', 'TAGS'],
            rows.map((r) => [String(r.priority), r.name, r.pathGlob ?? '', r.sanPattern ?? '', Object.entries(r.agentLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(','), r.team ?? '', r.tags.join(',')]),
          ),
        );
        return 0;
      }
      if (!name || positionals.length > 2) throw usageError('give one rule NAME', OWNERS_USAGE);
      if (action === 'add') {
        const body = { name, priority: intFlag(values.priority, '--priority', OWNERS_USAGE), pathGlob: values.path, sanPattern: values.san, agentLabels: labelPairs(values['agent-label'] ?? [], OWNERS_USAGE), ...owner() };
        show(await callApi(api(), 'POST', '/api/v1/ownership-rules', body));
      } else if (action === 'remove') {
        await callApi(api(), 'DELETE', `/api/v1/ownership-rules/${encodeURIComponent(name)}`);
        console.log('removed');
      } else throw usageError(`unknown rules action "${action}"`, OWNERS_USAGE);
      return 0;
    }
    case 'help':
    case '--help':
      console.log(OWNERS_USAGE);
      return 0;
    default:
      throw usageError(`unknown owners command "${sub}"`, OWNERS_USAGE);
  }
}
