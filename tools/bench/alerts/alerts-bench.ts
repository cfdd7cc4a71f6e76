// Alert evaluation benchmark: 200,000 inventory certificates (1,000 agents, notAfter spread from 30
// days ago to a year ahead, so ~16% sit inside the 30-day threshold; 1% RSA-1024, 1% SHA-1), plus
// 20,000 issued by the ACME server (a tenth of them since renewed, a hundredth revoked), the
// real policy pass (baseline policy) whose findings the alerts read, three ownership rules and two
// channels; the real evaluation pass (AlertEvaluator) on PGlite or PostgreSQL.
// Timed passes: cold (opens every alert, queues its notifications), steady (nothing changed), and a
// day later (stages crossed, titles changed). Memory: heap and RSS growth over the passes.
// Usage: node dist/tools/bench/alerts/alerts-bench.js [--records N] [--acme N] [--postgres ADMIN_URL] [--profile DIR]
import 'reflect-metadata';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { loadServerConfig } from '../../../apps/server/src/config/server-config';
import { openDatabase } from '../../../apps/server/src/database/data-source';
import { AlertEvaluator } from '../../../apps/server/src/app/alerts/alert-evaluator';
import { FakeClock } from '../../../apps/server/src/app/alerts/clock';
import { PolicyFinding, StaticPolicyFindings } from '../../../apps/server/src/app/alerts/policy-findings';
import { AuditService } from '../../../apps/server/src/app/audit/audit.service';
import { runPolicyPass } from '../../../apps/server/src/app/policy/policy-pass';
import { queryRows } from '../../../apps/server/src/database/query-rows';
import { BASELINE_POLICY, compilePolicy } from '@certfleet/policy';
import { OwnershipService } from '../../../apps/server/src/app/ownership/ownership.service';

const metric = (name: string, value: number) => console.log(`METRIC ${name} ${Number.isInteger(value) ? value : value.toFixed(3)}`);
const mb = (bytes: number) => bytes / 1024 / 1024;

