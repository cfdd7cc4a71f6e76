import { ApiSettings, callApi } from '../api/api-client';
import { parseCommandArgs, usageError } from './cli-args';
import { shortDate, table } from './format';

export const ACME_USAGE = `usage:
  certfleet acme eab create [--ca NAME] [--description TEXT] [--json]
        An external account binding key for an ACME client (single use). Prints the key id and the
        base64url HMAC key once: certbot --eab-kid KID --eab-hmac-key KEY; lego --eab --kid KID --hmac KEY.
        --ca: only that issuing CA's directory accepts it (default: any).
  certfleet acme directories [--json]        the directory URL of each active issuing CA (a break-glass
                                             replacement keeps its predecessor's URL)
  certfleet acme certs [--ca NAME] [--json]  certificates issued through ACME`;

interface EabKey {
  kid: string;
  hmacKey: string;
  issuingCaId: string | null;
}

/** certfleet acme: the ACME server's EAB keys, directory URLs and the certificates it issued. */
export async function acmeCommand(args: string[], api: () => ApiSettings): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'eab' && rest[0] === 'create') return eabCreate(rest.slice(1), api);
  if (sub === 'directories') return directories(rest, api);
  if (sub === 'certs') return certs(rest, api);
  if (sub === 'help' || sub === '--help' || sub === undefined) {
    console.log(ACME_USAGE);
    return sub === undefined ? 2 : 0;
  }
  throw usageError(`unknown acme command "${[sub, ...rest.slice(0, 1)].join(' ')}"`, ACME_USAGE);
}

async function eabCreate(args: string[], api: () => ApiSettings): Promise<number> {
  const { values } = parseCommandArgs({ args, options: { ca: { type: 'string' }, description: { type: 'string' }, json: { type: 'boolean' } } }, ACME_USAGE);
  const key = await callApi<EabKey>(api(), 'POST', '/api/v1/acme/eab-keys', { ca: values.ca, description: values.description ?? '' });
  if (values.json) console.log(JSON.stringify(key, null, 2));
  else {
    console.log(`kid: ${key.kid}`);
    console.log(`hmac-key: ${key.hmacKey}`);
    console.error(`single use; the HMAC key is not shown again${values.ca ? ` (valid at the directory of CA "${values.ca}")` : ' (valid at any CA\'s directory)'}`);
  }
  return 0;
}

async function directories(args: string[], api: () => ApiSettings): Promise<number> {
  const { values } = parseCommandArgs({ args, options: { json: { type: 'boolean' } } }, ACME_USAGE);
  const rows = await callApi<Array<{ ca: string; directoryUrl: string; externalAccountRequired: boolean; replaces: string[] }>>(api(), 'GET', '/api/v1/acme/directories');
  if (values.json) console.log(JSON.stringify(rows, null, 2));
  else console.log(table(['CA', 'DIRECTORY', 'EAB', 'REPLACES'], rows.map((r) => [r.ca, r.directoryUrl, r.externalAccountRequired ? 'required' : 'optional', r.replaces.join(', ') || '-'])));
  return 0;
}

async function certs(args: string[], api: () => ApiSettings): Promise<number> {
  const { values } = parseCommandArgs({ args, options: { ca: { type: 'string' }, json: { type: 'boolean' } } }, ACME_USAGE);
  const rows = await callApi<Array<{ serial: string; identifiers: string[]; notAfter: string; revokedAt: string | null; replacedBySerial: string | null; acmeAccountId: string }>>(
    api(),
    'GET',
    `/api/v1/acme/certificates${values.ca ? `?ca=${encodeURIComponent(values.ca)}` : ''}`,
  );
  if (values.json) console.log(JSON.stringify(rows, null, 2));
  else console.log(table(['SERIAL', 'NAMES', 'NOT AFTER', 'REVOKED', 'REPLACED BY', 'ACCOUNT'], rows.map((r) => [r.serial, r.identifiers.join(','), shortDate(r.notAfter), r.revokedAt ? shortDate(r.revokedAt) : '', r.replacedBySerial ?? '', r.acmeAccountId])));
  return 0;
}
