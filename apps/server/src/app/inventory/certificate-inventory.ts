/**
 * certificate_inventory (a view, migration 1796400000000): every certificate in the inventory,
 * wherever it is known from. Read it, not inventory_items, wherever "all certificates" is meant
 * (listings, reports, expiry alerts, policy); read inventory_items where only what is installed on a
 * host counts (revoked-installed alerts, break-glass replacement).
 *
 * - source 'agent': found on a host by its agent. location_id = agent_id = the agent, item_key = the
 *   agent's key for it, hostname and labels are the agent's.
 * - source 'acme': issued by the ACME server and not (or not yet) found on any host. location_id =
 *   the ACME order, agent_id = NULL, item_key = the serial, hostname = "acme:<CA name>", path = the
 *   order's path on the ACME server, labels = {}. It leaves the view once a newer order replaces it,
 *   when it is revoked, 30 days after it expired, and while an agent reports it.
 *
 * (location_id, item_key) is unique: keyset pagination walks it.
 */
export type InventorySource = 'agent' | 'acme';

/** The sources in the order keyset walks visit them. */
export const INVENTORY_SOURCES: readonly InventorySource[] = ['agent', 'acme'];

/**
 * One keyset page of one source of certificate_inventory, as a FROM item aliased `i` with the view's
 * columns. $1, $2 are the cursor (location_id, item_key) within that source; `where` is an extra
 * condition on the item's own columns (alias i; not location_id, item_key, hostname, labels or the
 * dates). Each page is cut from its table's primary key before anything is joined: through the view,
 * the planner joins the whole inventory to agents for every page (200,000 rows: a 3 s policy pass
 * became 15 s), and builds the whole ACME source for every page. The ACME page repeats the view's
 * rules for that source (migration 1796400000000); inventory-page.spec checks that both agree. An
 * order has one certificate, so the ACME page is ordered by order_id alone and read along the
 * primary key from the cursor; ordered by (order_id, serial), every page sorted the whole source.
 * OFFSET 0 keeps its EXISTS tests per-row index lookups (PostgreSQL does not turn such a subquery
 * into a join): as anti-joins, the planner hashed all of inventory_items for every page (150 ms a
 * page on 200,000 rows).
 */
export function inventoryPage(source: InventorySource, limit: number, where = ''): string {
  const and = where ? `AND (${where})` : '';
  if (source === 'acme') {
    return `(SELECT 'acme'::varchar(8) AS source, i.order_id AS location_id, NULL::uuid AS agent_id, i.serial::text AS item_key, 'acme:' || ca.name AS hostname, '{}'::jsonb AS labels,
                  '/acme/' || ca.name || '/order/' || i.order_id AS path, ''::text AS entry, i.fingerprint_sha256, i.subject, i.issuer, i.serial::text AS serial, i.not_before, i.not_after,
                  i.detail, i.der, i.issued_at AS first_seen_at, i.issued_at AS updated_at
             FROM (SELECT i.* FROM acme_order_certificates i
                    WHERE i.order_id >= $1::uuid AND (i.order_id, i.serial::text) > ($1::uuid, $2) AND i.replaced_at IS NULL AND i.not_after > now() - interval '30 days'
                      AND EXISTS (SELECT 1 FROM issued_certificates ic WHERE ic.serial = i.serial AND ic.revoked_at IS NULL OFFSET 0)
                      AND NOT EXISTS (SELECT 1 FROM inventory_items h WHERE h.fingerprint_sha256 = i.fingerprint_sha256 OFFSET 0) ${and}
                    ORDER BY i.order_id LIMIT ${limit}) i
             JOIN issuing_cas ca ON ca.id = i.issuing_ca_id) i`;
  }
  return `(SELECT 'agent'::varchar(8) AS source, i.agent_id AS location_id, i.agent_id, i.item_key::text AS item_key, a.hostname::text AS hostname, a.labels,
                  i.path::text AS path, i.entry::text AS entry, i.fingerprint_sha256, i.subject, i.issuer, i.serial::text AS serial, i.not_before, i.not_after,
                  i.detail, i.der, i.first_seen_at, i.updated_at
             FROM (SELECT * FROM inventory_items i WHERE i.kind = 'certificate' AND (i.agent_id, i.item_key) > ($1::uuid, $2) ${and}
                   ORDER BY i.agent_id, i.item_key LIMIT ${limit}) i
             JOIN agents a ON a.id = i.agent_id) i`;
}
