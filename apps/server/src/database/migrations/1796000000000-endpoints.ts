import { MigrationInterface, QueryRunner } from 'typeorm';

/** TLS endpoint monitoring: probe targets and the latest observation per prober and endpoint. */
export class Endpoints1796000000000 implements MigrationInterface {
  name = 'Endpoints1796000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "endpoint_targets" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "host" character varying(253) NOT NULL, "port" integer NOT NULL, "server_name" character varying(253) NOT NULL DEFAULT '', "host_agent_id" uuid, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "next_probe_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_83a044ac27a73b20802cfc7e3ca" PRIMARY KEY ("id"))`);
    await q.query(`CREATE INDEX "idx_endpoint_targets_next_probe" ON "endpoint_targets"  ("next_probe_at") `);
    await q.query(`CREATE UNIQUE INDEX "uq_endpoint_targets_address" ON "endpoint_targets"  ("host", "port", "server_name") `);
    await q.query(`CREATE TABLE "endpoint_observations" ("observation_key" character varying(600) NOT NULL, "target_id" uuid, "agent_id" uuid, "host" character varying(253) NOT NULL, "port" integer NOT NULL, "server_name" character varying(253) NOT NULL DEFAULT '', "tls" boolean NOT NULL, "error" text, "protocol" character varying(16), "cipher" character varying(128), "chain" jsonb NOT NULL, "leaf_fingerprint_sha256" character varying(64), "hostname_match" boolean NOT NULL, "hostname_error" text, "chain_valid" boolean NOT NULL, "chain_error" text, "ocsp_status" character varying(16), "not_after" TIMESTAMP WITH TIME ZONE, "accepted_versions" jsonb, "process" character varying(255), "probed_at" TIMESTAMP WITH TIME ZONE NOT NULL, "probed_by" character varying(255) NOT NULL, CONSTRAINT "PK_19ecbc47daf07bcc69e35016881" PRIMARY KEY ("observation_key"))`);
    await q.query(`CREATE INDEX "idx_endpoint_observations_agent" ON "endpoint_observations"  ("agent_id") `);
    await q.query(`CREATE INDEX "idx_endpoint_observations_leaf" ON "endpoint_observations"  ("leaf_fingerprint_sha256") `);
    await q.query(`ALTER TABLE "endpoint_targets" ADD CONSTRAINT "FK_dcb3f3f53e6c77c20ee280c8603" FOREIGN KEY ("host_agent_id") REFERENCES "agents"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "endpoint_targets" DROP CONSTRAINT "FK_dcb3f3f53e6c77c20ee280c8603"`);
    await q.query(`DROP INDEX "public"."idx_endpoint_observations_leaf"`);
    await q.query(`DROP INDEX "public"."idx_endpoint_observations_agent"`);
    await q.query(`DROP TABLE "endpoint_observations"`);
    await q.query(`DROP INDEX "public"."uq_endpoint_targets_address"`);
    await q.query(`DROP INDEX "public"."idx_endpoint_targets_next_probe"`);
    await q.query(`DROP TABLE "endpoint_targets"`);
  }
}
