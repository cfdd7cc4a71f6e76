import { readFileSync } from 'node:fs';
import { ApiSettings, callApi } from '../api/api-client';
import { listFlag, onePositional, parseCommandArgs, usageError } from './cli-args';
import { table } from './format';

export const CHANNELS_USAGE = `usage:
  certfleet channels list [--json]
  certfleet channels add webhook NAME --url URL --secret-file FILE [--role all|escalation|owner] [--timeout S]
  certfleet channels add slack NAME --secret-file FILE          (the file holds the incoming-webhook URL)
  certfleet channels add smtp NAME --host H [--port 587] [--tls starttls|implicit|off] --from ADDR
        [--to ADDR,...] [--mail-owners] [--username U --secret-file PASSWORD-FILE] [--ca-file PEM]
  certfleet channels add command NAME --command /abs/program [--arg A]... [--timeout S]
  certfleet channels test NAME [--to ADDR,...]
  certfleet channels remove NAME
  Roles: all (every alert), escalation (critical stages only), owner (only alerts whose owner names
  the channel; smtp with --mail-owners mails the owners). Secrets are read from files (kept out of
  shell history and ps) and stored encrypted.`;

const OPTIONS = {
  url: { type: 'string' },
  'secret-file': { type: 'string' },
  role: { type: 'string' },
  timeout: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  tls: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string', multiple: true },
  'mail-owners': { type: 'boolean' },
  username: { type: 'string' },
  'ca-file': { type: 'string' },
  command: { type: 'string' },
  arg: { type: 'string', multiple: true },
  json: { type: 'boolean' },
} as const;

type Values = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K] extends { multiple: true } ? string[] : (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

/** The REST body of `channels add TYPE NAME ...`; secrets are read from files by `read`. */
export function channelBody(type: string, name: string, v: Values, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): Record<string, unknown> {
  const num = (s: string | undefined, flag: string) => {
    if (s === undefined) return undefined;
    if (!/^\d+$/.test(s)) throw usageError(`${flag} must be a whole number`, CHANNELS_USAGE);
    return Number(s);
  };
  const secret = v['secret-file'] ? read(v['secret-file']).trim() : undefined;
  const timeoutSeconds = num(v.timeout, '--timeout');
  const common = { name, type, role: v.role ?? (type === 'smtp' && v['mail-owners'] && !v.to ? 'owner' : 'all'), secret };
  switch (type) {
    case 'webhook':
      if (!v.url) throw usageError('--url is required', CHANNELS_USAGE);
      return { ...common, settings: { url: v.url, timeoutSeconds } };
    case 'slack':
      if (!secret) throw usageError('--secret-file (the incoming-webhook URL) is required', CHANNELS_USAGE);
      return { ...common, settings: { timeoutSeconds } };
    case 'smtp':
      return {
        ...common,
        settings: { host: v.host, port: num(v.port, '--port') ?? 587, tls: v.tls ?? 'starttls', from: v.from, to: listFlag(v.to), mailOwners: v['mail-owners'] === true, username: v.username, caPem: v['ca-file'] ? read(v['ca-file']) : undefined, timeoutSeconds },
      };
    case 'command':
      if (!v.command) throw usageError('--command is required', CHANNELS_USAGE);
      return { ...common, settings: { command: [v.command, ...(v.arg ?? [])], timeoutSeconds } };
    default:
      throw usageError(`unknown channel type "${type}" (webhook, slack, smtp, command)`, CHANNELS_USAGE);
  }
}

/** certfleet channels: where alert notifications go. */
export async function channelsCommand(args: string[], api: () => ApiSettings): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseCommandArgs({ args: rest, allowPositionals: true, options: OPTIONS }, CHANNELS_USAGE);
  switch (sub) {
    case undefined:
    case 'list': {
      const rows = await callApi<{ name: string; type: string; role: string; settings: Record<string, unknown>; hasSecret: boolean }[]>(api(), 'GET', '/api/v1/notification-channels');
      if (values.json) return console.log(JSON.stringify(rows, null, 2)), 0;
      console.log(table(['NAME', 'TYPE', 'ROLE', 'SECRET', 'SETTINGS'], rows.map((c) => [c.name, c.type, c.role, c.hasSecret ? 'set' : '', JSON.stringify(c.settings)])));
      return 0;
    }
    case 'add': {
      if (positionals.length !== 2) throw usageError('give the channel TYPE and NAME', CHANNELS_USAGE);
      const c = await callApi<{ id: string; name: string }>(api(), 'POST', '/api/v1/notification-channels', channelBody(positionals[0], positionals[1], values as Values));
      console.log(`added channel ${c.name} (${c.id})`);
      return 0;
    }
    case 'test': {
      const name = onePositional(positionals, 'the channel NAME', CHANNELS_USAGE);
      const r = await callApi<{ delivered: boolean; error: string | null; ms: number }>(api(), 'POST', `/api/v1/notification-channels/${encodeURIComponent(name)}/test`, { to: listFlag(values.to) });
      console.log(r.delivered ? `delivered in ${r.ms} ms` : `failed after ${r.ms} ms: ${r.error}`);
      return r.delivered ? 0 : 1;
    }
    case 'remove':
      await callApi(api(), 'DELETE', `/api/v1/notification-channels/${encodeURIComponent(onePositional(positionals, 'the channel NAME', CHANNELS_USAGE))}`);
      console.log('removed');
      return 0;
    case 'help':
    case '--help':
      console.log(CHANNELS_USAGE);
      return 0;
    default:
      throw usageError(`unknown channels command "${sub}"`, CHANNELS_USAGE);
  }
}
