#!/usr/bin/env node
import { ApiSettings, CliError, resolveApiSettings } from './api/api-client';
import { acmeCommand } from './commands/acme.command';
import { agentsCommand } from './commands/agents.command';
import { alertsCommand } from './commands/alerts.command';
import { channelsCommand } from './commands/channels.command';
import { ownersCommand } from './commands/owners.command';
import { auditCommand } from './commands/audit.command';
import { breakglassCommand } from './commands/breakglass.command';
import { caCommand } from './commands/ca.command';
import { ctCommand } from './commands/ct.command';
import { endpointsCommand } from './commands/endpoints.command';
import { certsCommand } from './commands/certs.command';
import { issuersCommand } from './commands/issuers.command';
import { managedCommand } from './commands/managed.command';
import { policyCommand } from './commands/policy.command';
import { reportCommand } from './commands/report.command';
import { revokeCommand } from './commands/revoke.command';
import { tokenCommand } from './commands/token.command';

const USAGE = `certfleet: administer a certfleet control server over its REST API

Usage:
  certfleet token create --ttl 1h [--description TEXT] [--json]
  certfleet agents [--json]
  certfleet certs [--expiring 30d] [--agent ID|HOSTNAME] [--issuer TEXT] [--status OK|WARNING|CRITICAL|EXPIRED] [--limit N] [--json]
  certfleet certs list --revocation revoked|unknown|unreachable|good ;  certfleet certs check-revocation

  Internal PKI (the root stays offline; issuing CA keys never leave the server):
  certfleet ca init-root --cn NAME --out DIR [--passphrase-file FILE]        (offline)
  certfleet ca create-issuing --name NAME [--curve P-256|P-384] [--organization O] --csr-out FILE
  certfleet ca sign-intermediate --root-cert F --root-key F --csr F --out F   (offline)
  certfleet ca import-issuing ID|NAME --certificate FILE --chain FILE
  certfleet ca quick-start --name NAME                                       (lab: root + issuing CA)
  certfleet ca list [--json]
  certfleet ca show ID|NAME [--json] [--csr-out FILE]

  Managed certificates (issued, installed by the agent, renewed before expiry):
  certfleet managed add --name N --agent ID|HOSTNAME [--issuer CA] --dns NAME... [--ip IP...]
        [--key-type ec-p256|ec-p384|rsa-2048|rsa-3072|rsa-4096] [--validity-days N]
        [--usage tls-server|tls-client|code-signing]... [--cn CN] --target SPEC... [--reload CMD]
        [--reload-timeout S] [--validate host:port[/sni]] [--renew-before-days N] [--json]
  certfleet managed adopt --agent ID|HOSTNAME --fingerprint SHA256 [--name N] [--issuer CA]
        [--reload CMD] [--validate host:port[/sni]] [--target SPEC...]
  certfleet managed list [--agent ID|HOSTNAME] [--status pending|active|failing] [--json]
  certfleet managed show ID|NAME [--json]
  certfleet managed renew-now ID|NAME
  certfleet managed remove ID|NAME
  Target SPEC: pem:cert=/p/c.pem,key=/p/k.pem[,chain=/p/ch.pem] | fullchain:path=/p/f.pem,key=/p/k.pem
        | combined:path=/p/x.pem | pkcs12:path=/p/x.p12,password-file=/p/pw[,alias=a]
        | jks:path=/p/x.jks,password-file=/p/pw[,alias=a][,key-password-file=/p/kpw]
        Passwords are read from files so they stay out of shell history and ps
        ("certfleet managed help" for more).

  Revocation (CRLs and OCSP at <server>/pki/crl/<ca>.crl and <server>/pki/ocsp):
  certfleet revoke SERIAL|ID [--reason REASON] [--replace]   ("certfleet revoke help" for reasons)
  certfleet revoke list [--issuer CA] [--limit N] [--json]
  certfleet revoke publish-crl CA

  Break-glass (emergency replacement across the fleet; "certfleet breakglass help"):
  certfleet breakglass plan SELECTOR | run SELECTOR --confirm | status [ID] [--watch] | report ID

  ACME server (RFC 8555) at <server>/acme/<CA>/directory ("certfleet acme help"):
  certfleet acme eab create [--ca NAME] | directories | certs [--ca NAME]

  ACME issuers (managed certificates from Let's Encrypt-style CAs; "certfleet issuers help"):
  certfleet issuers acme add --name N --directory URL [--email E] | list | show N | remove N

  TLS endpoints ("certfleet endpoints help") and Certificate Transparency ("certfleet ct help"):
  certfleet endpoints add HOST:PORT [--sni NAME] [--agent HOST] | list | show HOST:PORT | probe
  certfleet ct watch add|list DOMAIN ;  certfleet ct findings ;  certfleet ct logs add|list ;  certfleet ct poll ;  certfleet ct scts SHA256

  Fleet policy and reports ("certfleet policy help", "certfleet report help"):
  certfleet policy show | set FILE|--preset baseline|public-tls | findings [--severity S] | evaluate
  certfleet report inventory|expiring [--days 30] [--by owner]|violations|crypto|trust --ca X
        [--format csv|json] [--output FILE]

  Alerts, notification channels, certificate owners ("certfleet alerts|channels|owners help"):
  certfleet alerts list|show|ack|silence|evaluate|thresholds ;  certfleet channels list|add|test|remove
  certfleet owners list|show|set|unset|rules ;  certfleet agents label AGENT k=v... [k-]...

  Audit trail:
  certfleet audit [--subject TYPE[:ID]] [--action PREFIX*] [--actor A] [--since ISO|30d|12h] [--limit N | --all] [--json]
  certfleet audit verify

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
      return caCommand(args, api);
    case 'managed':
      return managedCommand(args, api);
    case 'audit':
      return auditCommand(args, api);
    case 'policy':
      return policyCommand(args, api);
    case 'report':
      return reportCommand(args, api);
    case 'revoke':
      return revokeCommand(args, api);
    case 'breakglass':
      return breakglassCommand(args, api);
    case 'acme':
      return acmeCommand(args, api);
    case 'issuers':
      return issuersCommand(args, api);
    case 'endpoints':
      return endpointsCommand(args, api);
    case 'ct':
      return ctCommand(args, api);
    case 'alerts':
      return alertsCommand(args, api);
    case 'channels':
      return channelsCommand(args, api);
    case 'owners':
      return ownersCommand(args, api);
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
