// Revocation latency with many certificates already revoked: from POST /api/v1/revocations to
// (a) the OCSP responder answering "revoked" (its cached "good" dropped) and (b) a CRL listing the
// serial being served at /pki/crl/<ca>.crl, polled from a client process from the same instant.
// Also the one-time cost of the first CRL over all revoked entries (what a fresh server or replica
// pays), split into its parts. Prints METRIC lines; asserts nothing about time.
// Usage (through run.sh): node latency.js [--postgres ADMIN_URL] [--revoked N] [--rounds R]
import 'reflect-metadata';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { buildCrl, encodeRevokedEntry, isRevocationReason } from '@certfleet/pki';
import { IssuingCasService } from '../../../apps/server/src/app/issuing-cas/issuing-cas.service';
import { IssuingCa } from '../../../apps/server/src/app/issuing-cas/issuing-ca.entity';
import { CrlPublisher } from '../../../apps/server/src/app/revocation/crl-publisher.service';
import { RevocationService } from '../../../apps/server/src/app/revocation/revocation.service';
import { queryRows } from '../../../apps/server/src/database/query-rows';
import { metric, pct } from '../lib/sim-support';
import type { RevokeResult } from './client';
import { arg, header, log, ms, numArg, runClients, seed, serverMeter, startBenchServer } from './harness';
import { certIdPrefix } from './ocsp-wire';

/** Records how long each call of obj[name] takes (the running service instance, nothing else changes). */
function timeCalls<T extends object>(obj: T, name: keyof T & string, into: number[]): void {
  const original = (obj[name] as (...a: unknown[]) => Promise<unknown>).bind(obj);
  (obj as Record<string, unknown>)[name] = async (...a: unknown[]) => {
    const t0 = performance.now();
    try {
      return await original(...a);
    } finally {
      into.push(performance.now() - t0);
    }
  };
}

const summary = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return { p50: pct(s, 50), p95: pct(s, 95), max: s[s.length - 1] };
};
const line = (values: number[]) => {
  const { p50, p95, max } = summary(values);
  return `p50 ${ms(p50)}, p95 ${ms(p95)}, max ${ms(max)}`;
};

