import { MigrationInterface, QueryRunner } from 'typeorm';

/** ACME issuers, the certificates they issued, and managed certificates issued through ACME. */
export class AcmeIssuer1795700000000 implements MigrationInterface {
  name = 'AcmeIssuer1795700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "acme_issuers" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" character varying(100) NOT NULL, "directory_url" text NOT NULL, "contact_email" character varying(320), "eab_kid" character varying(200), "encrypted_eab_hmac_key" text, "directory_trust_pem" text, "root_pem" text, "ari_enabled" boolean NOT NULL DEFAULT true, "max_issuances_per_day" integer NOT NULL DEFAULT '3', "encrypted_account_key" text NOT NULL, "account_url" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "removed_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "UQ_acme_issuers_name" UNIQUE ("name"), CONSTRAINT "PK_acme_issuers" PRIMARY KEY ("id"))`);
    await q.query(`CREATE TABLE "acme_certificates" ("serial" character varying(64) NOT NULL, "acme_issuer_id" uuid NOT NULL, "managed_certificate_id" uuid NOT NULL, "job_id" uuid NOT NULL, "public_key_sha256" character varying(64) NOT NULL, "fingerprint_sha256" character varying(64) NOT NULL, "certificate_pem" text NOT NULL, "chain_pem" text NOT NULL, "root_pem" text NOT NULL, "order_url" text, "not_before" TIMESTAMP WITH TIME ZONE NOT NULL, "not_after" TIMESTAMP WITH TIME ZONE NOT NULL, "issued_at" TIMESTAMP WITH TIME ZONE NOT NULL, "revoked_at" TIMESTAMP WITH TIME ZONE, "revocation_reason" character varying(32), CONSTRAINT "UQ_acme_certificates_job" UNIQUE ("job_id"), CONSTRAINT "PK_acme_certificates" PRIMARY KEY ("serial"))`);
    await q.query(`CREATE INDEX "idx_acme_certificates_managed" ON "acme_certificates"  ("managed_certificate_id", "issued_at") `);
    await q.query(`ALTER TABLE "managed_certificates" ADD "acme_issuer_id" uuid`);
    await q.query(`ALTER TABLE "managed_certificates" ADD "acme_challenge" jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "managed_certificates" DROP COLUMN "acme_challenge"`);
    await q.query(`ALTER TABLE "managed_certificates" DROP COLUMN "acme_issuer_id"`);
    await q.query(`DROP INDEX "public"."idx_acme_certificates_managed"`);
    await q.query(`DROP TABLE "acme_certificates"`);
    await q.query(`DROP TABLE "acme_issuers"`);
  }
}
