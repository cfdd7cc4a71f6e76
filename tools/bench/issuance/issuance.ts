// Issuance benchmark: certificates signed per second by an internal issuing CA through the real
// server path (JobsService.handleCsr: CSR proof of possession + profile/policy check + sign +
// issued_certificates/job/audit writes in one transaction), ECDSA P-256, with 1 and 8 concurrent
// requesters. Jobs and CSRs are prepared first and not timed. Prints METRIC lines.
// Usage (through run.sh): node issuance.js [--postgres URL] [--certs N]
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createKeyAndCsrFor } from '@certfleet/pki';
import { Agent } from '../../../apps/server/src/app/agents/agent.entity';
import { AuditService } from '../../../apps/server/src/app/audit/audit.service';
import { FleetCaService } from '../../../apps/server/src/app/fleet-ca/fleet-ca.service';
import { IssuingCasService } from '../../../apps/server/src/app/issuing-cas/issuing-cas.service';
import { PkiUrls } from '../../../apps/server/src/app/issuing-cas/pki-urls';
import { CertificateJob } from '../../../apps/server/src/app/jobs/certificate-job.entity';
import { JobsService } from '../../../apps/server/src/app/jobs/jobs.service';
import { ManagedCertificatesService } from '../../../apps/server/src/app/managed/managed-certificates.service';
import { loadServerConfig } from '../../../apps/server/src/config/server-config';
import { openDatabase } from '../../../apps/server/src/database/data-source';

const AGENT = '44444444-4444-4444-8444-444444444444';
const DISTINCT_KEYS = 64; // CSRs are made on agents; a few keys reused across jobs cost the server the same

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const url = arg('postgres');
  const certs = Number(arg('certs') ?? 4000);
  const dir = mkdtempSync(join(tmpdir(), 'cf-bench-issuance-'));
  const ds = await openDatabase(url ? { url } : { pgliteDir: join(dir, 'pglite') });
  try {
    const config = loadServerConfig({ CERTFLEET_DATA_DIR: dir, ...(url ? { DATABASE_URL: url } : {}) });
    const fleetCa = new FleetCaService(config, ds);
    await fleetCa.onModuleInit();
    const audit = new AuditService(ds);
    const cas = new IssuingCasService(config, ds, fleetCa, audit, new PkiUrls(config));
    const managed = new ManagedCertificatesService(config, ds, cas, audit);
    const jobs = new JobsService(config, ds, cas, managed, audit);
    await ds.getRepository(Agent).insert({ id: AGENT, hostname: 'bench', hostFacts: {}, enrolledAt: new Date(), certificateSerial: '01', certificateNotAfter: new Date(Date.now() + 86_400_000) });
    const ca = await cas.quickStart('bench', 'system:bench');
    const profile = { keyType: 'ec-p256', dnsNames: ['www.bench.test', 'bench.test'], ipAddresses: ['10.1.2.3'], commonName: 'www.bench.test', validityDays: 90, usages: ['tls-server'] };
    const csrs = await Promise.all(
      Array.from({ length: DISTINCT_KEYS }, () => createKeyAndCsrFor({ keyType: 'ec-p256', commonName: 'www.bench.test', dnsNames: profile.dnsNames, ipAddresses: profile.ipAddresses })),
    );

    console.log(`issuance: ${certs} certificates per run, database ${url ? 'postgres' : 'pglite'}, cores ${require('node:os').cpus().length}, node ${process.version}`);
    for (const concurrency of [1, 8]) {
      // Prepare: one managed certificate and one open job each (untimed).
      const label = `c${concurrency}`;
      await ds.query(
        `INSERT INTO "managed_certificates" ("name", "agent_id", "issuing_ca_id", "profile", "targets", "status", "next_renewal_at")
         SELECT $1 || g, $2, $3, $4::jsonb, '[{"kind":"combined-pem","path":"/srv/x.pem"}]'::jsonb, 'pending', now() - interval '1 second'
           FROM generate_series(1, $5) g`,
        [`${label}-`, AGENT, ca.id, JSON.stringify(profile), certs],
      );
      while ((await jobs.createDueJobs(new Date(), 1000)) > 0);
      const open = await ds.getRepository(CertificateJob).find({ where: { state: 'queued' }, select: { id: true } });
      const queue = open.map((j, i) => ({ jobId: j.id, csrPem: csrs[i % csrs.length].csrPem }));
      let issued = 0;
      let refused = '';
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          for (let next = queue.pop(); next; next = queue.pop()) {
            const answer = await jobs.handleCsr(AGENT, next);
            if (answer.payload?.$case === 'jobCertificate') issued++;
            else refused ||= JSON.stringify(answer.payload);
          }
        }),
      );
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      if (refused) throw new Error(`a CSR was refused: ${refused}`);
      console.log(`  ${concurrency} requester(s): ${issued} certificates in ${seconds.toFixed(2)} s = ${(issued / seconds).toFixed(0)} certificates/s (CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s in this process)`);
      console.log(`METRIC issuance_per_second_${label} ${(issued / seconds).toFixed(1)}`);
    }
    const count = await ds.query(`SELECT count(*)::int AS n FROM "issued_certificates"`);
    console.log(`issued_certificates rows: ${count[0].n}; audit chain: ${JSON.stringify(await audit.verify())}`);
  } finally {
    await ds.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
