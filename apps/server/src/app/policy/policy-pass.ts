// One recomputation of the policy findings over the whole inventory, streamed in keyset batches so
// memory stays flat at any fleet size: derive missing SPKI hashes, count key use, evaluate every
// certificate copy (scopes see host and path), upsert findings, drop the ones that no longer hold.
import { DataSource, EntityManager } from 'typeorm';
import { certificateFactsFromDer, type CertificateFacts, type CompiledPolicy, type KeyUse, type PolicyFinding, type TlsVersion } from '@certfleet/policy';
import { queryRows } from '../../database/query-rows';
import { INVENTORY_SOURCES, inventoryPage } from '../inventory/certificate-inventory';

const BATCH = 2000;
const KEY_BATCH = 500;
const FIRST_CURSOR = ['00000000-0000-0000-0000-000000000000', ''];

export interface PassSummary {
  certificates: number;
  findings: number;
  removed: number;
  durationMs: number;
}

interface CertificateRow {
  /** The agent, or the ACME order (certificate_inventory.location_id). */
  location_id: string;
  item_key: string;
  hostname: string;
  path: string;
  fingerprint_sha256: string;
  issuer: string | null;
  not_before: Date | string | null;
  not_after: Date | string | null;
  key_algorithm: string | null;
  key_size: number | null;
  key_curve: string | null;
  signature_algorithm: string | null;
  is_ca: boolean | null;
  self_signed: boolean | null;
  dns_names: string[] | null;
  ip_addresses: string[] | null;
  public_key_sha256: string | null;
}

export async function runPolicyPass(m: EntityManager, policy: CompiledPolicy, now = new Date()): Promise<PassSummary> {
  const started = Date.now();
  await recordPublicKeys(m);
  const { keyUse, keyOf } = await reusedKeys(m);
  let certificates = 0;
  let findings = 0;
  for (const source of INVENTORY_SOURCES) {
    let cursor = FIRST_CURSOR;
    for (;;) {
      // One JSON text per row: the driver decodes one field instead of seventeen (most of the cost of
      // reading 200,000 rows on PGlite).
      const rows = queryRows<{ r: string }>(
        await m.query(
          `SELECT json_build_array(i.location_id, i.item_key, i.hostname, i.path, i.fingerprint_sha256, i.issuer, i.not_before, i.not_after,
                  i.detail->>'keyAlgorithm', (i.detail->>'keySize')::int, i.detail->>'keyCurve', i.detail->>'signatureAlgorithm',
                  (i.detail->>'isCa')::boolean, (i.detail->>'selfSigned')::boolean, i.detail->'dnsNames', i.detail->'ipAddresses')::text AS r
             FROM ${inventoryPage(source, BATCH, 'i.fingerprint_sha256 IS NOT NULL')}
            ORDER BY i.location_id, i.item_key`,
          cursor,
        ),
      ).map(({ r }) => certificateRow(JSON.parse(r) as unknown[], keyOf));
      if (rows.length === 0) break;
      const found = new Map<string, [string, PolicyFinding]>();
      for (const row of rows) {
        for (const f of policy.evaluateCertificate(factsOf(row), { keyUse })) found.set(`${row.fingerprint_sha256} ${f.ruleId}`, [row.fingerprint_sha256, f]);
      }
      await upsertFindings(m, [...found.values()], now);
      certificates += rows.length;
      findings += found.size;
      const last = rows[rows.length - 1];
      cursor = [last.location_id, last.item_key];
      if (rows.length < BATCH) break;
    }
  }
  findings += await evaluateEndpoints(m, policy, now);
  const removed = queryRows(await m.query('DELETE FROM policy_findings WHERE last_seen_at < $1 RETURNING rule_id', [now])).length;
  await m.query(
    `DELETE FROM certificate_public_keys k WHERE NOT EXISTS (SELECT 1 FROM inventory_items i WHERE i.fingerprint_sha256 = k.fingerprint_sha256)
        AND NOT EXISTS (SELECT 1 FROM acme_order_certificates c WHERE c.fingerprint_sha256 = k.fingerprint_sha256)`,
  );
  return { certificates, findings, removed, durationMs: Date.now() - started };
}

