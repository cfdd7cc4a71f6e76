#!/usr/bin/env node
import { ApiSettings, CliError, resolveApiSettings } from './api/api-client';
import { agentsCommand } from './commands/agents.command';
import { caCommand } from './commands/ca.command';
import { certsCommand } from './commands/certs.command';
import { tokenCommand } from './commands/token.command';

const USAGE = `certfleet: administer a certfleet control server over its REST API

Usage:
  certfleet token create --ttl 1h [--description TEXT] [--json]
  certfleet agents [--json]
  certfleet certs [--expiring 30d] [--agent ID|HOSTNAME] [--issuer TEXT] [--status OK|WARNING|CRITICAL|EXPIRED] [--limit N] [--json]
  certfleet ca init-root --cn NAME --out DIR [--passphrase-file FILE]        (offline)
  certfleet ca sign-intermediate --root-cert F --root-key F --csr F --out F   (offline)

Global options (before the command): --server URL (or CERTFLEET_URL, default http://127.0.0.1:8080),
  --token TOKEN (or CERTFLEET_TOKEN), --token-file FILE (or CERTFLEET_TOKEN_FILE; default
  ./.certfleet/admin-token as written by a server started here)`;

/** Splits the global options off the front of argv. */
function globalOptions(argv: string[]): { flags: { server?: string; token?: string; tokenFile?: string }; rest: string[] } {
  const flags: { server?: string; token?: string; tokenFile?: string } = {};
  let i = 0;
  for (; i < argv.length; i++) {
    const [name, inline] = argv[i].split(/=(.*)/s, 2);
    const key = ({ '--server': 'server', '--token': 'token', '--token-file': 'tokenFile' } as const)[name];
    if (!key) break;
    flags[key] = inline ?? argv[++i];
  }
  return { flags, rest: argv.slice(i) };
}

export async function main(argv: string[]): Promise<number> {
  const { flags, rest } = globalOptions(argv);
  const [command, ...args] = rest;
  const api = (): ApiSettings => resolveApiSettings(flags);
  switch (command) {
    case 'token':
      return tokenCommand(args, api);
    case 'agents':
      return agentsCommand(args, api);
    case 'certs':
      return certsCommand(args, api);
    case 'ca':
      return caCommand(args);
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
    default:
      console.error(command ? `certfleet: unknown command "${command}"\n\n${USAGE}` : USAGE);
      return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`certfleet: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = err instanceof CliError ? err.exitCode : 1;
    },
  );
}
