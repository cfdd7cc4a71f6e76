// Managed certificates from an ACME CA, end to end: real Pebble (its DNS pointed at a real BIND
// named on loopback), the real built server running the orders, a real agent answering HTTP-01
// (standalone listener, or a file in a webroot real nginx serves) and installing into nginx, which
// openssl s_client then checks against Pebble's root. DNS-01 goes through RFC 2136 updates signed
// with TSIG to named. Pebble rejects a tenth of nonces throughout (acme-client retries badNonce).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, TestDatabase } from '../../../tools/test/databases';
import { NGINX, TestNginx, waitUntilServed } from '../../agent/src/jobs/testing/tls-servers';
import { digTxt, startNamed, TestNamed } from './support/named';
import { startPebble, TestPebble } from './support/pebble';
import { agentCommand, cli, freePort, ServerProcess, startAgentProcess, startServerProcess, stopProcess, testServerEnv, waitFor } from './support/processes';

jest.setTimeout(240_000);

interface ManagedView {
  id: string;
  status: string;
  currentSerial: string | null;
  failureCount: number;
  lastError: string | null;
  nextRenewalAt: string | null;
  issuer: { kind: string; name: string | null; challenge: Record<string, unknown> | null };
  openJob: { id: string; state: string } | null;
  jobs: { id: string; state: string; stage: string | null; error: string | null; issuedSerial: string | null }[];
}

/** Plain-HTTP nginx serving a webroot on a given port (what certbot --webroot relies on). */
function startWebrootNginx(prefix: string, port: number, webroot: string): { stop(): void } {
  mkdirSync(join(prefix, 'tmp'), { recursive: true });
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    `user root; daemon on; worker_processes 1; pid ${join(prefix, 'nginx.pid')}; error_log ${join(prefix, 'error.log')} info;
events { worker_connections 64; }
http { access_log off; client_body_temp_path ${join(prefix, 'tmp')};
  server { listen 127.0.0.1:${port}; root ${webroot}; default_type text/plain; } }
`,
  );
  execFileSync(NGINX, ['-c', conf, '-p', prefix], { stdio: 'pipe' });
  return { stop: () => process.kill(Number(readFileSync(join(prefix, 'nginx.pid'), 'utf8').trim()), 'SIGQUIT') };
}

