import { ApiSettings, callApi } from '../api/api-client';
import { onePositional, parseCommandArgs, usageError } from './cli-args';
import { shortTime, table } from './format';

export const REVOKE_USAGE = `usage:
  certfleet revoke SERIAL|ID [--reason REASON] [--replace] [--json]
        SERIAL: hex serial (colons allowed) of a certificate a certfleet CA issued;
        ID: a managed certificate (its current certificate is revoked).
        REASON: unspecified (default), keyCompromise, caCompromise, affiliationChanged, superseded,
        cessationOfOperation, privilegeWithdrawn, aACompromise.
        --replace: every managed certificate holding it gets a new key and certificate now; hosts where
        it is installed but not managed are listed for manual action.
  certfleet revoke list [--issuer CA] [--limit N] [--json]
  certfleet revoke publish-crl CA [--json]      (a new CRL now; normally automatic)`;

interface Outcome {
  revoked: Array<{ serial: string; issuingCaId: string; revokedAt: string; reason: string; alreadyRevoked: boolean }>;
  crls: Array<{ issuingCaId: string; crlNumber?: string; entries?: number; error?: string }>;
  replacements: Array<{ managedCertificateId: string; name: string; agentId: string }>;
  needsManualAction: Array<{ serial: string; hostname: string; path: string; entry: string }>;
}

/** certfleet revoke: revoke what the internal CAs issued; list revocations; publish a CRL. */
export async function revokeCommand(args: string[], api: () => ApiSettings): Promise<number> {
  if (args[0] === 'list') return list(args.slice(1), api);
  if (args[0] === 'publish-crl') return publishCrl(args.slice(1), api);
  if (args[0] === 'help' || args[0] === '--help') {
    console.log(REVOKE_USAGE);
    return 0;
  }
  const { values, positionals } = parseCommandArgs(
    { args, allowPositionals: true, options: { reason: { type: 'string' }, replace: { type: 'boolean' }, json: { type: 'boolean' } } },
    REVOKE_USAGE,
  );
  const target = onePositional(positionals, 'the certificate (SERIAL or managed certificate ID)', REVOKE_USAGE);
  const r = await callApi<Outcome>(api(), 'POST', '/api/v1/revocations', { target, reason: values.reason ?? 'unspecified', replace: values.replace === true });
  if (values.json) {
    console.log(JSON.stringify(r, null, 2));
    return 0;
  }
  for (const c of r.revoked) {
    console.log(c.alreadyRevoked ? `${c.serial} was already revoked on ${shortTime(c.revokedAt)} (${c.reason}); unchanged` : `revoked ${c.serial} (${c.reason}) at ${shortTime(c.revokedAt)}`);
  }
  for (const crl of r.crls) {
    console.log(crl.error ? `warning: the CRL could not be republished now (the server retries): ${crl.error}` : `CRL #${crl.crlNumber} published (${crl.entries} revoked); OCSP answers "revoked" now`);
  }
  if (values.replace) {
    console.log(r.replacements.length ? `replacement requested for ${r.replacements.length} managed certificate(s): ${r.replacements.map((x) => x.name).join(', ')}` : 'no managed certificate holds it: nothing to replace automatically');
    if (r.needsManualAction.length) {
      console.log(`\nneeds manual action (installed but not managed by certfleet there):`);
      console.log(table(['HOST', 'PATH', 'ENTRY'], r.needsManualAction.map((h) => [h.hostname, h.path, h.entry])));
    }
  }
  return 0;
}

async function list(args: string[], api: () => ApiSettings): Promise<number> {
  const { values, positionals } = parseCommandArgs({ args, allowPositionals: true, options: { issuer: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } } }, REVOKE_USAGE);
  if (positionals.length) throw usageError(`unexpected argument ${positionals[0]}`, REVOKE_USAGE);
  const query = new URLSearchParams({ ...(values.issuer ? { issuer: values.issuer } : {}), ...(values.limit ? { limit: values.limit } : {}) });
  const rows = await callApi<Outcome['revoked']>(api(), 'GET', `/api/v1/revocations${query.size ? `?${query}` : ''}`);
  if (values.json) console.log(JSON.stringify(rows, null, 2));
  else console.log(rows.length ? table(['SERIAL', 'REVOKED', 'REASON', 'ISSUING CA'], rows.map((r) => [r.serial, shortTime(r.revokedAt), r.reason, r.issuingCaId])) : 'nothing revoked');
  return 0;
}

async function publishCrl(args: string[], api: () => ApiSettings): Promise<number> {
  const { values, positionals } = parseCommandArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' } } }, REVOKE_USAGE);
  const ca = onePositional(positionals, 'the issuing CA (ID or NAME)', REVOKE_USAGE);
  const crl = await callApi<{ crlNumber: string; entries: number; nextUpdate: string }>(api(), 'POST', `/api/v1/issuing-cas/${encodeURIComponent(ca)}/crl`);
  if (values.json) console.log(JSON.stringify(crl, null, 2));
  else console.log(`CRL #${crl.crlNumber} published: ${crl.entries} revoked, next update ${shortTime(crl.nextUpdate)}`);
  return 0;
}
