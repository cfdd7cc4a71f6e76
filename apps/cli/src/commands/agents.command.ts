import { parseArgs } from 'node:util';
import { ApiSettings, callApi } from '../api/api-client';
import { table } from './format';
import { labelPairs } from './owners.command';

interface AgentRow {
  id: string;
  hostname: string;
  online: boolean;
  lastSeenAt: string | null;
  lastScanAt: string | null;
  certificates: number;
  problems: number;
  labels?: Record<string, string>;
  hostFacts: { osRelease?: string; agentVersion?: string };
}

/** certfleet agents [--json] */
export async function agentsCommand(args: string[], api: () => ApiSettings): Promise<number> {
  if (args[0] === 'label') return agentsLabel(args.slice(1), api);
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' } } });
  const agents = await callApi<AgentRow[]>(api(), 'GET', '/api/v1/agents');
  if (values.json) {
    console.log(JSON.stringify(agents, null, 2));
    return 0;
  }
  console.log(
    table(
      ['AGENT', 'HOSTNAME', 'STATE', 'LAST SEEN', 'CERTS', 'PROBLEMS', 'LABELS', 'OS', 'VERSION'],
      agents.map((a) => [
        a.id,
        a.hostname,
        a.online ? 'online' : 'offline',
        a.lastSeenAt ? a.lastSeenAt.replace('T', ' ').slice(0, 19) : 'never',
        String(a.certificates),
        String(a.problems),
        formatLabels(a.labels),
        a.hostFacts.osRelease ?? '',
        a.hostFacts.agentVersion ?? '',
      ]),
    ),
  );
  console.log(`\n${agents.length} agent(s), ${agents.filter((a) => a.online).length} online`);
  return 0;
}

/** "env=prod team=web", "-" for none. */
export function formatLabels(labels: Record<string, string> | undefined): string {
  const pairs = Object.entries(labels ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return pairs.length ? pairs.map(([k, v]) => `${k}=${v}`).join(' ') : '-';
}

const LABEL_USAGE = 'usage: certfleet agents label AGENT k=v... [k-]...   (set labels; "k-" removes k; ownership rules match on them)';

/** certfleet agents label AGENT env=prod team- */
async function agentsLabel(args: string[], api: () => ApiSettings): Promise<number> {
  const [agent, ...changes] = args;
  if (!agent || changes.length === 0) {
    console.error(LABEL_USAGE);
    return 2;
  }
  const remove = changes.filter((c) => c.endsWith('-') && !c.includes('=')).map((c) => c.slice(0, -1));
  const set = labelPairs(changes.filter((c) => !(c.endsWith('-') && !c.includes('='))), LABEL_USAGE);
  const r = await callApi<{ hostname: string; labels: Record<string, string> }>(api(), 'POST', `/api/v1/agents/${encodeURIComponent(agent)}/labels`, { set, remove });
  console.log(`${r.hostname}: ${Object.keys(r.labels).length ? formatLabels(r.labels) : '(no labels)'}`);
  return 0;
}
