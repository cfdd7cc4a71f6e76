import { readFileSync } from 'node:fs';
import { ApiSettings, callApi, CliError, resolveApiSettings } from '../api/api-client';
import { intFlag, onePositional, parseCommandArgs, usageError } from './cli-args';
import { readSecretFile, SpecError } from './managed-args';
import { table } from './format';

const USAGE = `usage:
  certfleet issuers acme add --name NAME --directory URL [--email ADDRESS]
        [--eab-kid KID --eab-hmac-key-file FILE] [--directory-ca FILE] [--root FILE]
        [--max-issuances-per-day N] [--no-ari] [--json]
  certfleet issuers acme list [--json]
  certfleet issuers acme show NAME [--json]
  certfleet issuers acme remove NAME

--directory-ca: CA certificate(s) to trust for a private ACME server's HTTPS (PEM file).
--root: the root its certificates chain to, when the CA does not send it (agents validate with it).
The account key is generated on the server and kept there encrypted; the account is registered on
the first order. Managed certificates use it with: certfleet managed add --issuer acme:NAME --challenge SPEC`;

interface AcmeIssuerView {
  id: string;
  name: string;
  directoryUrl: string;
  contactEmail: string | null;
  eabKid: string | null;
  ariEnabled: boolean;
  maxIssuancesPerDay: number;
  accountUrl: string | null;
  createdAt: string;
}

function readPem(path: string | undefined, flag: string): string | undefined {
  if (!path) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${flag} ${path}: ${(err as Error).message}`);
  }
}

/** The JSON body of `issuers acme add` from its flags (exported for tests). */
export function acmeAddBody(args: string[], readSecret: (path: string) => string = readSecretFile): { body: Record<string, unknown>; json: boolean } {
  const { values } = parseCommandArgs(
    {
      args,
      options: {
        name: { type: 'string' },
        directory: { type: 'string' },
        email: { type: 'string' },
        'eab-kid': { type: 'string' },
        'eab-hmac-key-file': { type: 'string' },
        'directory-ca': { type: 'string' },
        root: { type: 'string' },
        'max-issuances-per-day': { type: 'string' },
        'no-ari': { type: 'boolean' },
        json: { type: 'boolean' },
      },
    },
    USAGE,
  );
  if (!values.name) throw usageError('--name is required', USAGE);
  if (!values.directory) throw usageError('--directory URL is required', USAGE);
  if (Boolean(values['eab-kid']) !== Boolean(values['eab-hmac-key-file'])) throw usageError('External Account Binding needs both --eab-kid and --eab-hmac-key-file', USAGE);
  let eabHmacKey: string | undefined;
  try {
    eabHmacKey = values['eab-hmac-key-file'] ? readSecret(values['eab-hmac-key-file']) : undefined;
  } catch (err) {
    if (err instanceof SpecError) throw new CliError(err.message);
    throw err;
  }
  const max = intFlag(values['max-issuances-per-day'], '--max-issuances-per-day', USAGE);
  const body = {
    name: values.name,
    directoryUrl: values.directory,
    ...(values.email ? { contactEmail: values.email } : {}),
    ...(values['eab-kid'] ? { eabKid: values['eab-kid'], eabHmacKey } : {}),
    ...(values['directory-ca'] ? { directoryTrustPem: readPem(values['directory-ca'], '--directory-ca') } : {}),
    ...(values.root ? { rootPem: readPem(values.root, '--root') } : {}),
    ...(max !== undefined ? { maxIssuancesPerDay: max } : {}),
    ...(values['no-ari'] ? { ariEnabled: false } : {}),
  };
  return { body, json: !!values.json };
}

export async function issuersCommand(args: string[], api: () => ApiSettings = () => resolveApiSettings({})): Promise<number> {
  const [kind, sub, ...rest] = args;
  if (kind === 'help' || kind === '--help' || kind === '-h' || kind === undefined) {
    console.log(USAGE);
    return kind === undefined ? 2 : 0;
  }
  if (kind !== 'acme') throw usageError(`unknown issuer kind "${kind}" (internal CAs are under "certfleet ca")`, USAGE);
  switch (sub) {
    case 'add': {
      const { body, json } = acmeAddBody(rest);
      const created = await callApi<AcmeIssuerView>(api(), 'POST', '/api/v1/acme-issuers', body);
      console.log(json ? JSON.stringify(created, null, 2) : `ACME issuer "${created.name}" added (${created.id}); use it with --issuer acme:${created.name}`);
      return 0;
    }
    case 'list': {
      const { values } = parseCommandArgs({ args: rest, options: { json: { type: 'boolean' } } }, USAGE);
      const rows = await callApi<AcmeIssuerView[]>(api(), 'GET', '/api/v1/acme-issuers');
      if (values.json) console.log(JSON.stringify(rows, null, 2));
      else console.log(table(['NAME', 'DIRECTORY', 'ACCOUNT', 'MAX/DAY', 'ARI'], rows.map((r) => [r.name, r.directoryUrl, r.accountUrl ? 'registered' : 'not yet', String(r.maxIssuancesPerDay), r.ariEnabled ? 'on' : 'off'])));
      return 0;
    }
    case 'show': {
      const { values, positionals } = parseCommandArgs({ args: rest, allowPositionals: true, options: { json: { type: 'boolean' } } }, USAGE);
      const name = onePositional(positionals, 'NAME', USAGE);
      const row = await callApi<AcmeIssuerView>(api(), 'GET', `/api/v1/acme-issuers/${encodeURIComponent(name)}`);
      if (values.json) console.log(JSON.stringify(row, null, 2));
      else for (const [k, v] of Object.entries(row)) if (typeof v !== 'string' || !v.includes('BEGIN')) console.log(`${k.padEnd(20)} ${v ?? '-'}`);
      return 0;
    }
    case 'remove': {
      const { positionals } = parseCommandArgs({ args: rest, allowPositionals: true, options: {} }, USAGE);
      const name = onePositional(positionals, 'NAME', USAGE);
      await callApi(api(), 'DELETE', `/api/v1/acme-issuers/${encodeURIComponent(name)}`);
      console.log(`ACME issuer "${name}" removed`);
      return 0;
    }
    default:
      throw usageError(sub ? `unknown issuers acme command "${sub}"` : 'an issuers acme command is required', USAGE);
  }
}
