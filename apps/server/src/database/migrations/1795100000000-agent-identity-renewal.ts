import { MigrationInterface, QueryRunner } from 'typeorm';

/** Agents renew their own identity: the certificate they renewed from stays usable until replaced. */
export class AgentIdentityRenewal1795100000000 implements MigrationInterface {
  name = 'AgentIdentityRenewal1795100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "agents" ADD "previous_certificate_serial" character varying(64)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "agents" DROP COLUMN "previous_certificate_serial"`);
  }
}
