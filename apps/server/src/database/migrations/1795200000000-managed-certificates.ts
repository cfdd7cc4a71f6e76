import { MigrationInterface, QueryRunner } from 'typeorm';

/** Managed certificates: issuing CAs and what they issued, managed certificates, jobs, audit trail. */
export class ManagedCertificates1795200000000 implements MigrationInterface {
  name = 'ManagedCertificates1795200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "audit_events" ("seq" bigint NOT NULL, "at" TIMESTAMP WITH TIME ZONE NOT NULL, "actor" character varying(200) NOT NULL, "action" character varying(64) NOT NULL, "subject_type" character varying(32) NOT NULL, "subject_id" character varying(200) NOT NULL, "detail" jsonb NOT NULL, "prev_hash" character varying(64) NOT NULL, "hash" character varying(64) NOT NULL, CONSTRAINT "PK_6e299f5706e715265416fefe53e" PRIMARY KEY ("seq"))`);
    await q.query(`CREATE INDEX "idx_audit_events_subject" ON "audit_events"  ("subject_type", "subject_id") `);
    await q.query(`CREATE TABLE "audit_chain_head" ("id" integer NOT NULL, "last_seq" bigint NOT NULL, "last_hash" character varying(64) NOT NULL, CONSTRAINT "PK_9211408bf584034de409b1bbec5" PRIMARY KEY ("id"))`);
    await q.query(`CREATE TABLE "issued_certificates" ("serial" character varying(64) NOT NULL, "issuing_ca_id" uuid NOT NULL, "managed_certificate_id" uuid, "job_id" uuid, "public_key_sha256" character varying(64) NOT NULL, "fingerprint_sha256" character varying(64) NOT NULL, "certificate_pem" text NOT NULL, "not_before" TIMESTAMP WITH TIME ZONE NOT NULL, "not_after" TIMESTAMP WITH TIME ZONE NOT NULL, "issued_at" TIMESTAMP WITH TIME ZONE NOT NULL, "revoked_at" TIMESTAMP WITH TIME ZONE, "revocation_reason" character varying(32), CONSTRAINT "UQ_41ab802115adea9584dbcaf2df8" UNIQUE ("job_id"), CONSTRAINT "PK_4a2dcc37f335a9c9714431fe81f" PRIMARY KEY ("serial"))`);
    await q.query(`CREATE INDEX "idx_issued_certificates_managed" ON "issued_certificates"  ("managed_certificate_id") `);
    await q.query(`CREATE TABLE "issuing_cas" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" character varying(200) NOT NULL, "status" character varying(16) NOT NULL, "csr_pem" text NOT NULL, "certificate_pem" text, "chain_pem" text NOT NULL DEFAULT '', "root_pem" text, "encrypted_private_key" text NOT NULL, "fingerprint_sha256" character varying(64), "not_after" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "activated_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "UQ_c8934d5a3c8650d5ebde5233d76" UNIQUE ("name"), CONSTRAINT "PK_819d5453321f27df23cb0e646be" PRIMARY KEY ("id"))`);
    await q.query(`CREATE TABLE "certificate_jobs" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "managed_certificate_id" uuid NOT NULL, "agent_id" uuid NOT NULL, "reason" character varying(16) NOT NULL, "state" character varying(16) NOT NULL, "attempt" integer NOT NULL, "issued_serial" character varying(64), "stage" character varying(16), "error" text, "agent_duration_ms" integer, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "due_at" TIMESTAMP WITH TIME ZONE NOT NULL, "issued_at" TIMESTAMP WITH TIME ZONE, "finished_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_39a00072c5753957859293c18ff" PRIMARY KEY ("id"))`);
    await q.query(`CREATE INDEX "idx_certificate_jobs_agent_state" ON "certificate_jobs"  ("agent_id", "state") `);
    await q.query(`CREATE UNIQUE INDEX "uq_certificate_jobs_open" ON "certificate_jobs"  ("managed_certificate_id") WHERE "state" IN ('queued', 'issued')`);
    await q.query(`CREATE TABLE "managed_certificates" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" character varying(200) NOT NULL, "agent_id" uuid NOT NULL, "issuer_kind" character varying(16) NOT NULL DEFAULT 'internal', "issuing_ca_id" uuid, "profile" jsonb NOT NULL, "targets" jsonb NOT NULL, "reload_command" text NOT NULL DEFAULT '', "reload_timeout_seconds" integer NOT NULL DEFAULT '30', "validation" jsonb, "renew_before_days" integer, "status" character varying(16) NOT NULL, "current_serial" character varying(64), "current_fingerprint" character varying(64), "not_before" TIMESTAMP WITH TIME ZONE, "not_after" TIMESTAMP WITH TIME ZONE, "next_renewal_at" TIMESTAMP WITH TIME ZONE, "failure_count" integer NOT NULL DEFAULT '0', "last_error" text, "adopted_from" character varying(64), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "removed_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_2fb2e093592270b71dc004ccd6a" PRIMARY KEY ("id"))`);
    await q.query(`CREATE INDEX "idx_managed_agent" ON "managed_certificates"  ("agent_id") `);
    await q.query(`CREATE INDEX "idx_managed_next_renewal" ON "managed_certificates"  ("next_renewal_at") `);
    await q.query(`INSERT INTO "audit_chain_head" ("id", "last_seq", "last_hash") VALUES (1, 0, repeat('0', 64))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "public"."idx_managed_next_renewal"`);
    await q.query(`DROP INDEX "public"."idx_managed_agent"`);
    await q.query(`DROP TABLE "managed_certificates"`);
    await q.query(`DROP INDEX "public"."uq_certificate_jobs_open"`);
    await q.query(`DROP INDEX "public"."idx_certificate_jobs_agent_state"`);
    await q.query(`DROP TABLE "certificate_jobs"`);
    await q.query(`DROP TABLE "issuing_cas"`);
    await q.query(`DROP INDEX "public"."idx_issued_certificates_managed"`);
    await q.query(`DROP TABLE "issued_certificates"`);
    await q.query(`DROP TABLE "audit_chain_head"`);
    await q.query(`DROP INDEX "public"."idx_audit_events_subject"`);
    await q.query(`DROP TABLE "audit_events"`);
  }
}