describe.each(['pglite', 'postgresql'] as const)('ACME issuer against Pebble on %s', (database) => {
  const work = mkdtempSync(join(tmpdir(), `cf-acme-${database}-`));
  const agentState = join(work, 'agent-state');
  let db: TestDatabase | undefined;
  let server: ServerProcess;
  let agent: ReturnType<typeof startAgentProcess> | undefined;
  let named: TestNamed;
  let pebble: TestPebble;
  let httpPort: number;
  let rootFile: string;
  let agentId: string;
  const nginxes: TestNginx[] = [];
  const stops: Array<() => void> = [];

  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const token = readFileSync(join(work, 'server', 'admin-token'), 'utf8').trim();
    const res = await fetch(`${server.httpUrl}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  const show = (id: string) => api<ManagedView>('GET', `/api/v1/managed-certificates/${id}`);
  const settled = (id: string, what: string, done: (m: ManagedView) => boolean) => waitFor(() => show(id), done, 90_000, what);

  /** nginx with a self-signed certificate in files the managed certificate takes over. */
  async function site(name: string): Promise<{ dir: string; nginx: TestNginx }> {
    const dir = join(work, 'sites', name);
    mkdirSync(dir, { recursive: true });
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'fullchain.pem'), '-days', '30', '-subj', `/CN=${name}`], { stdio: 'pipe' });
    const nginx = await TestNginx.start(join(work, 'nginx', name), { serverName: name, certificatePath: join(dir, 'fullchain.pem'), keyPath: join(dir, 'key.pem') });
    nginxes.push(nginx);
    return { dir, nginx };
  }

  async function manage(name: string, dir: string, nginx: TestNginx, challenge: Record<string, unknown>): Promise<string> {
    const created = await api<{ id: string }>('POST', '/api/v1/managed-certificates', {
      name,
      agentId,
      issuer: 'acme:pebble',
      challenge,
      profile: { dnsNames: [name] },
      targets: [{ kind: 'fullchain-pem', path: join(dir, 'fullchain.pem'), keyPath: join(dir, 'key.pem') }],
      reloadCommand: nginx.reloadCommand,
      validation: { host: '127.0.0.1', port: nginx.port, serverName: name, timeoutSeconds: 5 },
    });
    return created.id;
  }

  /** Issued, installed into nginx and validated; then renewed on request: nginx serves each new serial, chained to Pebble's root. */
  async function issueAndRenew(id: string, name: string, nginx: TestNginx): Promise<ManagedView> {
    const first = await settled(id, `${name} to be issued and installed`, (m) => m.status === 'active' && m.currentSerial !== null && m.openJob === null);
    expect(await waitUntilServed(nginx.port, name, rootFile, first.currentSerial!)).toMatchObject({ serial: first.currentSerial, verify: '0 (ok)' });
    await api('POST', `/api/v1/managed-certificates/${id}/renew`);
    const second = await settled(id, `${name} to be renewed`, (m) => m.currentSerial !== first.currentSerial && m.openJob === null && m.status === 'active');
    expect(await waitUntilServed(nginx.port, name, rootFile, second.currentSerial!)).toMatchObject({ serial: second.currentSerial, verify: '0 (ok)' });
    expect(second.jobs.filter((j) => j.state === 'succeeded')).toHaveLength(2);
    return second;
  }

  afterEach(() => {
    const state = expect.getState();
    if (state.assertionCalls !== state.numPassingAsserts) {
      console.log(`agent:\n${agent?.output().slice(-3000)}\nserver:\n${server?.output().slice(-4000)}\npebble:\n${pebble?.output().slice(-2000)}`);
    }
  });

  beforeAll(async () => {
    named = await startNamed(join(work, 'named'));
    httpPort = await freePort();
    // A tenth of good nonces refused (hundreds of requests: some are; six in a row almost never).
    pebble = await startPebble(join(work, 'pebble'), { dnsPort: named.port, httpPort, env: { PEBBLE_WFE_NONCEREJECT: '10' } });
    rootFile = join(work, 'pebble-root.pem');
    const rootPem = await pebble.rootPem();
    writeFileSync(rootFile, rootPem);
    if (database === 'postgresql') db = await createTestDatabase('acme_e2e');
    server = await startServerProcess(await testServerEnv(work, db?.url, { CERTFLEET_SCHEDULER_SECONDS: '1', CERTFLEET_SERVER_COMMANDS: join(work, 'dns-hook.sh') }));
    const cliEnv = { CERTFLEET_URL: server.httpUrl, CERTFLEET_TOKEN_FILE: join(work, 'server', 'admin-token') };
    writeFileSync(join(work, 'pebble-tls.pem'), pebble.tlsCertificatePem);
    const added = await cli(['issuers', 'acme', 'add', '--name', 'pebble', '--directory', pebble.directoryUrl, '--email', 'pki@example.test', '--directory-ca', join(work, 'pebble-tls.pem'), '--root', rootFile, '--max-issuances-per-day', '10'], cliEnv);
    expect(added.stderr).toBe('');
    expect(added.stdout).toMatch(/ACME issuer "pebble" added/);
    const token = await cli(['token', 'create', '--ttl', '1h'], cliEnv);
    const enrolled = await agentCommand(['enroll', '--server', `127.0.0.1:${server.grpcPort}`, '--token', token.stdout.trim(), '--ca-fingerprint', server.fingerprint, '--state-dir', agentState]);
    agentId = /enrolled as agent ([0-9a-f-]{36})/.exec(enrolled.stdout)![1];
    mkdirSync(join(work, 'sites'), { recursive: true });
    agent = startAgentProcess(['--state-dir', agentState, '--scan-root', join(work, 'sites'), '--scan-interval', '3600'], { CERTFLEET_ACME_LISTEN_HOST: '127.0.0.1' });
  });

  afterAll(async () => {
    if (agent) await stopProcess(agent.child);
    for (const stop of stops) stop();
    for (const n of nginxes) await n.stop();
    if (server) await server.stop();
    await pebble?.stop();
    await named?.stop();
    await db?.drop();
    rmSync(work, { recursive: true, force: true });
  });

  it('HTTP-01 standalone: the agent listens on the port only while the challenge lasts', async () => {
    const name = 'standalone.example.test';
    const { dir, nginx } = await site(name);
    const id = await manage(name, dir, nginx, { type: 'http-01', port: httpPort });
    const renewed = await issueAndRenew(id, name, nginx);
    expect(renewed.issuer).toMatchObject({ kind: 'acme', name: 'acme:pebble', challenge: { type: 'http-01', mode: 'standalone', port: httpPort } });
    // The listener is closed after each challenge: the port is free again.
    await expect(fetch(`http://127.0.0.1:${httpPort}/.well-known/acme-challenge/x`)).rejects.toThrow();
  });

  it('HTTP-01 webroot: a CA error while nothing serves the webroot is reported with its ACME type and retried; then issued and renewed', async () => {
    const name = 'webroot.example.test';
    const webroot = join(work, 'webroot');
    mkdirSync(webroot, { recursive: true });
    const { dir, nginx } = await site(name);
    const id = await manage(name, dir, nginx, { type: 'http-01', webroot });
    const failed = await settled(id, 'the order to fail at the CA', (m) => m.failureCount === 1 && m.openJob === null);
    expect(failed.lastError).toMatch(/urn:ietf:params:acme:error:(connection|unauthorized)/);
    expect(failed.lastError).toMatch(/127\.0\.0\.1/); // Pebble's own detail
    expect(failed.jobs[0]).toMatchObject({ state: 'failed', stage: 'issuer' });
    // Retried with the backoff (about a minute for the first failure), not at once.
    const retryInMs = new Date(failed.nextRenewalAt!).getTime() - Date.now();
    expect(retryInMs).toBeGreaterThan(30_000);
    expect(retryInMs).toBeLessThanOrEqual(60_000);
    // The token file was removed after the failed challenge.
    expect(existsSync(join(webroot, '.well-known', 'acme-challenge')) ? readdirSync(join(webroot, '.well-known', 'acme-challenge')) : []).toEqual([]);

    const web = startWebrootNginx(join(work, 'nginx-webroot'), httpPort, webroot);
    stops.push(() => web.stop());
    await api('POST', `/api/v1/managed-certificates/${id}/renew`);
    const first = await settled(id, 'the retry to issue and install', (m) => m.status === 'active' && m.currentSerial !== null && m.openJob === null);
    expect(await waitUntilServed(nginx.port, name, rootFile, first.currentSerial!)).toMatchObject({ verify: '0 (ok)' });
    await api('POST', `/api/v1/managed-certificates/${id}/renew`);
    const second = await settled(id, 'the renewal', (m) => m.currentSerial !== first.currentSerial && m.openJob === null);
    expect(await waitUntilServed(nginx.port, name, rootFile, second.currentSerial!)).toMatchObject({ serial: second.currentSerial, verify: '0 (ok)' });
    expect(readdirSync(join(webroot, '.well-known', 'acme-challenge'))).toEqual([]);
    web.stop();
    stops.pop();
  });

  it('DNS-01 through RFC 2136 (TSIG) updates to named: issued, renewed, and the TXT record removed afterwards', async () => {
    const name = 'dns.example.test';
    const { dir, nginx } = await site(name);
    const id = await manage(name, dir, nginx, { type: 'dns-01', provider: 'rfc2136', server: `127.0.0.1:${named.port}`, zone: named.zone, tsigKeyName: named.keyName, tsigSecret: named.secret });
    const renewed = await issueAndRenew(id, name, nginx);
    expect(renewed.issuer.challenge).toMatchObject({ provider: 'rfc2136', tsigSecret: '********' });
    expect(JSON.stringify(renewed)).not.toContain(named.secret);
    expect(digTxt(named.port, `_acme-challenge.${name}`)).toEqual([]);
  });

  it('DNS-01 through a hook script (here nsupdate to named): present before validation, cleanup after', async () => {
    const name = 'hook.example.test';
    const { dir, nginx } = await site(name);
    const calls = join(work, 'hook-calls');
    const hook = join(work, 'dns-hook.sh');
    writeFileSync(
      hook,
      `#!/bin/sh
set -e
echo "$CERTFLEET_ACME_ACTION $CERTFLEET_ACME_DOMAIN" >> '${calls}'
if [ "$CERTFLEET_ACME_ACTION" = present ]; then change="add $CERTFLEET_ACME_RECORD_NAME 60"; else change="delete $CERTFLEET_ACME_RECORD_NAME"; fi
printf 'server 127.0.0.1 ${named.port}\nupdate %s TXT "%s"\nsend\n' "$change" "$CERTFLEET_ACME_TXT_VALUE" | nsupdate -y 'hmac-sha256:${named.keyName}:${named.secret}'
`,
      { mode: 0o700 },
    );
    // Hooks run on the server: only those its operator listed (CERTFLEET_SERVER_COMMANDS) are accepted.
    const before = (await api<ManagedView[]>('GET', '/api/v1/managed-certificates')).length;
    await expect(manage(name, dir, nginx, { type: 'dns-01', provider: 'hook', command: '/bin/sh -c id' })).rejects.toThrow(/400 .*DNS hook .*\/bin\/sh -c id.* is not allowed/);
    expect((await api<ManagedView[]>('GET', '/api/v1/managed-certificates')).length).toBe(before);
    const id = await manage(name, dir, nginx, { type: 'dns-01', provider: 'hook', command: hook });
    await issueAndRenew(id, name, nginx);
    // The issuance validated through the hook, present then cleanup. So does the renewal, unless
    // Pebble handed back the still-valid authorization: it did once in CI despite PEBBLE_AUTHZREUSE=0.
    const pair = `present ${name}\ncleanup ${name}\n`;
    expect([pair, pair + pair]).toContain(readFileSync(calls, 'utf8'));
    expect(digTxt(named.port, `_acme-challenge.${name}`)).toEqual([]);
  });

  it('reissue guard: no more certificates per managed certificate and day than the issuer allows, whatever is asked', async () => {
    await api('POST', '/api/v1/acme-issuers', { name: 'pebble-strict', directoryUrl: pebble.directoryUrl, directoryTrustPem: pebble.tlsCertificatePem, rootPem: readFileSync(rootFile, 'utf8'), maxIssuancesPerDay: 1 });
    const name = 'guard.example.test';
    const { dir, nginx } = await site(name);
    const created = await api<{ id: string }>('POST', '/api/v1/managed-certificates', {
      name, agentId, issuer: 'acme:pebble-strict', challenge: { type: 'http-01', port: httpPort }, profile: { dnsNames: [name] },
      targets: [{ kind: 'fullchain-pem', path: join(dir, 'fullchain.pem'), keyPath: join(dir, 'key.pem') }], reloadCommand: nginx.reloadCommand,
    });
    const first = await settled(created.id, 'the first issuance', (m) => m.status === 'active' && m.openJob === null);
    await api('POST', `/api/v1/managed-certificates/${created.id}/renew`);
    const refused = await settled(created.id, 'the guard to refuse the second order', (m) => m.failureCount === 1 && m.openJob === null);
    expect(refused.lastError).toMatch(/reissue guard: 1 certificate\(s\) were issued .* in the last 24 h \(at most 1\)/);
    expect(refused.currentSerial).toBe(first.currentSerial);
    // Retried when the oldest issuance leaves the 24 h window, not with the ordinary backoff.
    const retryInMs = new Date(refused.nextRenewalAt!).getTime() - Date.now();
    expect(retryInMs).toBeGreaterThan(23 * 3_600_000);
    expect(retryInMs).toBeLessThanOrEqual(24 * 3_600_000);
  });

  it('revokes an ACME-issued certificate at the CA (certfleet revoke), which Pebble then reports revoked', async () => {
    const cliEnv = { CERTFLEET_URL: server.httpUrl, CERTFLEET_TOKEN_FILE: join(work, 'server', 'admin-token') };
    const [managed] = (await api<ManagedView[]>('GET', '/api/v1/managed-certificates')).filter((m) => m.issuer.name === 'acme:pebble' && m.currentSerial);
    expect((await pebble.certStatus(managed.currentSerial!)).Status).toBe('Valid');
    const revoked = await cli(['revoke', managed.currentSerial!, '--reason', 'superseded'], cliEnv);
    expect(revoked.code).toBe(0);
    expect(await pebble.certStatus(managed.currentSerial!)).toMatchObject({ Status: 'Revoked', Reason: 4 });
    // Again: already revoked, nothing sent to the CA twice, no error.
    expect((await cli(['revoke', managed.currentSerial!, '--reason', 'superseded'], cliEnv)).code).toBe(0);
  });

  it('shows the ACME issuer and the account registered on first use; the audit chain verifies', async () => {
    const cliEnv = { CERTFLEET_URL: server.httpUrl, CERTFLEET_TOKEN_FILE: join(work, 'server', 'admin-token') };
    const shown = JSON.parse((await cli(['issuers', 'acme', 'show', 'pebble', '--json'], cliEnv)).stdout) as { accountUrl: string | null; hasEabHmacKey: boolean };
    expect(shown.accountUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\//);
    const audit = JSON.parse((await cli(['audit', '--json', '--all'], cliEnv)).stdout) as { action: string; detail: { issuer?: string } }[];
    expect(audit.filter((e) => e.action === 'certificate.issued' && e.detail.issuer === 'acme').length).toBeGreaterThanOrEqual(6);
    expect((await cli(['audit', 'verify'], cliEnv)).code).toBe(0);
  });

  it('went through badNonce refusals (a tenth of nonces) without a failed order', async () => {
    // acme-client's retry of each refused nonce, as the server logged it.
    expect(server.output()).toMatch(/Caught invalid nonce error, retrying/);
    const all = await api<ManagedView[]>('GET', '/api/v1/managed-certificates');
    const details = await Promise.all(all.map((m) => show(m.id)));
    const failures = details.flatMap((m) => m.jobs.filter((j) => j.state === 'failed').map((j) => j.error ?? ''));
    // Only the intended failures: nothing served the webroot yet, and the reissue guard.
    expect(failures.length).toBeGreaterThanOrEqual(2);
    expect(failures.every((e) => /urn:ietf:params:acme:error:(connection|unauthorized)|reissue guard/.test(e))).toBe(true);
    expect(failures.join('\n')).not.toMatch(/badNonce/);
  });
});
