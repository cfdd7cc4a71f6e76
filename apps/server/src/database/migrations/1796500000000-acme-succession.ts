import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Which CA took over from a compromised one, so its ACME directory keeps working for existing
 * clients; and an index for RFC 9773's alreadyReplaced check on newOrder's "replaces".
 */
export class AcmeSuccession1796500000000 implements MigrationInterface {
  name = 'AcmeSuccession1796500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "issuing_cas" ADD "superseded_by_id" uuid`);
    // Campaigns that already rotated a CA record the succession they made (the latest, if several).
    await q.query(
      `UPDATE "issuing_cas" c SET "superseded_by_id" = b."replacement_ca_id"
         FROM (SELECT DISTINCT ON ("compromised_ca_id") "compromised_ca_id", "replacement_ca_id" FROM "breakglass_campaigns"
                WHERE "replacement_ca_id" IS NOT NULL AND "started_at" IS NOT NULL ORDER BY "compromised_ca_id", "started_at" DESC) b
        WHERE b."compromised_ca_id" = c."id" AND c."status" = 'revoked'`,
    );
    await q.query(`CREATE INDEX "idx_acme_orders_replaces" ON "acme_orders"  ("replaces_serial") WHERE "replaces_serial" IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "public"."idx_acme_orders_replaces"`);
    await q.query(`ALTER TABLE "issuing_cas" DROP COLUMN "superseded_by_id"`);
  }
}
