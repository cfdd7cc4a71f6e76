import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { openTestDataSource } from '../../database/test-database';
import { queryRows } from '../../database/query-rows';
import { INVENTORY_SOURCES, inventoryPage, type InventorySource } from './certificate-inventory';

const CA = '00000000-0000-4000-9000-000000000001';
const ACCOUNT = '00000000-0000-4000-a000-000000000001';
const AGENT = '00000000-0000-4000-8000-000000000001';
const order = (n: number) => `00000000-0000-4000-b000-${String(n).padStart(12, '0')}`;

// inventoryPage cuts keyset pages from each source's own table (for speed) and repeats the rules of
// the certificate_inventory view: walked page by page, it must list exactly what the view lists.
describe.each(['pglite', 'postgresql'] as const)('inventory keyset pages agree with certificate_inventory on %s', (database) => {
  let ds: DataSource;
  let close: () => Promise<void>;

  /** An ACME certificate; `state` says why it should or should not be listed. */
  async function acme(n: number, state: 'standing' | 'replaced' | 'revoked' | 'expired-10d' | 'expired-40d' | 'on-a-host'): Promise<void> {
    const serial = `ac${n.toString(16)}`;
    const fingerprint = `${n}`.padStart(64, 'f');
    const notAfter = state === 'expired-10d' ? `now() - interval '10 days'` : state === 'expired-40d' ? `now() - interval '40 days'` : `now() + interval '60 days'`;
    await ds.query(
      `INSERT INTO issued_certificates (serial, issuing_ca_id, public_key_sha256, fingerprint_sha256, certificate_pem, not_before, not_after, issued_at, revoked_at)
       VALUES ($1::text, $2, md5($1::text), $3, '', now() - interval '90 days', ${notAfter}, now() - interval '90 days', ${state === 'revoked' ? 'now()' : 'NULL'})`,
      [serial, CA, fingerprint],
    );
    await ds.query(
      `INSERT INTO acme_orders (id, account_id, issuing_ca_id, status, identifiers, expires, certificate_serial)
       VALUES ($1, $2, $3, 'valid', jsonb_build_array(jsonb_build_object('type', 'dns', 'value', $4::text)), now(), $5)`,
      [order(n), ACCOUNT, CA, `n${n}.acme.test`, serial],
    );
    await ds.query(
      `INSERT INTO acme_order_certificates (order_id, account_id, issuing_ca_id, serial, names_key, fingerprint_sha256, subject, issuer, not_before, not_after, detail, der, issued_at, replaced_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'CN=lab', now() - interval '90 days', ${notAfter}, $8::jsonb, '\\x30'::bytea, now() - interval '90 days', ${state === 'replaced' ? 'now()' : 'NULL'})`,
      [order(n), ACCOUNT, CA, serial, `dns:n${n}.acme.test`, fingerprint, `CN=n${n}.acme.test`, JSON.stringify({ keyAlgorithm: n % 2 ? 'EC' : 'RSA' })],
    );
    if (state === 'on-a-host') await host(`acme-copy-${n}`, fingerprint);
  }
  async function host(key: string, fingerprint: string, keyAlgorithm = 'RSA'): Promise<void> {
    await ds.query(
      `INSERT INTO inventory_items (agent_id, item_key, kind, path, entry, fingerprint_sha256, subject, issuer, serial, not_before, not_after, detail, seen_sequence, first_seen_at, updated_at)
       VALUES ($1, $2::text, 'certificate', '/etc/ssl/' || $2::text, '0', $3, 'CN=' || $2::text, 'CN=other', $2::text, now(), now() + interval '30 days', $4::jsonb, 1, now(), now())`,
      [AGENT, key, fingerprint, JSON.stringify({ keyAlgorithm })],
    );
  }

  /** Every row of `source`, walked in pages of 2 as the policy pass and reports walk them. */
  async function walk(source: InventorySource, where = ''): Promise<string[]> {
    const seen: string[] = [];
    let cursor: [string, string] = ['00000000-0000-0000-0000-000000000000', ''];
    for (;;) {
      const rows = queryRows<{ location_id: string; item_key: string; hostname: string; path: string; fingerprint_sha256: string }>(
        await ds.query(`SELECT i.location_id, i.item_key, i.hostname, i.path, i.fingerprint_sha256 FROM ${inventoryPage(source, 2, where)} ORDER BY i.location_id, i.item_key`, cursor),
      );
      seen.push(...rows.map((r) => `${r.location_id}|${r.item_key}|${r.hostname}|${r.path}|${r.fingerprint_sha256}`));
      if (rows.length < 2) return seen;
      const last = rows[rows.length - 1];
      cursor = [last.location_id, last.item_key];
    }
  }
  const viewed = async (source: InventorySource, where = '') =>
    queryRows<{ k: string }>(
      await ds.query(`SELECT i.location_id || '|' || i.item_key || '|' || i.hostname || '|' || i.path || '|' || i.fingerprint_sha256 AS k FROM certificate_inventory i WHERE i.source = $1 ${where ? `AND (${where})` : ''} ORDER BY i.location_id, i.item_key`, [source]),
    ).map((r) => r.k);

  beforeAll(async () => {
    ({ ds, close } = await openTestDataSource(database, 'inventory_page'));
    await ds.query(`INSERT INTO issuing_cas (id, name, status, csr_pem, encrypted_private_key) VALUES ($1, 'lab', 'active', '', '')`, [CA]);
    await ds.query(`INSERT INTO acme_accounts (id, issuing_ca_id, key_thumbprint, jwk, status) VALUES ($1, $2, 'k', '{}', 'valid')`, [ACCOUNT, CA]);
    await ds.query(`INSERT INTO agents (id, hostname, host_facts, enrolled_at, certificate_serial, certificate_not_after, labels) VALUES ($1, 'web-1', '{}', now(), 'a1', now() + interval '30 days', '{}')`, [AGENT]);
    const states = ['standing', 'replaced', 'revoked', 'expired-10d', 'expired-40d', 'on-a-host'] as const;
    for (let n = 1; n <= 18; n++) await acme(n, states[n % states.length]);
    for (let n = 1; n <= 5; n++) await host(`own-${n}`, `${n}`.padStart(64, 'e'), n % 2 ? 'EC' : 'RSA');
  });
  afterAll(() => close?.());

  it.each(INVENTORY_SOURCES)('lists the %s source as the view does, page by page', async (source) => {
    const fromView = await viewed(source);
    expect(await walk(source)).toEqual(fromView);
    expect(fromView.length).toBe(source === 'acme' ? 6 : 8); // acme: 3 standing + 3 expired 10 days; hosts: 5 own + 3 ACME copies
  });

  it.each(INVENTORY_SOURCES)('applies an extra condition to the %s source as the view does', async (source) => {
    const where = `i.detail->>'keyAlgorithm' = 'EC'`;
    const fromView = await viewed(source, where);
    expect(fromView.length).toBeGreaterThan(0);
    expect(await walk(source, where)).toEqual(fromView);
  });
});