/**
 * Endpoint rules (e.g. TLS 1.0/1.1 accepted) over the latest probe of every TLS endpoint, servers'
 * targets and agents' listeners alike; a finding goes on the certificate the endpoint serves.
 */
async function evaluateEndpoints(m: EntityManager, policy: CompiledPolicy, now: Date): Promise<number> {
  const rows = queryRows<{ host: string; port: number; leaf_fingerprint_sha256: string; accepted_versions: TlsVersion[] }>(
    await m.query(
      `SELECT host, port, leaf_fingerprint_sha256, accepted_versions FROM endpoint_observations
        WHERE tls AND leaf_fingerprint_sha256 IS NOT NULL AND accepted_versions IS NOT NULL
        ORDER BY leaf_fingerprint_sha256, host, port`,
    ),
  );
  const found = new Map<string, [string, PolicyFinding]>();
  for (const r of rows) {
    for (const f of policy.evaluateEndpoint({ host: r.host, address: `${r.host}:${r.port}`, acceptedVersions: r.accepted_versions })) {
      const key = `${r.leaf_fingerprint_sha256} ${f.ruleId}`;
      if (!found.has(key)) found.set(key, [r.leaf_fingerprint_sha256, f]);
    }
  }
  await upsertFindings(m, [...found.values()], now);
  return found.size;
}

// Only keys carried by more than one certificate can break the key-reuse rule; the others need no hash.
function certificateRow(v: unknown[], keyOf: Map<string, string>): CertificateRow {
  const [location_id, item_key, hostname, path, fingerprint_sha256, issuer, not_before, not_after, key_algorithm, key_size, key_curve, signature_algorithm, is_ca, self_signed, dns_names, ip_addresses] = v as [
    string, string, string, string, string, string | null, string | null, string | null, string | null, number | null, string | null, string | null, boolean | null, boolean | null, string[] | null, string[] | null,
  ];
  return { location_id, item_key, hostname, path, fingerprint_sha256, issuer, not_before, not_after, key_algorithm, key_size, key_curve, signature_algorithm, is_ca, self_signed, dns_names, ip_addresses, public_key_sha256: keyOf.get(fingerprint_sha256) ?? null };
}

function factsOf(r: CertificateRow): CertificateFacts {
  return {
    fingerprintSha256: r.fingerprint_sha256,
    issuer: r.issuer ?? '',
    keyAlgorithm: r.key_algorithm ?? '',
    keySize: r.key_size ?? 0,
    keyCurve: r.key_curve ?? '',
    signatureAlgorithm: r.signature_algorithm ?? '',
    notBefore: r.not_before ? new Date(r.not_before) : undefined,
    notAfter: r.not_after ? new Date(r.not_after) : undefined,
    dnsNames: r.dns_names ?? [],
    ipAddresses: r.ip_addresses ?? [],
    isCa: r.is_ca === true,
    selfSigned: r.self_signed === true,
    publicKeySha256: r.public_key_sha256 ?? '',
    host: r.hostname,
    path: r.path,
  };
}

/** SPKI hashes for inventory certificates that have none yet, parsed once from their DER. */
export async function recordPublicKeys(m: EntityManager): Promise<number> {
  // Each table on its own: DISTINCT ON over a UNION of both sorted the whole inventory per batch.
  return (await recordPublicKeysOf(m, 'inventory_items', `i.kind = 'certificate'`)) + (await recordPublicKeysOf(m, 'acme_order_certificates', 'true'));
}

