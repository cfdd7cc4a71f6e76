// OCSP responder throughput and latency over loopback HTTP (POST /pki/ocsp), for a CA with many
// issued certificates, from load clients in child processes (keep-alive connections, a fixed
// number of requests in flight). Three passes, each bounded in count and time:
//   cold    each serial once, no nonce: status lookup + signature, then cached
//   cached  random serials already asked for, no nonce: answered from the response cache
//   nonce   random serials with a nonce: looked up and signed every time
//   bare    the cached pass again, against the same PKI handler and responder mounted on a plain
//           node:http server in this process (no Express/Nest in front): what the framework costs
// Prints METRIC lines; asserts nothing about time.
// Usage (through run.sh): node ocsp-load.js [--postgres ADMIN_URL] [--certs N] [--revoked N]
//   [--clients C] [--in-flight F (per client)] [--seconds S (cached and nonce passes)] [--cold-seconds S]
import 'reflect-metadata';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { IssuingCasService } from '../../../apps/server/src/app/issuing-cas/issuing-cas.service';
import { CrlPublisher } from '../../../apps/server/src/app/revocation/crl-publisher.service';
import { OcspResponder } from '../../../apps/server/src/app/revocation/ocsp-responder.service';
import { pkiHttpHandler } from '../../../apps/server/src/app/revocation/pki-http.handler';
import { machineBusySeconds, metric, pct } from '../lib/sim-support';
import type { OcspResult, OcspTask } from './client';
import { arg, BenchServer, header, log, ms, numArg, runClients, seed, serverMeter, startBenchServer } from './harness';
import { certIdPrefix } from './ocsp-wire';

interface Pass {
  name: 'cold' | 'cached' | 'nonce' | 'bare';
  order: OcspTask['order'];
  nonce: boolean;
  /** Each client's serials. */
  serials: string[][];
  maxRequests: number;
  seconds: number;
}

async function run(b: BenchServer, pass: Pass, inFlight: number, baseUrl = b.server.httpUrl): Promise<OcspResult[]> {
  const prefix = certIdPrefix(b.caCertificatePem).toString('hex');
  const meter = serverMeter(b);
  const busy0 = machineBusySeconds();
  const t0 = performance.now();
  const results = (await runClients(
    pass.serials.map((serials): OcspTask => ({ kind: 'ocsp', baseUrl, prefix, serials, order: pass.order, nonce: pass.nonce, inFlight, maxRequests: pass.maxRequests, durationMs: pass.seconds * 1000 })),
    pass.seconds * 1000 + 60_000,
  )) as OcspResult[];
  const wall = (performance.now() - t0) / 1000;
  const seconds = Math.max(...results.map((r) => r.elapsedMs)) / 1000;
  const latencies = results.flatMap((r) => r.latencies).sort((a, c) => a - c);
  const statuses = results.reduce((acc, r) => {
    for (const [k, v] of Object.entries(r.statuses)) acc[k] = (acc[k] ?? 0) + v;
    return acc;
  }, {} as Record<string, number>);
  const rate = latencies.length / seconds;
  log(`  ${pass.name.padEnd(6)} ${latencies.length} responses in ${seconds.toFixed(1)} s = ${rate.toFixed(0)}/s; latency p50 ${ms(pct(latencies, 50))}, p99 ${ms(pct(latencies, 99))}, max ${ms(latencies[latencies.length - 1])}; ` +
      `${Object.entries(statuses).filter(([, v]) => v).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  log(`         ${meter.report()}; clients CPU ${results.reduce((a, r) => a + r.cpuSeconds, 0).toFixed(2)} s; machine busy ${((100 * (machineBusySeconds() - busy0)) / wall / 2).toFixed(0)}% of 2 cores`);
  if (statuses.error) throw new Error(`${statuses.error} OCSP requests failed in the ${pass.name} pass`);
  metric(`ocsp_${pass.name}_per_second`, rate, 0);
  metric(`ocsp_${pass.name}_p50_ms`, pct(latencies, 50), 3);
  metric(`ocsp_${pass.name}_p99_ms`, pct(latencies, 99), 3);
  return results;
}

async function main(): Promise<void> {
  const certs = numArg('certs', 100_000);
  const revoked = numArg('revoked', 1000);
  const clients = numArg('clients', 2);
  const inFlight = numArg('in-flight', 8);
  const seconds = numArg('seconds', 10);
  const coldSeconds = numArg('cold-seconds', 120);
  const b = await startBenchServer('ocsp', arg('postgres'));
  try {
    header(`OCSP responder: ${certs} issued certificates (${revoked} revoked), ${clients} client processes x ${inFlight} requests in flight, POST /pki/ocsp`, b);
    const seeded = await seed(b.ds, b.caId, revoked, certs - revoked);
    log(`  seeded ${certs} issued_certificates rows in ${seeded.seconds.toFixed(1)} s`);
    const t0 = performance.now();
    const crl = await b.server.app.get(CrlPublisher).publish(b.caId);
    log(`  first CRL: ${crl.entries} entries in ${ms(performance.now() - t0)} (so the CRL timer has nothing to do during the passes)`);

    // Shuffled, split between the clients: the cold pass asks each serial once, in random order.
    const all = [...seeded.revoked, ...seeded.good];
    for (let i = all.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [all[i], all[j]] = [all[j], all[i]];
    }
    const slices = Array.from({ length: clients }, (_, c) => all.filter((_, i) => i % clients === c));
    const cold = await run(b, { name: 'cold', order: 'each', nonce: false, serials: slices, maxRequests: Infinity, seconds: coldSeconds }, inFlight);
    // What the cold pass asked for (all of it unless it ran out of time) is cached now.
    const asked = slices.map((s, c) => s.slice(0, cold[c].latencies.length));
    await run(b, { name: 'cached', order: 'random', nonce: false, serials: asked, maxRequests: Infinity, seconds }, inFlight);
    await run(b, { name: 'nonce', order: 'random', nonce: true, serials: slices, maxRequests: Infinity, seconds }, inFlight);
    const { app } = b.server;
    const handler = pkiHttpHandler({ ocsp: app.get(OcspResponder), crls: app.get(CrlPublisher), cas: app.get(IssuingCasService) });
    const bare = createServer((req, res) => handler(req, res, () => res.writeHead(404).end()));
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
    try {
      await run(b, { name: 'bare', order: 'random', nonce: false, serials: asked, maxRequests: Infinity, seconds }, inFlight, `http://127.0.0.1:${(bare.address() as AddressInfo).port}`);
    } finally {
      bare.close();
    }
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
