// The issuer of an inventory certificate, found in the inventory: a certificate whose subject is
// the leaf's issuer name and whose key verifies the leaf's signature (a name alone is not proof:
// renewed and cross-signed CAs share names). Its key is what embedded SCTs are bound to.
import { X509Certificate } from 'node:crypto';
import { DataSource } from 'typeorm';
import { queryRows } from '../../database/query-rows';

/** Distinct certificates tried per lookup: plenty for one CA name, bounded for a hostile inventory. */
const MAX_CANDIDATES = 50;

/** The issuer's DER SubjectPublicKeyInfo, or null when no inventory certificate issued `leaf`. */
export async function inventoryIssuerKey(ds: DataSource, leaf: X509Certificate, issuerName: string): Promise<Buffer | null> {
  const rows = queryRows<{ der: Uint8Array }>(
    await ds.query(
      `SELECT DISTINCT ON (fingerprint_sha256) der FROM inventory_items WHERE kind = 'certificate' AND subject = $1 AND der IS NOT NULL LIMIT ${MAX_CANDIDATES}`,
      [issuerName],
    ),
  );
  for (const row of rows) {
    try {
      const candidate = new X509Certificate(Buffer.from(row.der));
      if (leaf.verify(candidate.publicKey)) return candidate.publicKey.export({ type: 'spki', format: 'der' });
    } catch {
      // Not a certificate Node can read, or a key type it cannot verify with: not the issuer.
    }
  }
  return null;
}
