import { MigrationInterface, QueryRunner } from 'typeorm';

/** Agents, enrollment and API tokens, the fleet CA's credentials, and the discovered inventory. */
export class FleetFoundation1795000000000 implements MigrationInterface {
  name = 'FleetFoundation1795000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "agents" ("id" uuid NOT NULL, "hostname" character varying(255) NOT NULL, "host_facts" jsonb NOT NULL DEFAULT '{}', "enrolled_at" TIMESTAMP WITH TIME ZONE NOT NULL, "last_seen_at" TIMESTAMP WITH TIME ZONE, "certificate_serial" character varying(64) NOT NULL, "certificate_not_after" TIMESTAMP WITH TIME ZONE NOT NULL, "applied_sequence" bigint NOT NULL DEFAULT '0', "full_sync_sequence" bigint, "full_sync_required" boolean NOT NULL DEFAULT true, "last_scan_at" TIMESTAMP WITH TIME ZONE, "disabled_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_9c653f28ae19c5884d5baf6a1d9" PRIMARY KEY ("id"))`);
    await q.query(`CREATE TABLE "api_tokens" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" character varying(200) NOT NULL, "token_sha256" character varying(64) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "revoked_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "UQ_ab4ff43145288b954e76d167e6c" UNIQUE ("token_sha256"), CONSTRAINT "PK_c587455266b5fa8dace7194caac" PRIMARY KEY ("id"))`);
    await q.query(`CREATE TABLE "enrollment_tokens" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "token_sha256" character varying(64) NOT NULL, "description" character varying(500) NOT NULL DEFAULT '', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "used_at" TIMESTAMP WITH TIME ZONE, "used_by_agent_id" uuid, CONSTRAINT "UQ_72a41d104c6fe56cec25994d50f" UNIQUE ("token_sha256"), CONSTRAINT "PK_d9b043a74d8643fde7e6b948591" PRIMARY KEY ("id"))`);
    await q.query(`CREATE TABLE "authority_credentials" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "purpose" character varying(32) NOT NULL, "certificate_pem" text NOT NULL, "encrypted_private_key" text NOT NULL, "fingerprint_sha256" character varying(64) NOT NULL, "not_after" TIMESTAMP WITH TIME ZONE NOT NULL, "active" boolean NOT NULL DEFAULT true, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_7d37e917267c39280cf0d471867" PRIMARY KEY ("id"))`);
    await q.query(`CREATE TABLE "inventory_items" ("agent_id" uuid NOT NULL, "item_key" character varying(2048) NOT NULL, "kind" character varying(16) NOT NULL, "path" character varying(4096) NOT NULL, "entry" character varying(512) NOT NULL DEFAULT '', "fingerprint_sha256" character varying(64), "subject" text, "issuer" text, "serial" character varying(128), "not_before" TIMESTAMP WITH TIME ZONE, "not_after" TIMESTAMP WITH TIME ZONE, "detail" jsonb NOT NULL, "der" bytea, "seen_sequence" bigint NOT NULL, "first_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_33287203c8353966d35b184df01" PRIMARY KEY ("agent_id", "item_key"))`);
    await q.query(`CREATE INDEX "idx_inventory_items_not_after" ON "inventory_items"  ("not_after") `);
    await q.query(`CREATE INDEX "idx_inventory_items_fingerprint" ON "inventory_items"  ("fingerprint_sha256") `);
    await q.query(`ALTER TABLE "inventory_items" ADD CONSTRAINT "FK_49d7408b41e352249abd66929d5" FOREIGN KEY ("agent_id") REFERENCES "agents"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "inventory_items" DROP CONSTRAINT "FK_49d7408b41e352249abd66929d5"`);
    await q.query(`DROP INDEX "public"."idx_inventory_items_fingerprint"`);
    await q.query(`DROP INDEX "public"."idx_inventory_items_not_after"`);
    await q.query(`DROP TABLE "inventory_items"`);
    await q.query(`DROP TABLE "authority_credentials"`);
    await q.query(`DROP TABLE "enrollment_tokens"`);
    await q.query(`DROP TABLE "api_tokens"`);
    await q.query(`DROP TABLE "agents"`);
  }
}
