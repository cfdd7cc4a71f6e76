import { MigrationInterface, QueryRunner } from 'typeorm';

/** The ACME server (RFC 8555) of the internal issuing CAs: accounts, EAB keys, orders, authorizations, nonces. */
export class AcmeServer1795600000000 implements MigrationInterface {
  name = 'AcmeServer1795600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "acme_accounts" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "issuing_ca_id" uuid NOT NULL, "key_thumbprint" character varying(64) NOT NULL, "jwk" jsonb NOT NULL, "status" character varying(16) NOT NULL, "contact" jsonb NOT NULL DEFAULT '[]', "eab_key_id" uuid, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_30ed14a27d166ca113f4a33c871" PRIMARY KEY ("id"))`);
    await q.query(`CREATE UNIQUE INDEX "idx_acme_accounts_key" ON "acme_accounts"  ("issuing_ca_id", "key_thumbprint") `);
    await q.query(`CREATE TABLE "acme_authorizations" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "order_id" uuid NOT NULL, "account_id" uuid NOT NULL, "identifier" jsonb NOT NULL, "status" character varying(16) NOT NULL, "expires" TIMESTAMP WITH TIME ZONE NOT NULL, "challenges" jsonb NOT NULL, CONSTRAINT "PK_bcf036f282fb155a566b9e0a0f4" PRIMARY KEY ("id"))`);
    await q.query(`CREATE INDEX "idx_acme_authorizations_order" ON "acme_authorizations"  ("order_id") `);
    await q.query(`CREATE TABLE "acme_eab_keys" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "issuing_ca_id" uuid, "encrypted_hmac_key" text NOT NULL, "description" character varying(200) NOT NULL DEFAULT '', "created_by" character varying(200) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "used_at" TIMESTAMP WITH TIME ZONE, "account_id" uuid, CONSTRAINT "PK_863fa7658ab03383d5080346940" PRIMARY KEY ("id"))`);
    await q.query(`CREATE TABLE "acme_nonces" ("value" character varying(64) NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_9a1a0994a48b14a1c3cfb9cc563" PRIMARY KEY ("value"))`);
    await q.query(`CREATE TABLE "acme_orders" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "account_id" uuid NOT NULL, "issuing_ca_id" uuid NOT NULL, "status" character varying(16) NOT NULL, "identifiers" jsonb NOT NULL, "expires" TIMESTAMP WITH TIME ZONE NOT NULL, "error" jsonb, "certificate_serial" character varying(64), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_014862c60d65b53039a8b893a38" PRIMARY KEY ("id"))`);
    await q.query(`CREATE UNIQUE INDEX "idx_acme_orders_serial" ON "acme_orders"  ("certificate_serial") WHERE "certificate_serial" IS NOT NULL`);
    await q.query(`CREATE INDEX "idx_acme_orders_account" ON "acme_orders"  ("account_id") `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "public"."idx_acme_orders_account"`);
    await q.query(`DROP INDEX "public"."idx_acme_orders_serial"`);
    await q.query(`DROP TABLE "acme_orders"`);
    await q.query(`DROP TABLE "acme_nonces"`);
    await q.query(`DROP TABLE "acme_eab_keys"`);
    await q.query(`DROP INDEX "public"."idx_acme_authorizations_order"`);
    await q.query(`DROP TABLE "acme_authorizations"`);
    await q.query(`DROP INDEX "public"."idx_acme_accounts_key"`);
    await q.query(`DROP TABLE "acme_accounts"`);
  }
}
