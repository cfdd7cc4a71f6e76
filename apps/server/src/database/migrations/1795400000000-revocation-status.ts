import { MigrationInterface, QueryRunner } from 'typeorm';

/** Revocation checking of inventory certificates: the last answer per certificate fingerprint. */
export class RevocationStatus1795400000000 implements MigrationInterface {
  name = 'RevocationStatus1795400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "certificate_revocation_status" ("fingerprint_sha256" character varying(64) NOT NULL, "status" character varying(16) NOT NULL, "reason" character varying(32), "revoked_at" TIMESTAMP WITH TIME ZONE, "source" character varying(8) NOT NULL, "url" text, "detail" text NOT NULL, "checked_at" TIMESTAMP WITH TIME ZONE NOT NULL, "next_check_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_af0745a2c46d6e1d6ac80449443" PRIMARY KEY ("fingerprint_sha256"))`);
    await q.query(`CREATE INDEX "idx_certificate_revocation_status_next_check" ON "certificate_revocation_status"  ("next_check_at") `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "public"."idx_certificate_revocation_status_next_check"`);
    await q.query(`DROP TABLE "certificate_revocation_status"`);
  }
}
