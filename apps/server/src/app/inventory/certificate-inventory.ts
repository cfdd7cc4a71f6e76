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
 * condition on the item's own columns (alias i; not hostname or labels). The agents' page is cut from
 * inventory_items' primary key before agents are joined: through the view, the planner joins the
 * whole inventory to agents for every page (200,000 rows: a 3 s policy pass became 15 s).
 */
export function inventoryPage(source: InventorySource, limit: number, where = ''): string {
  const and = where ? `AND (${where})` : '';
  if (source === 'acme') {
    return `(SELECT * FROM certificate_inventory i WHERE i.source = 'acme' AND (i.location_id, i.item_key) > ($1::uuid, $2) ${and}
              ORDER BY i.location_id, i.item_key LIMIT ${limit}) i`;
  }
  return `(SELECT 'agent'::varchar(8) AS source, i.agent_id AS location_id, i.agent_id, i.item_key::text AS item_key, a.hostname::text AS hostname, a.labels,
                  i.path::text AS path, i.entry::text AS entry, i.fingerprint_sha256, i.subject, i.issuer, i.serial::text AS serial, i.not_before, i.not_after,
                  i.detail, i.der, i.first_seen_at, i.updated_at
             FROM (SELECT * FROM inventory_items i WHERE i.kind = 'certificate' AND (i.agent_id, i.item_key) > ($1::uuid, $2) ${and}
                   ORDER BY i.agent_id, i.item_key LIMIT ${limit}) i
             JOIN agents a ON a.id = i.agent_id) i`;
}
