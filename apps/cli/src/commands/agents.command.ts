import { parseArgs } from 'node:util';
import { ApiSettings, callApi } from '../api/api-client';
import { table } from './format';

interface AgentRow {
  id: string;
  hostname: string;
  online: boolean;
  lastSeenAt: string | null;
  lastScanAt: string | null;
  certificates: number;
  problems: number;
  hostFacts: { osRelease?: string; agentVersion?: string };
}

/** certfleet agents [--json] */
export async function agentsCommand(args: string[], api: () => ApiSettings): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' } } });
  const agents = await callApi<AgentRow[]>(api(), 'GET', '/api/v1/agents');
  if (values.json) {
    console.log(JSON.stringify(agents, null, 2));
    return 0;
  }
  console.log(
    table(
      ['AGENT', 'HOSTNAME', 'STATE', 'LAST SEEN', 'CERTS', 'PROBLEMS', 'OS', 'VERSION'],
      agents.map((a) => [
        a.id,
        a.hostname,
        a.online ? 'online' : 'offline',
        a.lastSeenAt ? a.lastSeenAt.replace('T', ' ').slice(0, 19) : 'never',
        String(a.certificates),
        String(a.problems),
        a.hostFacts.osRelease ?? '',
        a.hostFacts.agentVersion ?? '',
      ]),
    ),
  );
  console.log(`\n${agents.length} agent(s), ${agents.filter((a) => a.online).length} online`);
  return 0;
}
