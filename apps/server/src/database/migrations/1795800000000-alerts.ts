import { MigrationInterface, QueryRunner } from 'typeorm';

/** Alerts, notification channels and their deliveries, certificate ownership, agent labels. */
export class Alerts1795800000000 implements MigrationInterface {
  name = 'Alerts1795800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "agents" ADD "labels" jsonb NOT NULL DEFAULT '{}'`);
    await q.query(`CREATE TABLE "certificate_owners" ("subject_key" character varying(100) NOT NULL, "team" character varying(200), "emails" jsonb NOT NULL DEFAULT '[]', "channels" jsonb NOT NULL DEFAULT '[]', "tags" jsonb NOT NULL DEFAULT '[]', "updated_by" character varying(200) NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_certificate_owners" PRIMARY KEY ("subject_key"))`);
    await q.query(`CREATE TABLE "ownership_rules" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" character varying(200) NOT NULL, "priority" integer NOT NULL DEFAULT '100', "path_glob" character varying(1024), "san_pattern" character varying(512), "agent_labels" jsonb, "team" character varying(200), "emails" jsonb NOT NULL DEFAULT '[]', "channels" jsonb NOT NULL DEFAULT '[]', "tags" jsonb NOT NULL DEFAULT '[]', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_ownership_rules_name" UNIQUE ("name"), CONSTRAINT "PK_ownership_rules" PRIMARY KEY ("id"))`);
    await q.query(`CREATE TABLE "alert_thresholds" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "scope" character varying(16) NOT NULL, "scope_value" character varying(200) NOT NULL, "days" jsonb NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_alert_thresholds_scope" UNIQUE ("scope", "scope_value"), CONSTRAINT "PK_alert_thresholds" PRIMARY KEY ("id"))`);
    await q.query(`CREATE TABLE "alerts" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "kind" character varying(32) NOT NULL, "subject_key" character varying(300) NOT NULL, "state" character varying(16) NOT NULL, "stage" integer NOT NULL DEFAULT '0', "stage_label" character varying(16) NOT NULL, "severity" character varying(16) NOT NULL, "title" text NOT NULL, "detail" jsonb NOT NULL DEFAULT '{}', "owner_team" character varying(200), "owner_emails" jsonb NOT NULL DEFAULT '[]', "owner_channels" jsonb NOT NULL DEFAULT '[]', "tags" jsonb NOT NULL DEFAULT '[]', "episode" integer NOT NULL DEFAULT '1', "notified_stage" integer NOT NULL DEFAULT '0', "silenced_until" TIMESTAMP WITH TIME ZONE, "acknowledged_by" character varying(200), "acknowledged_at" TIMESTAMP WITH TIME ZONE, "opened_at" TIMESTAMP WITH TIME ZONE NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, "resolved_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "UQ_alerts_kind_subject" UNIQUE ("kind", "subject_key"), CONSTRAINT "PK_alerts" PRIMARY KEY ("id"))`);
    await q.query(`CREATE INDEX "idx_alerts_state" ON "alerts" ("state") `);
    await q.query(`CREATE TABLE "notification_channels" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" character varying(100) NOT NULL, "type" character varying(16) NOT NULL, "role" character varying(16) NOT NULL, "settings" jsonb NOT NULL DEFAULT '{}', "encrypted_secret" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_notification_channels_name" UNIQUE ("name"), CONSTRAINT "PK_notification_channels" PRIMARY KEY ("id"))`);
    await q.query(`CREATE TABLE "notification_deliveries" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "alert_id" uuid NOT NULL, "channel_id" uuid NOT NULL, "event" character varying(16) NOT NULL, "episode" integer NOT NULL, "stage" integer NOT NULL, "message" jsonb NOT NULL, "recipients" jsonb NOT NULL DEFAULT '[]', "status" character varying(16) NOT NULL, "attempts" integer NOT NULL DEFAULT '0', "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL, "last_error" text, "delivered_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "UQ_notification_deliveries_once" UNIQUE ("alert_id", "channel_id", "event", "episode", "stage"), CONSTRAINT "PK_notification_deliveries" PRIMARY KEY ("id"))`);
    await q.query(`CREATE INDEX "idx_notification_deliveries_due" ON "notification_deliveries" ("status", "next_attempt_at") `);
    await q.query(`ALTER TABLE "notification_deliveries" ADD CONSTRAINT "FK_notification_deliveries_alert" FOREIGN KEY ("alert_id") REFERENCES "alerts"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await q.query(`ALTER TABLE "notification_deliveries" ADD CONSTRAINT "FK_notification_deliveries_channel" FOREIGN KEY ("channel_id") REFERENCES "notification_channels"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "notification_deliveries" DROP CONSTRAINT "FK_notification_deliveries_channel"`);
    await q.query(`ALTER TABLE "notification_deliveries" DROP CONSTRAINT "FK_notification_deliveries_alert"`);
    await q.query(`DROP INDEX "public"."idx_notification_deliveries_due"`);
    await q.query(`DROP TABLE "notification_deliveries"`);
    await q.query(`DROP TABLE "notification_channels"`);
    await q.query(`DROP INDEX "public"."idx_alerts_state"`);
    await q.query(`DROP TABLE "alerts"`);
    await q.query(`DROP TABLE "alert_thresholds"`);
    await q.query(`DROP TABLE "ownership_rules"`);
    await q.query(`DROP TABLE "certificate_owners"`);
    await q.query(`ALTER TABLE "agents" DROP COLUMN "labels"`);
  }
}
