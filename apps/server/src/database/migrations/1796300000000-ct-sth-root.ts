import { MigrationInterface, QueryRunner } from 'typeorm';

/** The root hash of each CT log's last verified tree head, for Merkle consistency checks. */
export class CtSthRoot1796300000000 implements MigrationInterface {
  name = 'CtSthRoot1796300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "ct_logs" ADD "root_hash" character varying(44)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "ct_logs" DROP COLUMN "root_hash"`);
  }
}
