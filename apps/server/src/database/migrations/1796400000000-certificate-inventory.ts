import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Certificates issued by the ACME server, kept in inventory shape (acme_order_certificates), the
 * certificate an order renews (acme_orders.replaces_serial), and certificate_inventory: every
 * certificate the inventory holds, wherever it was found. The view's columns are documented in
 * apps/server/src/app/inventory/certificate-inventory.ts.
 */
export class CertificateInventory1796400000000 implements MigrationInterface {
  name = 'CertificateInventory1796400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "acme_order_certificates" ("order_id" uuid NOT NULL, "account_id" uuid NOT NULL, "issuing_ca_id" uuid NOT NULL, "serial" character varying(64) NOT NULL, "names_key" text NOT NULL, "fingerprint_sha256" character varying(64) NOT NULL, "subject" text NOT NULL, "issuer" text NOT NULL, "not_before" TIMESTAMP WITH TIME ZONE NOT NULL, "not_after" TIMESTAMP WITH TIME ZONE NOT NULL, "detail" jsonb NOT NULL, "der" bytea NOT NULL, "issued_at" TIMESTAMP WITH TIME ZONE NOT NULL, "replaced_at" TIMESTAMP WITH TIME ZONE, "replaced_by_serial" character varying(64), CONSTRAINT "PK_faa738f343e5aa1c19e54022558" PRIMARY KEY ("order_id"))`);
    await q.query(`CREATE UNIQUE INDEX "idx_acme_order_certificates_serial" ON "acme_order_certificates"  ("serial") `);
    await q.query(`CREATE INDEX "idx_acme_order_certificates_names" ON "acme_order_certificates"  ("account_id", "names_key") `);
    await q.query(`CREATE INDEX "idx_acme_order_certificates_not_after" ON "acme_order_certificates"  ("not_after") `);
    await q.query(`CREATE INDEX "idx_acme_order_certificates_fingerprint" ON "acme_order_certificates"  ("fingerprint_sha256") `);
    await q.query(`ALTER TABLE "acme_orders" ADD "replaces_serial" character varying(64)`);
    // An ACME certificate stays listed for 30 days after it expired (so its "expired" alert is seen),
    // not once replaced or revoked, and not while a host reports it (the host's row stands for it).
    await q.query(`CREATE VIEW "certificate_inventory" AS
      SELECT 'agent'::varchar(8) AS "source", i."agent_id" AS "location_id", i."agent_id", i."item_key"::text AS "item_key",
             a."hostname"::text AS "hostname", a."labels", i."path"::text AS "path", i."entry"::text AS "entry",
             i."fingerprint_sha256", i."subject", i."issuer", i."serial"::text AS "serial", i."not_before", i."not_after",
             i."detail", i."der", i."first_seen_at", i."updated_at"
        FROM "inventory_items" i JOIN "agents" a ON a."id" = i."agent_id"
       WHERE i."kind" = 'certificate'
      UNION ALL
      SELECT 'acme'::varchar(8), c."order_id", NULL::uuid, c."serial"::text,
             'acme:' || ca."name", '{}'::jsonb, '/acme/' || ca."name" || '/order/' || c."order_id", ''::text,
             c."fingerprint_sha256", c."subject", c."issuer", c."serial"::text, c."not_before", c."not_after",
             c."detail", c."der", c."issued_at", c."issued_at"
        FROM "acme_order_certificates" c
        JOIN "issuing_cas" ca ON ca."id" = c."issuing_ca_id"
        JOIN "issued_certificates" ic ON ic."serial" = c."serial"
       WHERE c."replaced_at" IS NULL AND ic."revoked_at" IS NULL AND c."not_after" > now() - interval '30 days'
         AND NOT EXISTS (SELECT 1 FROM "inventory_items" h WHERE h."fingerprint_sha256" = c."fingerprint_sha256")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW "certificate_inventory"`);
    await q.query(`ALTER TABLE "acme_orders" DROP COLUMN "replaces_serial"`);
    await q.query(`DROP INDEX "public"."idx_acme_order_certificates_fingerprint"`);
    await q.query(`DROP INDEX "public"."idx_acme_order_certificates_not_after"`);
    await q.query(`DROP INDEX "public"."idx_acme_order_certificates_names"`);
    await q.query(`DROP INDEX "public"."idx_acme_order_certificates_serial"`);
    await q.query(`DROP TABLE "acme_order_certificates"`);
  }
}
