// For specs only: an account's requests to AcmeOrdersService as the controller hands them over
// (JWS already verified), and a whole order with its challenges counted as passed.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { readCertificateFile } from '@certfleet/pki';
import type { AcmeAccount } from './acme-account.entity';
import { AcmeOrder } from './acme-order.entity';
import type { AcmeOrdersService } from './acme-orders.service';
import type { AcmeDirectory, AuthenticatedRequest } from './acme-request';
import { certIdOf } from './renewal-info';

/** A verified request of `account` with this payload. */
export function accountRequest(account: AcmeAccount, payload: Record<string, unknown> | null): AuthenticatedRequest {
  return { jws: {} as AuthenticatedRequest['jws'], payload, account, jwk: account.jwk };
}

/** A PKCS#10 request for these DNS names (P-256 key written to `keyFile`), base64url DER as in finalize. */
export function csrFor(names: string[], keyFile: string): string {
  return execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`, '-outform', 'DER'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  }).toString('base64url');
}

export interface IssuedByAcme {
  orderId: string;
  serial: string;
  fingerprint: string;
  /** What the client downloads: the leaf and the chain. */
  pem: string;
}

/**
 * newOrder, authorizations set valid (challenges are validated for real in acme-orders.service.spec
 * and by certbot and lego in e2e/acme-server), finalize, download. `replaces`: RFC 9773.
 */
export async function issueThroughAcme(ds: DataSource, orders: AcmeOrdersService, dir: AcmeDirectory, account: AcmeAccount, names: string[], work: string, replaces?: IssuedByAcme): Promise<IssuedByAcme> {
  const req = (payload: Record<string, unknown> | null) => accountRequest(account, payload);
  const created = await orders.newOrder(dir, req({ identifiers: names.map((value) => ({ type: 'dns', value })), ...(replaces ? { replaces: certIdOf(replaces.pem) } : {}) }));
  const orderId = created.headers!.Location.split('/').pop()!;
  await ds.query(`UPDATE acme_authorizations SET status = 'valid' WHERE order_id = $1`, [orderId]);
  await orders.finalize(dir, orderId, req({ csr: csrFor(names, join(work, 'k.pem')) }));
  const { certificateSerial } = await ds.getRepository(AcmeOrder).findOneByOrFail({ id: orderId });
  const pem = await orders.certificate(dir, certificateSerial!, req(null));
  const [leaf] = readCertificateFile(Buffer.from(pem), { path: 'fullchain.pem', passwords: [] }).certificates;
  return { orderId, serial: certificateSerial!, fingerprint: leaf.fingerprintSha256, pem };
}
