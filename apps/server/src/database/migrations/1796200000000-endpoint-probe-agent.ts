import { MigrationInterface, QueryRunner } from 'typeorm';

/** Endpoint targets an agent probes from its network instead of the server. */
export class EndpointProbeAgent1796200000000 implements MigrationInterface {
  name = 'EndpointProbeAgent1796200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "endpoint_targets" ADD "probe_agent_id" uuid`);
    await q.query(`ALTER TABLE "endpoint_targets" ADD CONSTRAINT "FK_211b0bd57b4621b181d2a8ca959" FOREIGN KEY ("probe_agent_id") REFERENCES "agents"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "endpoint_targets" DROP CONSTRAINT "FK_211b0bd57b4621b181d2a8ca959"`);
    await q.query(`ALTER TABLE "endpoint_targets" DROP COLUMN "probe_agent_id"`);
  }
}