async function main(): Promise<void> {
  const revokedCount = numArg('revoked', 100_000);
  const roundCount = numArg('rounds', 20);
  const b = await startBenchServer('revocation_latency', arg('postgres'));
  try {
    header(`revocation latency: ${revokedCount} certificates already revoked, ${roundCount} revocations`, b);
    const seeded = await seed(b.ds, b.caId, revokedCount, 1000);
    log(`  seeded ${seeded.revoked.length} revoked + ${seeded.good.length} good issued_certificates rows in ${seeded.seconds.toFixed(1)} s`);

    // One-time: the first CRL over every revoked entry (the publisher has nothing cached yet).
    const crls = b.server.app.get(CrlPublisher);
    let meter = serverMeter(b);
    let t0 = performance.now();
    const first = await crls.publish(b.caId);
    const firstMs = performance.now() - t0;
    log(`  first CRL (cold publisher): ${ms(firstMs)} for ${first.entries} entries, ${(first.der.length / 1e6).toFixed(2)} MB; ${meter.report()}`);
    // ...and its parts, done again by hand: the read, the entry encoding, the signature, the write.
    t0 = performance.now();
    const rows = queryRows<{ serial: string; revoked_at: Date; revocation_reason: string | null }>(
      await b.ds.query(`SELECT "serial", "revoked_at", "revocation_reason", "revocation_seq" FROM "issued_certificates" WHERE "issuing_ca_id" = $1 AND "revocation_seq" > 0 ORDER BY "revocation_seq"`, [b.caId]),
    );
    const readMs = performance.now() - t0;
    t0 = performance.now();
    const entries = rows.map((r) => encodeRevokedEntry({ serialHex: r.serial, revokedAt: new Date(r.revoked_at), reason: isRevocationReason(r.revocation_reason) ? r.revocation_reason : 'unspecified' }));
    const encodeMs = performance.now() - t0;
    const signer = b.server.app.get(IssuingCasService).loadedCa((await b.ds.getRepository(IssuingCa).findOneByOrFail({ id: b.caId })))!;
    if (signer instanceof Error) throw signer;
    t0 = performance.now();
    const der = buildCrl(signer, { crlNumber: 999n, thisUpdate: new Date(), nextUpdate: new Date(Date.now() + 86_400_000), entries });
    const signMs = performance.now() - t0;
    const timed = async (sql: string, params: unknown[]) => {
      const t = performance.now();
      await b.ds.query(sql, params);
      return performance.now() - t;
    };
    const paramMs = await timed(`SELECT length($1::bytea) AS n`, [der]);
    const hexParamMs = await timed(`SELECT length(decode($1, 'hex')) AS n`, [der.toString('hex')]);
    log(`    its parts, timed again one by one: read ${rows.length} rows ${ms(readMs)}, encode the entries ${ms(encodeMs)}, buildCrl (concatenate + sign) ${ms(signMs)}`);
    log(`    and the ${(der.length / 1e6).toFixed(1)} MB CRL through the database driver: as a bytea parameter ${ms(paramMs)} (as hex text + decode() ${ms(hexParamMs)})`);
    if (arg('postgres')) {
      // Only PostgreSQL stores the CRL bytes (for other replicas); PGlite keeps them in memory.
      const rewriteMs = await timed(`UPDATE "issuing_ca_crls" SET "der" = "der" || ''::bytea WHERE "issuing_ca_id" = $1`, [b.caId]);
      const readBackMs = await timed(`SELECT "der" FROM "issuing_ca_crls" WHERE "issuing_ca_id" = $1`, [b.caId]);
      const [stored] = queryRows<{ bytes: number }>(await b.ds.query(`SELECT pg_column_size("der") AS "bytes" FROM "issuing_ca_crls" WHERE "issuing_ca_id" = $1`, [b.caId]));
      log(`    stored: rewritten in place ${ms(rewriteMs)} (${(Number(stored.bytes) / 1e6).toFixed(2)} MB on disk), read back (CrlPublisher.readStored) ${ms(readBackMs)}`);
    }
    metric('revocation_first_crl_ms', firstMs, 1);
    metric('revocation_crl_bytes', first.der.length);

    // The revocations: server-side timings of the running services, client-side from the child.
    const revokeMs: number[] = [];
    const publishMs: number[] = [];
    timeCalls(b.server.app.get(RevocationService), 'revokeSerials', revokeMs);
    timeCalls(crls, 'publish', publishMs);
    const targets = seeded.good.slice(0, roundCount);
    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    loopDelay.enable();
    meter = serverMeter(b);
    const [result] = (await runClients(
      [{ kind: 'revoke', baseUrl: b.server.httpUrl, adminToken: b.adminToken, caId: b.caId, prefix: certIdPrefix(b.caCertificatePem).toString('hex'), serials: targets, pauseMs: 200, ocspPollGapMs: 1, crlPollGapMs: 5 }],
      300_000,
    )) as RevokeResult[];
    const server = meter.report();
    loopDelay.disable();
    const rounds = result.rounds;
    const both = rounds.map((r) => Math.max(r.ocspRevokedMs, r.crlServedMs));
    const last = rounds[rounds.length - 1];
    log(`  ${rounds.length} revocations (one at a time, 200 ms apart; OCSP polled every ~1 ms, the CRL every ~5 ms after each answer):`);
    log(`    revoke call returned:             ${line(rounds.map((r) => r.revokeReturnedMs))}`);
    log(`    OCSP answers "revoked":           ${line(rounds.map((r) => r.ocspRevokedMs))}`);
    log(`    CRL listing it served:            ${line(rounds.map((r) => r.crlServedMs))}`);
    log(`    both (OCSP and CRL):              ${line(both)}`);
    log(`    server side: revokeSerials ${line(revokeMs)}`);
    log(`      its transaction (lock, update, audit; commit) ${line(revokeMs.map((t, i) => t - publishMs[i]))}`);
    log(`      then CRL publish (CrlPublisher.publish)        ${line(publishMs)}`);
    log(`    CRL GET alone (before the revocations): ${line(result.crlGetMs)}`);
    log(`    CRL at the end: ${last.crlEntries} entries, ${last.crlBytes} bytes (${(last.crlBytes / 1e6).toFixed(2)} MB); polls per revocation: OCSP ${(rounds.reduce((a, r) => a + r.ocspPolls, 0) / rounds.length).toFixed(0)}, CRL ${(rounds.reduce((a, r) => a + r.crlPolls, 0) / rounds.length).toFixed(1)}`);
    log(`    server event loop delay: p99 ${ms(loopDelay.percentile(99) / 1e6)}, max ${ms(loopDelay.max / 1e6)}`);
    log(`    ${server}; client CPU ${result.cpuSeconds.toFixed(2)} s`);
    const s = summary(both);
    metric('revocation_latency_p50_ms', s.p50, 1);
    metric('revocation_latency_p95_ms', s.p95, 1);
    metric('revocation_latency_max_ms', s.max, 1);
    metric('revocation_ocsp_p95_ms', summary(rounds.map((r) => r.ocspRevokedMs)).p95, 1);
    metric('revocation_crl_p95_ms', summary(rounds.map((r) => r.crlServedMs)).p95, 1);
  } finally {
    await b.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
