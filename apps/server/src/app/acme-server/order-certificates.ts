// What the ACME server issued, kept in the inventory's shape (acme_order_certificates, listed by the
// certificate_inventory view): a certificate handed to certbot or lego is in the inventory from the
// moment it is issued, not only once an agent happens to find it on a host.
import { DataSource, EntityManager } from 'typeorm';
import { readCertificateFile } from '@certfleet/pki';
import { toJsonText } from '../../common/json';
import { queryRows } from '../../database/query-rows';
import type { AcmeIdentifier } from './acme-order.entity';

export interface OrderCertificateInput {
  orderId: string;
  accountId: string;
  issuingCaId: string;
  identifiers: AcmeIdentifier[];
  /** The certificate the order said it replaces (RFC 9773), as a serial; null when it named none. */
  replacesSerial: string | null;
  serial: string;
  fingerprintSha256: string;
  /** The leaf, then the chain the client downloads (as an agent would read fullchain.pem). */
  certificatePem: string;
  chainPem: string;
  issuedAt: Date;
}

/** The order's identifiers, sorted: a later order of the same account with the same key renews this one. */
function namesKey(identifiers: AcmeIdentifier[]): string {
  return identifiers
    .map((i) => `${i.type}:${i.value}`)
    .sort()
    .join(',');
}

/**
 * Records the certificate of a valid order and retires what it replaces: the certificate named by
 * "replaces", and earlier certificates of the same account for the same names. Idempotent: a
 * certificate already recorded is left as it is.
 */
export async function recordOrderCertificate(m: EntityManager | DataSource, c: OrderCertificateInput): Promise<void> {
  const [leaf] = readCertificateFile(Buffer.from(`${c.certificatePem.trim()}\n${c.chainPem.trim()}\n`), { path: '', passwords: [] }).certificates;
  if (leaf?.fingerprintSha256 !== c.fingerprintSha256) throw new Error(`the certificate of ACME order ${c.orderId} (serial ${c.serial}) could not be read back`);
  const { der, publicKeySha256: _key, file: _file, ...finding } = leaf;
  const names = namesKey(c.identifiers);
  const inserted = queryRows(
    await m.query(
      `INSERT INTO acme_order_certificates (order_id, account_id, issuing_ca_id, serial, names_key, fingerprint_sha256, subject, issuer, not_before, not_after, detail, der, issued_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, decode($12, 'hex'), $13)
       ON CONFLICT (order_id) DO NOTHING RETURNING order_id`,
      [
        c.orderId, c.accountId, c.issuingCaId, c.serial, names, leaf.fingerprintSha256, leaf.subject, leaf.issuer, leaf.notBefore, leaf.notAfter,
        toJsonText({ ...finding, acmeAccountId: c.accountId, acmeOrderId: c.orderId }), der.toString('hex'), c.issuedAt,
      ],
    ),
  );
  if (inserted.length === 0) return;
  await m.query(
    `UPDATE acme_order_certificates SET replaced_at = $1, replaced_by_serial = $2
      WHERE replaced_at IS NULL AND order_id <> $3 AND issued_at <= $1
        AND (serial = $4 OR (account_id = $5 AND names_key = $6))`,
    [c.issuedAt, c.serial, c.orderId, c.replacesSerial ?? '', c.accountId, names],
  );
}

/**
 * Records valid orders whose certificate is not recorded yet (orders finalized before this table
 * existed), oldest first so that renewals retire what they renewed. Returns how many it recorded.
 */
export async function recordMissingOrderCertificates(ds: DataSource, onError: (orderId: string, err: Error) => void, batch = 200): Promise<number> {
  let recorded = 0;
  let after: [Date, string] = [new Date(0), '00000000-0000-0000-0000-000000000000'];
  for (;;) {
    const rows = queryRows<{ id: string; account_id: string; issuing_ca_id: string; identifiers: AcmeIdentifier[]; replaces_serial: string | null; serial: string; fingerprint_sha256: string; certificate_pem: string; chain_pem: string; issued_at: Date }>(
      await ds.query(
        `SELECT o.id, o.account_id, o.issuing_ca_id, o.identifiers, o.replaces_serial, ic.serial, ic.fingerprint_sha256, ic.certificate_pem, ic.issued_at,
                coalesce(ca.certificate_pem, '') || E'\\n' || ca.chain_pem AS chain_pem
           FROM acme_orders o
           JOIN issued_certificates ic ON ic.serial = o.certificate_serial
           JOIN issuing_cas ca ON ca.id = o.issuing_ca_id
          WHERE o.status = 'valid' AND (ic.issued_at, o.id) > ($1, $2::uuid)
            AND NOT EXISTS (SELECT 1 FROM acme_order_certificates c WHERE c.order_id = o.id)
          ORDER BY ic.issued_at, o.id LIMIT ${batch}`,
        after,
      ),
    );
    for (const r of rows) {
      try {
        await recordOrderCertificate(ds, {
          orderId: r.id, accountId: r.account_id, issuingCaId: r.issuing_ca_id, identifiers: r.identifiers, replacesSerial: r.replaces_serial,
          serial: r.serial, fingerprintSha256: r.fingerprint_sha256, certificatePem: r.certificate_pem, chainPem: r.chain_pem, issuedAt: new Date(r.issued_at),
        });
        recorded++;
      } catch (err) {
        onError(r.id, err as Error);
      }
    }
    if (rows.length < batch) return recorded;
    const last = rows[rows.length - 1];
    after = [new Date(last.issued_at), last.id];
  }
}
