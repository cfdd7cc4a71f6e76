import { MigrationInterface, QueryRunner } from 'typeorm';

/** Certificate Transparency monitoring: logs (with the read position), watched domains, findings. */
export class CtMonitor1796100000000 implements MigrationInterface {
  name = 'CtMonitor1796100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "ct_logs" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" character varying(200) NOT NULL, "url" character varying(2048) NOT NULL, "public_key" text NOT NULL, "log_id" character varying(44) NOT NULL, "next_index" bigint NOT NULL DEFAULT '0', "tree_size" bigint NOT NULL DEFAULT '0', "polled_at" TIMESTAMP WITH TIME ZONE, "last_error" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "UQ_5e9f2e2df04ad589927505f91d6" UNIQUE ("url"), CONSTRAINT "PK_b5d7d41749a3bc00924429f30aa" PRIMARY KEY ("id"))`);
    await q.query(`CREATE TABLE "ct_watched_domains" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "domain" character varying(253) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "UQ_456f09d92229aeba80f6654397b" UNIQUE ("domain"), CONSTRAINT "PK_36a1f208c4a1df0c6ea92ee512a" PRIMARY KEY ("id"))`);
    await q.query(`CREATE TABLE "ct_findings" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "ct_log_id" uuid NOT NULL, "entry_index" bigint NOT NULL, "kind" character varying(8) NOT NULL, "domain" character varying(253) NOT NULL, "dns_names" jsonb NOT NULL, "fingerprint_sha256" character varying(64), "serial" character varying(128) NOT NULL, "issuer" text NOT NULL, "subject" text NOT NULL, "not_after" TIMESTAMP WITH TIME ZONE NOT NULL, "logged_at" TIMESTAMP WITH TIME ZONE NOT NULL, "found_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_3959efecfd3cee8710490cad153" PRIMARY KEY ("id"))`);
    await q.query(`CREATE UNIQUE INDEX "uq_ct_findings_entry" ON "ct_findings"  ("ct_log_id", "entry_index") `);
    await q.query(`ALTER TABLE "ct_findings" ADD CONSTRAINT "FK_7eb4afcb8bb3384acde27d1fe85" FOREIGN KEY ("ct_log_id") REFERENCES "ct_logs"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "ct_findings" DROP CONSTRAINT "FK_7eb4afcb8bb3384acde27d1fe85"`);
    await q.query(`DROP INDEX "public"."uq_ct_findings_entry"`);
    await q.query(`DROP TABLE "ct_findings"`);
    await q.query(`DROP TABLE "ct_watched_domains"`);
    await q.query(`DROP TABLE "ct_logs"`);
  }
}