async function recordPublicKeysOf(m: EntityManager, table: 'inventory_items' | 'acme_order_certificates', condition: string): Promise<number> {
  let recorded = 0;
  // Walks the fingerprint index from where the last batch stopped: asking each time for "the first
  // ones without a key" rescanned the inventory per batch (quadratic: 68 s for 200,000 on PGlite).
  let after = '';
  for (;;) {
    const rows = queryRows<{ fingerprint_sha256: string; der: string | null }>(
      await m.query(
        `SELECT DISTINCT ON (i.fingerprint_sha256) i.fingerprint_sha256, encode(i.der, 'hex') AS der
           FROM ${table} i
          WHERE ${condition} AND i.fingerprint_sha256 > $1
            AND NOT EXISTS (SELECT 1 FROM certificate_public_keys k WHERE k.fingerprint_sha256 = i.fingerprint_sha256)
          ORDER BY i.fingerprint_sha256 LIMIT ${KEY_BATCH}`,
        [after],
      ),
    );
    if (rows.length === 0) return recorded;
    const params: string[] = [];
    const tuples = rows.map((r) => {
      const key = r.der ? (certificateFactsFromDer(Buffer.from(r.der, 'hex'))?.publicKeySha256 ?? '') : '';
      return `($${params.push(r.fingerprint_sha256)}, $${params.push(key)})`;
    });
    await m.query(`INSERT INTO certificate_public_keys (fingerprint_sha256, public_key_sha256) VALUES ${tuples.join(', ')} ON CONFLICT DO NOTHING`, params);
    recorded += rows.length;
    if (rows.length < KEY_BATCH) return recorded;
    after = rows[rows.length - 1].fingerprint_sha256;
  }
}

/** Keys carried by more than one distinct certificate in the inventory (the only ones key reuse needs). */
export async function inventoryKeyUse(m: EntityManager | DataSource, publicKeySha256?: string): Promise<KeyUse> {
  return (await reusedKeys(m, publicKeySha256)).keyUse;
}

/** inventoryKeyUse, and the key of each certificate it counted (by fingerprint). */
async function reusedKeys(m: EntityManager | DataSource, publicKeySha256?: string): Promise<{ keyUse: KeyUse; keyOf: Map<string, string> }> {
  const rows = queryRows<{ public_key_sha256: string; fingerprint_sha256: string }>(
    await m.query(
      `SELECT k.public_key_sha256, k.fingerprint_sha256 FROM certificate_public_keys k
        WHERE k.public_key_sha256 <> '' ${publicKeySha256 ? 'AND k.public_key_sha256 = $1' : ''}
          AND (EXISTS (SELECT 1 FROM inventory_items i WHERE i.fingerprint_sha256 = k.fingerprint_sha256)
               OR EXISTS (SELECT 1 FROM certificate_inventory i WHERE i.source = 'acme' AND i.fingerprint_sha256 = k.fingerprint_sha256))
          AND k.public_key_sha256 IN (SELECT public_key_sha256 FROM certificate_public_keys GROUP BY public_key_sha256 HAVING count(*) > 1 ${publicKeySha256 ? 'OR public_key_sha256 = $1' : ''})`,
      publicKeySha256 ? [publicKeySha256] : [],
    ),
  );
  const certificatesPerKey = new Map<string, number>();
  const counted = new Set<string>();
  const keyOf = new Map<string, string>();
  for (const r of rows) {
    counted.add(r.fingerprint_sha256);
    keyOf.set(r.fingerprint_sha256, r.public_key_sha256);
    certificatesPerKey.set(r.public_key_sha256, (certificatesPerKey.get(r.public_key_sha256) ?? 0) + 1);
  }
  return { keyUse: { certificatesPerKey, counted }, keyOf };
}

async function upsertFindings(m: EntityManager, found: [string, PolicyFinding][], now: Date): Promise<void> {
  for (let i = 0; i < found.length; i += 500) {
    const params: unknown[] = [now];
    const tuples = found.slice(i, i + 500).map(([fp, f]) => {
      const at = [fp, f.ruleId, f.rule, f.severity, f.blockIssuance, f.message].map((v) => `$${params.push(v)}`);
      return `(${at.join(', ')}, $1, $1)`;
    });
    await m.query(
      `INSERT INTO policy_findings (fingerprint_sha256, rule_id, rule, severity, block_issuance, message, first_seen_at, last_seen_at)
       VALUES ${tuples.join(', ')}
       ON CONFLICT (fingerprint_sha256, rule_id) DO UPDATE SET rule = EXCLUDED.rule, severity = EXCLUDED.severity,
         block_issuance = EXCLUDED.block_issuance, message = EXCLUDED.message, last_seen_at = EXCLUDED.last_seen_at`,
      params,
    );
  }
}
