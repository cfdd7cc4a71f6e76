import { MigrationInterface, QueryRunner } from 'typeorm';

/** Break-glass campaigns and their items; issuing CAs can be revoked. */
export class Breakglass1795500000000 implements MigrationInterface {
  name = 'Breakglass1795500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "breakglass_campaigns" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "selector" jsonb NOT NULL, "reason" character varying(32) NOT NULL, "status" character varying(16) NOT NULL, "concurrency" integer NOT NULL, "compromised_ca_id" uuid, "replacement_ca_id" uuid, "revoked_count" integer NOT NULL DEFAULT '0', "created_by" character varying(200) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "started_at" TIMESTAMP WITH TIME ZONE, "completed_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_fc4a7d272a377e84c63c3787474" PRIMARY KEY ("id"))`);
    await q.query(`CREATE TABLE "breakglass_items" ("campaign_id" uuid NOT NULL, "seq" integer NOT NULL, "state" character varying(16) NOT NULL, "agent_id" uuid NOT NULL, "hostname" character varying(255) NOT NULL, "managed_certificate_id" uuid, "location" character varying(4096) NOT NULL, "old_serial" character varying(64), "new_serial" character varying(64), "last_error" text, "started_at" TIMESTAMP WITH TIME ZONE, "finished_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_77ba561dade3c67994aff61b1f7" PRIMARY KEY ("campaign_id", "seq"))`);
    await q.query(`CREATE INDEX "idx_breakglass_items_state" ON "breakglass_items"  ("campaign_id", "state") `);
    await q.query(`ALTER TABLE "issuing_cas" ADD "revoked_at" TIMESTAMP WITH TIME ZONE`);
    await q.query(`ALTER TABLE "issuing_cas" ADD "revocation_reason" character varying(32)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "issuing_cas" DROP COLUMN "revocation_reason"`);
    await q.query(`ALTER TABLE "issuing_cas" DROP COLUMN "revoked_at"`);
    await q.query(`DROP INDEX "public"."idx_breakglass_items_state"`);
    await q.query(`DROP TABLE "breakglass_items"`);
    await q.query(`DROP TABLE "breakglass_campaigns"`);
  }
}
