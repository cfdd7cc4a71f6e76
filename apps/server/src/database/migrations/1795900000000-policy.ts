import { MigrationInterface, QueryRunner } from 'typeorm';

/** Fleet policies, their findings per certificate, and the SPKI hash of inventory certificates. */
export class Policy1795900000000 implements MigrationInterface {
  name = 'Policy1795900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "fleet_policies" ("name" character varying(64) NOT NULL, "document" jsonb NOT NULL, "active" boolean NOT NULL DEFAULT false, "updated_by" character varying(200) NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_fleet_policies" PRIMARY KEY ("name"))`);
    await q.query(`CREATE TABLE "policy_findings" ("fingerprint_sha256" character varying(64) NOT NULL, "rule_id" character varying(64) NOT NULL, "rule" character varying(32) NOT NULL, "severity" character varying(16) NOT NULL, "block_issuance" boolean NOT NULL, "message" text NOT NULL, "first_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL, "last_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_policy_findings" PRIMARY KEY ("fingerprint_sha256", "rule_id"))`);
    await q.query(`CREATE INDEX "idx_policy_findings_severity" ON "policy_findings" ("severity") `);
    await q.query(`CREATE TABLE "certificate_public_keys" ("fingerprint_sha256" character varying(64) NOT NULL, "public_key_sha256" character varying(64) NOT NULL, CONSTRAINT "PK_certificate_public_keys" PRIMARY KEY ("fingerprint_sha256"))`);
    await q.query(`CREATE INDEX "idx_certificate_public_keys_key" ON "certificate_public_keys" ("public_key_sha256") `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "public"."idx_certificate_public_keys_key"`);
    await q.query(`DROP TABLE "certificate_public_keys"`);
    await q.query(`DROP INDEX "public"."idx_policy_findings_severity"`);
    await q.query(`DROP TABLE "policy_findings"`);
    await q.query(`DROP TABLE "fleet_policies"`);
  }
}