async function admin(url: string, sql: string): Promise<void> {
  const c = new Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const get = (flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
  const records = Number(get('--records') ?? 200_000);
  const acmeRecords = Number(get('--acme') ?? 20_000);
  const pgAdmin = get('--postgres');
  const work = mkdtempSync(join(tmpdir(), 'cf-bench-alerts-'));
  const dbName = `bench_alerts_${process.pid}`;
  let url: string | undefined;
  if (pgAdmin) {
    await admin(pgAdmin, `CREATE DATABASE "${dbName}"`);
    const u = new URL(pgAdmin);
    u.pathname = `/${dbName}`;
    url = u.toString();
  }
  const ds = await openDatabase(url ? { url } : { pgliteDir: join(work, 'db') });
  try {
    const now = new Date('2027-01-01T00:00:00Z');
    const t = Date.now();
    await ds.query(
      `INSERT INTO "agents" ("id", "hostname", "host_facts", "enrolled_at", "last_seen_at", "certificate_serial", "certificate_not_after", "labels")
       SELECT ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, 'host-' || g, '{}', $1, $1::timestamptz + interval '100 days', md5(g::text), $1::timestamptz + interval '30 days',
              jsonb_build_object('env', CASE WHEN g % 2 = 0 THEN 'prod' ELSE 'staging' END)
         FROM generate_series(1, 1000) g`,
      [now],
    );
    await ds.query(
      `INSERT INTO "inventory_items" ("agent_id", "item_key", "kind", "path", "entry", "fingerprint_sha256", "subject", "issuer", "serial", "not_before", "not_after", "detail", "seen_sequence", "first_seen_at", "updated_at")
       SELECT ('00000000-0000-4000-8000-' || lpad((1 + g % 1000)::text, 12, '0'))::uuid, '/etc/ssl/c' || g || '.pem#0', 'certificate',
              CASE WHEN g % 10 = 0 THEN '/etc/nginx/ssl/c' ELSE '/etc/ssl/c' END || g || '.pem', '0',
              encode(sha256(g::text::bytea), 'hex'), 'CN=svc' || g || '.example.com', 'CN=Bench CA', to_hex(g),
              $1::timestamptz - interval '60 days', $1::timestamptz + ((g * 7919) % (395 * 24)) * interval '1 hour' - interval '30 days',
              jsonb_build_object('dnsNames', jsonb_build_array('svc' || g || CASE WHEN g % 7 = 0 THEN '.shop.example.com' ELSE '.example.com' END), 'isCa', false, 'selfSigned', false,
                                 'keyAlgorithm', CASE WHEN g % 3 = 0 THEN 'EC' ELSE 'RSA' END, 'keySize', CASE WHEN g % 3 = 0 THEN 256 WHEN g % 100 = 1 THEN 1024 ELSE 2048 END,
                                 'keyCurve', CASE WHEN g % 3 = 0 THEN 'P-256' ELSE NULL END,
                                 'signatureAlgorithm', CASE WHEN g % 3 = 0 THEN 'ecdsa-with-SHA256' WHEN g % 100 = 2 THEN 'sha1WithRSAEncryption' ELSE 'sha256WithRSAEncryption' END),
              1, $1, $1
         FROM generate_series(1, $2::int) g`,
      [now, records],
    );
    await seedAcme(ds, acmeRecords, now);
    await ds.query(`ANALYZE`);
    metric('alerts_seed_seconds', (Date.now() - t) / 1000);
    await ds.query(`INSERT INTO "ownership_rules" ("name", "priority", "path_glob", "agent_labels", "team", "tags") VALUES ('nginx-prod', 10, '/etc/nginx/**', '{"env":"prod"}', 'web', '["prod"]')`);
    await ds.query(`INSERT INTO "ownership_rules" ("name", "priority", "san_pattern", "team", "emails", "tags") VALUES ('shop', 20, '*.shop.example.com', 'shop', '["shop@example.com"]', '["pci"]')`);
    await ds.query(`INSERT INTO "ownership_rules" ("name", "priority", "agent_labels", "team") VALUES ('staging', 30, '{"env":"staging"}', 'platform')`);
    await ds.query(`INSERT INTO "alert_thresholds" ("scope", "scope_value", "days") VALUES ('tag', 'pci', '[45, 21, 10]')`);
    await ds.query(`INSERT INTO "notification_channels" ("name", "type", "role", "settings") VALUES ('all', 'webhook', 'all', '{"url":"http://127.0.0.1:9/x"}'), ('oncall', 'webhook', 'escalation', '{"url":"http://127.0.0.1:9/y"}')`);
    // The policy pass over the whole inventory (baseline policy: RSA-1024 and SHA-1 are findings), as
    // the server runs it before alerts read its findings: first (every key hash derived), then steady.
    const policy = compilePolicy(BASELINE_POLICY);
    const policyFirst = await runPolicyPass(ds.manager, policy, now);
    const profileDir = get('--profile');
    const policySteady = profileDir
      ? await profiled(join(profileDir, 'policy-steady.cpuprofile'), () => runPolicyPass(ds.manager, policy, now))
      : await runPolicyPass(ds.manager, policy, now);
    const findings: PolicyFinding[] = queryRows<{ fp: string; rule: string; severity: 'warning' | 'critical'; message: string }>(
      await ds.query(`SELECT fingerprint_sha256 AS "fp", rule_id AS "rule", severity, message FROM policy_findings WHERE severity IN ('warning', 'critical')`),
    ).map((r) => ({ certificateKey: `fp:${r.fp}`, rule: r.rule, severity: r.severity, message: r.message }));

    const clock = new FakeClock(now);
    const config = loadServerConfig({ CERTFLEET_DATA_DIR: work });
    const evaluator = new AlertEvaluator(ds, new OwnershipService(ds, new AuditService(ds)), config, clock, new StaticPolicyFindings(findings));
    global.gc?.();
    const heap0 = process.memoryUsage().heapUsed;
    const rss0 = process.memoryUsage().rss;
    let peakRss = rss0;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
    const cold = await evaluator.evaluate();
    const steady = profileDir ? await profiled(join(profileDir, 'alerts-steady.cpuprofile'), () => evaluator.evaluate()) : await evaluator.evaluate();
    const steady2 = await evaluator.evaluate();
    clock.advanceDays(1);
    const nextDay = await evaluator.evaluate();
    clearInterval(sampler);
    const heapAfter = process.memoryUsage().heapUsed;
    const [{ alerts }] = (await ds.query(`SELECT count(*)::int AS "alerts" FROM "alerts" WHERE "state" <> 'resolved'`)) as { alerts: number }[];
    const [{ deliveries }] = (await ds.query(`SELECT count(*)::int AS "deliveries" FROM "notification_deliveries"`)) as { deliveries: number }[];
    metric('alerts_inventory_records', records);
    metric('alerts_acme_records', acmeRecords);
    metric('alerts_inventory_listed', Number((await ds.query(`SELECT count(*)::int AS n FROM certificate_inventory`))[0].n));
    metric('alerts_database_is_postgres', pgAdmin ? 1 : 0);
    metric('alerts_open', alerts);
    metric('alerts_deliveries_queued', deliveries);
    metric('alerts_pass_cold_seconds', cold.ms / 1000);
    metric('alerts_pass_steady_seconds', Math.min(steady.ms, steady2.ms) / 1000);
    metric('alerts_pass_next_day_seconds', nextDay.ms / 1000);
    metric('alerts_pass_next_day_changed', nextDay.changed);
    metric('alerts_pass_steady_conditions_seconds', Math.min(steady.conditionsMs, steady2.conditionsMs) / 1000);
    metric('alerts_conditions', steady.conditions);
    metric('policy_pass_first_seconds', policyFirst.durationMs / 1000);
    metric('policy_pass_steady_seconds', policySteady.durationMs / 1000);
    metric('policy_findings', findings.length);
    // What the server does per full pass: the policy pass, then the alert pass over its findings.
    metric('full_pass_steady_seconds', (policySteady.durationMs + Math.min(steady.ms, steady2.ms)) / 1000);
    metric('alerts_heap_growth_mb', mb(heapAfter - heap0));
    metric('alerts_rss_peak_growth_mb', mb(peakRss - rss0));
    metric('alerts_rss_peak_mb', mb(peakRss));
  } finally {
    await ds.destroy();
    if (pgAdmin) await admin(pgAdmin, `DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).catch((err) => console.error(`could not drop ${dbName}: ${(err as Error).message}`));
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Certificates issued through the ACME server (the 'acme' source of certificate_inventory): one CA,
 * 100 accounts, orders with their issued certificates. Every tenth is replaced by a later order and
 * every hundredth revoked, so both leave the view. Their DER is a stub: the policy pass derives no
 * key hash from it, as for agent rows seeded without DER.
 */
async function seedAcme(ds: Awaited<ReturnType<typeof openDatabase>>, n: number, now: Date): Promise<void> {
  if (n <= 0) return;
  const ca = '00000000-0000-4000-9000-000000000001';
  await ds.query(`INSERT INTO "issuing_cas" ("id", "name", "status", "csr_pem", "encrypted_private_key") VALUES ($1, 'bench-acme', 'active', '', '')`, [ca]);
  await ds.query(
    `INSERT INTO "acme_accounts" ("id", "issuing_ca_id", "key_thumbprint", "jwk", "status")
     SELECT ('00000000-0000-4000-a000-' || lpad(g::text, 12, '0'))::uuid, $1, md5(g::text), '{}', 'valid' FROM generate_series(1, 100) g`,
    [ca],
  );
  const serial = `'ac' || to_hex(g)`;
  const notAfter = `$2::timestamptz + ((g::bigint * 104729) % (395 * 24)) * interval '1 hour' - interval '30 days'`;
  await ds.query(
    `INSERT INTO "issued_certificates" ("serial", "issuing_ca_id", "public_key_sha256", "fingerprint_sha256", "certificate_pem", "not_before", "not_after", "issued_at", "revoked_at", "revocation_reason", "revocation_seq")
     SELECT ${serial}, $1, md5('k' || g), encode(sha256(('acme' || g)::bytea), 'hex'), '', $2::timestamptz - interval '60 days', ${notAfter}, $2::timestamptz - interval '60 days',
            CASE WHEN g % 100 = 0 THEN $2::timestamptz END, CASE WHEN g % 100 = 0 THEN 'superseded' END, CASE WHEN g % 100 = 0 THEN g END
       FROM generate_series(1, $3::int) g`,
    [ca, now, n],
  );
  await ds.query(
    `INSERT INTO "acme_orders" ("id", "account_id", "issuing_ca_id", "status", "identifiers", "expires", "certificate_serial")
     SELECT ('00000000-0000-4000-b000-' || lpad(g::text, 12, '0'))::uuid, ('00000000-0000-4000-a000-' || lpad((1 + g % 100)::text, 12, '0'))::uuid, $1, 'valid',
            jsonb_build_array(jsonb_build_object('type', 'dns', 'value', 'acme' || g || '.example.com')), $2::timestamptz, ${serial}
       FROM generate_series(1, $3::int) g`,
    [ca, now, n],
  );
  await ds.query(
    `INSERT INTO "acme_order_certificates" ("order_id", "account_id", "issuing_ca_id", "serial", "names_key", "fingerprint_sha256", "subject", "issuer", "not_before", "not_after", "detail", "der", "issued_at", "replaced_at", "replaced_by_serial")
     SELECT o."id", o."account_id", $1, o."certificate_serial", 'dns:acme' || g || '.example.com', ic."fingerprint_sha256", 'CN=acme' || g || '.example.com', 'CN=bench-acme',
            ic."not_before", ic."not_after",
            jsonb_build_object('dnsNames', jsonb_build_array('acme' || g || '.example.com'), 'isCa', false, 'selfSigned', false, 'keyAlgorithm', 'EC', 'keySize', 256, 'keyCurve', 'P-256',
                               'signatureAlgorithm', 'ecdsa-with-SHA256', 'acmeOrderId', o."id", 'acmeAccountId', o."account_id"),
            '\\x30'::bytea, ic."issued_at", CASE WHEN g % 10 = 0 THEN $2::timestamptz END, CASE WHEN g % 10 = 0 THEN 'renewed' END
       FROM generate_series(1, $3::int) g
       JOIN "acme_orders" o ON o."id" = ('00000000-0000-4000-b000-' || lpad(g::text, 12, '0'))::uuid
       JOIN "issued_certificates" ic ON ic."serial" = o."certificate_serial"`,
    [ca, now, n],
  );
}

/** Runs fn under the V8 CPU profiler and writes the profile (open it in Chrome DevTools). */
async function profiled<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) => new Promise<unknown>((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));
  await post('Profiler.enable');
  await post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = (await post('Profiler.stop')) as { profile: object };
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
    console.log(`profile written to ${file}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
