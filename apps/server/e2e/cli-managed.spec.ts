import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, TestDatabase } from '../../../tools/test/databases';
import { openDatabase, pgliteDirFor } from '../src/database/data-source';
import { agentCommand, cli, RunResult, ServerProcess, startAgentProcess, startServerProcess, stopProcess, testServerEnv, waitFor } from './support/processes';

jest.setTimeout(300_000);

interface CaView {
  id: string;
  name: string;
  status: string;
  subject: string | null;
  fingerprintSha256: string | null;
  csrPem?: string;
  certificatePem?: string | null;
  chainPem?: string;
  rootPem?: string | null;
  rootKeyPath?: string;
}

interface ManagedView {
  id: string;
  name: string;
  agentId: string;
  hostname: string | null;
  issuer: { name: string | null };
  profile: Record<string, unknown>;
  targets: Record<string, unknown>[];
  validation: Record<string, unknown> | null;
  reloadCommand: string;
  renewBeforeDays: number | null;
  status: string;
  currentSerial: string | null;
  nextRenewalAt: string | null;
  adoptedFrom: string | null;
  jobs?: { reason: string; state: string; dueAt?: string }[];
}

interface AuditEvent {
  seq: string;
  actor: string;
  action: string;
  subjectType: string;
  subjectId: string;
  detail: { before?: Record<string, unknown>; after?: Record<string, unknown> };
}

const openssl = (args: string[]) => execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const ADMIN = 'token:initial admin';
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// The CLI as an operator runs it, against the built server as its own process, on both databases.
describe.each(['pglite', 'postgresql'] as const)('certfleet CLI: issuing CAs, managed certificates and audit on %s', (database) => {
  const work = mkdtempSync(join(tmpdir(), `cf-cli-${database}-`));
  const pass = join(work, 'root-passphrase');
  const scan = join(work, 'scan');
  const install = join(work, 'install');
  let db: TestDatabase | undefined;
  let server: ServerProcess;
  let serverEnv: Record<string, string>;
  let cliEnv: Record<string, string>;
  let agent: ReturnType<typeof startAgentProcess> | undefined;
  // Offline commands get a server address nothing listens on: they must not need one.
  const offlineEnv = { CERTFLEET_URL: 'http://127.0.0.1:1', CERTFLEET_TOKEN: 'unused' };

  const run = (args: string[], env = cliEnv): Promise<RunResult> => cli(args, env);
  /** Runs a command that must succeed; shows its stderr when it does not. */
  async function succeed(args: string[], env = cliEnv): Promise<RunResult> {
    const r = await run(args, env);
    if (r.code !== 0) throw new Error(`certfleet ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
    return r;
  }
  const json = async <T>(args: string[]): Promise<T> => JSON.parse((await succeed([...args, '--json'])).stdout) as T;
  const caIds: Record<string, string> = {};

  afterEach(() => {
    const state = expect.getState();
    if (state.assertionCalls !== state.numPassingAsserts) {
      console.log(`server output:\n${server?.output().slice(-3000)}`);
      if (agent) console.log(`agent output:\n${agent.output().slice(-3000)}`);
    }
  });

  beforeAll(async () => {
    if (database === 'postgresql') db = await createTestDatabase('cli_managed');
    serverEnv = await testServerEnv(work, db?.url);
    server = await startServerProcess(serverEnv);
    cliEnv = { CERTFLEET_URL: server.httpUrl, CERTFLEET_TOKEN_FILE: join(work, 'server', 'admin-token') };
    writeFileSync(pass, 'correct horse battery staple\n', { mode: 0o600 });
    mkdirSync(scan);
    mkdirSync(install);
  });

  afterAll(async () => {
    if (agent) await stopProcess(agent.child);
    if (server) await server.stop();
    await db?.drop();
    rmSync(work, { recursive: true, force: true });
  });

  it('runs the offline root flow: init-root, create-issuing, sign-intermediate, import-issuing; openssl verifies the chain', async () => {
    const root = join(work, 'root');
    await succeed(['ca', 'init-root', '--cn', 'E2E Offline Root', '--org', 'E2E', '--out', root, '--passphrase-file', pass], offlineEnv);
    const rootPem = readFileSync(join(root, 'root-ca.pem'), 'utf8');

    const csrPath = join(work, 'issuing.csr');
    const created = await succeed(['ca', 'create-issuing', '--name', 'e2e issuing', '--curve', 'P-384', '--organization', 'E2E Corp', '--csr-out', csrPath]);
    const id = /created: ([0-9a-f-]{36}) \(pending/.exec(created.stdout)?.[1];
    expect(id).toBeDefined();
    caIds['e2e issuing'] = id!;
    expect(created.stdout).toContain(`certfleet ca sign-intermediate --root-cert root-ca.pem --root-key root-ca.key.pem --csr ${csrPath}`);
    expect(created.stdout).toContain(`certfleet ca import-issuing ${id} --certificate issuing-ca.pem --chain root-ca.pem`);
    // The CSR is signed by a P-384 key the server made; that key never appears in any answer.
    expect(openssl(['req', '-in', csrPath, '-noout', '-subject'])).toMatch(/O ?= ?E2E Corp, CN ?= ?e2e issuing/);
    expect(openssl(['req', '-in', csrPath, '-noout', '-text'])).toContain('NIST CURVE: P-384');
    openssl(['req', '-in', csrPath, '-noout', '-verify']);
    const pending = await json<CaView>(['ca', 'show', 'e2e issuing']);
    expect(pending).toMatchObject({ id, status: 'pending', certificatePem: null, csrPem: readFileSync(csrPath, 'utf8') });
    expect(JSON.stringify(pending)).not.toContain('PRIVATE KEY');

    const issuingPath = join(work, 'issuing.pem');
    await succeed(
      ['ca', 'sign-intermediate', '--root-cert', join(root, 'root-ca.pem'), '--root-key', join(root, 'root-ca.key.pem'), '--csr', csrPath, '--out', issuingPath, '--passphrase-file', pass],
      offlineEnv,
    );
    const imported = await succeed(['ca', 'import-issuing', 'e2e issuing', '--certificate', issuingPath, '--chain', join(root, 'root-ca.pem')]);
    expect(imported.stdout).toContain(`issuing CA "e2e issuing" (${id}) is active`);

    const active = await json<CaView>(['ca', 'show', id!]);
    expect(active.status).toBe('active');
    expect(active.rootPem?.trim()).toBe(rootPem.trim());
    const fetched = join(work, 'issuing-from-server.pem');
    writeFileSync(fetched, active.certificatePem!);
    expect(openssl(['verify', '-CAfile', join(root, 'root-ca.pem'), fetched]).trim()).toBe(`${fetched}: OK`);
    expect(openssl(['x509', '-in', fetched, '-noout', '-fingerprint', '-sha256']).trim().split('=')[1].replace(/:/g, '').toLowerCase()).toBe(active.fingerprintSha256);
    expect(openssl(['x509', '-in', fetched, '-noout', '-pubkey'])).toBe(openssl(['req', '-in', csrPath, '-noout', '-pubkey']));
    expect(openssl(['x509', '-in', fetched, '-noout', '-text'])).toContain('CA:TRUE, pathlen:0');
  });

  it("refuses a certificate for another CA's key, a second import and a chain to another root, with the server's reason", async () => {
    const root = join(work, 'root');
    for (const name of ['e2e other', 'e2e third']) {
      const r = await succeed(['ca', 'create-issuing', '--name', name, '--csr-out', join(work, `${name.replace(' ', '-')}.csr`), '--json']);
      caIds[name] = (JSON.parse(r.stdout) as CaView).id;
    }
    const thirdPem = join(work, 'third.pem');
    await succeed(
      ['ca', 'sign-intermediate', '--root-cert', join(root, 'root-ca.pem'), '--root-key', join(root, 'root-ca.key.pem'), '--csr', join(work, 'e2e-third.csr'), '--out', thirdPem, '--passphrase-file', pass],
      offlineEnv,
    );

    const wrongKey = await run(['ca', 'import-issuing', 'e2e other', '--certificate', thirdPem, '--chain', join(root, 'root-ca.pem')]);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toContain('HTTP 400: cannot import the certificate of issuing CA "e2e other": this certificate is not for issuing CA "e2e other": its public key differs from the key the server generated');
    expect((await json<CaView>(['ca', 'show', 'e2e other'])).status).toBe('pending');

    const again = await run(['ca', 'import-issuing', 'e2e issuing', '--certificate', join(work, 'issuing.pem'), '--chain', join(root, 'root-ca.pem')]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('HTTP 409: issuing CA "e2e issuing" is active, not waiting for its certificate');

    const otherRoot = join(work, 'other-root');
    await succeed(['ca', 'init-root', '--cn', 'Unrelated Root', '--out', otherRoot, '--passphrase-file', pass], offlineEnv);
    const wrongChain = await run(['ca', 'import-issuing', 'e2e third', '--certificate', thirdPem, '--chain', join(otherRoot, 'root-ca.pem')]);
    expect(wrongChain.code).toBe(1);
    expect(wrongChain.stderr).toContain('no certificate in the chain issued');
    expect((await json<CaView>(['ca', 'show', 'e2e third'])).status).toBe('pending');
  });

  it('refuses missing and invalid flags with exit code 2 and the usage, and shows HTTP errors with their message', async () => {
    const cases: [string[], string][] = [
      [['ca', 'create-issuing', '--name', 'x'], '--csr-out FILE is required'],
      [['ca', 'create-issuing', '--name', 'x', '--csr-out', join(work, 'x.csr'), '--curve', 'P-521'], '--curve must be P-256 or P-384'],
      [['ca', 'import-issuing', 'e2e third', '--certificate', join(work, 'third.pem'), '--chain', join(work, 'e2e-third.csr')], 'holds no PEM certificate'],
      [['managed', 'add', '--name', 'x', '--agent', 'y', '--dns', 'x.example'], 'at least one --target SPEC is required'],
      [['managed', 'add', '--name', 'x', '--agent', 'y', '--dns', 'x.example', '--target', 'pkcs12:path=/x.p12,password=secret'], '"password" is not one of them'],
      [['audit', '--since', 'last week'], '--since: "last week" is neither'],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toContain(message);
      expect(r.stderr).toContain('usage:');
    }
    const names = (await json<CaView[]>(['ca', 'list'])).map((c) => c.name);
    expect(names).not.toContain('x'); // nothing was created by the refused calls

    const badToken = await run(['ca', 'list'], { ...cliEnv, CERTFLEET_TOKEN: 'cfa_not_a_token' });
    expect(badToken.code).toBe(1);
    expect(badToken.stderr).toMatch(/GET \/api\/v1\/issuing-cas failed: HTTP 401/);
    const missing = await run(['ca', 'show', 'no such CA']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('HTTP 404: no issuing CA "no such CA"');
  });

  it('quick-start makes an active lab CA and says where the root key went; ca list shows every CA', async () => {
    const r = await succeed(['ca', 'quick-start', '--name', 'e2e-lab']);
    const keyPath = /lab root CA key written on the server host to: (\S+)/.exec(r.stdout)?.[1];
    expect(keyPath?.startsWith(join(work, 'server', 'lab-roots'))).toBe(true);
    expect(statSync(keyPath!).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyPath!, 'utf8')).toContain('PRIVATE KEY');
    expect(r.stderr).toContain('WARNING: this is a lab set-up');
    expect(r.stderr).toContain('move it offline');

    const lab = await json<CaView>(['ca', 'show', 'e2e-lab']);
    caIds['e2e-lab'] = lab.id;
    expect(lab.status).toBe('active');
    writeFileSync(join(work, 'lab-root.pem'), lab.rootPem!);
    writeFileSync(join(work, 'lab-issuing.pem'), lab.certificatePem!);
    expect(openssl(['verify', '-CAfile', join(work, 'lab-root.pem'), join(work, 'lab-issuing.pem')])).toContain(': OK');

    const table = (await succeed(['ca', 'list'])).stdout;
    expect(table).toMatch(/^ID\s+NAME\s+STATUS\s+SUBJECT CN\s+NOT AFTER\s+SHA-256$/m);
    expect(table).toMatch(new RegExp(`^${caIds['e2e issuing']}\\s+e2e issuing\\s+active\\s+e2e issuing\\s+\\d{4}-\\d{2}-\\d{2}\\s+[0-9a-f]{16}$`, 'm'));
    expect(table).toMatch(new RegExp(`^${caIds['e2e other']}\\s+e2e other\\s+pending\\s+-\\s+-\\s+-$`, 'm'));
    expect(table).toMatch(new RegExp(`^${lab.id}\\s+e2e-lab\\s+active`, 'm'));
    expect(table).toContain('4 issuing CA(s), 2 active');
    const all = await json<CaView[]>(['ca', 'list']);
    expect(all.map((c) => [c.name, c.status])).toEqual([
      ['e2e issuing', 'active'],
      ['e2e other', 'pending'],
      ['e2e third', 'pending'],
      ['e2e-lab', 'active'],
    ]);
  });

  it('managed add refuses an unknown agent and profiles that break the issuance policy, with the reason', async () => {
    const base = ['managed', 'add', '--name', 'bad', '--issuer', 'e2e-lab', '--dns', 'bad.example.com', '--target', `combined:path=${install}/bad.pem`];
    const unknown = await run([...base, '--agent', 'no-such-host']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('POST /api/v1/managed-certificates failed: HTTP 404: no enrolled agent "no-such-host"');

    const refusals: [string[], string][] = [
      [['--key-type', 'rsa-1024'], 'HTTP 400: profile.keyType must be one of ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096'],
      [['--validity-days', '5000'], 'HTTP 400: profile.validityDays must be an integer from 1 to 3650'],
      [['--validity-days', '400'], 'HTTP 400: the profile breaks the issuance policy: validity-too-long: validity of 400 days exceeds the policy ceiling of 398 days'],
      [['--dns', '*.example.com'], 'HTTP 400: the profile breaks the issuance policy: wildcard-forbidden'],
      [['--usage', 'email'], 'HTTP 400: unknown usage "email"'],
    ];
    for (const [extra, message] of refusals) {
      const r = await run([...base, '--agent', 'no-such-host', ...extra]);
      expect({ extra, code: r.code }).toEqual({ extra, code: 1 });
      expect(r.stderr).toContain(message);
    }
    expect(await json<ManagedView[]>(['managed', 'list'])).toEqual([]);
  });

  it('with a real enrolled agent: managed add, adopt, list, show, renew-now and remove', async () => {
    const token = (await succeed(['token', 'create', '--ttl', '1h'])).stdout.trim();
    const agentState = join(work, 'agent-state');
    const enrolled = await agentCommand(['enroll', '--server', `localhost:${server.grpcPort}`, '--token', token, '--ca-fingerprint', server.fingerprint, '--state-dir', agentState]);
    expect(enrolled.stdout).toMatch(/enrolled as agent [0-9a-f-]{36}/);
    // A certificate already on the host, from some other CA, for `managed adopt`.
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(work, 'legacy-ca.key'), '-subj', '/CN=Legacy CA', '-days', '30', '-out', join(work, 'legacy-ca.pem')]);
    openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(scan, 'legacy.key'), '-subj', '/CN=legacy.e2e.test', '-out', join(work, 'legacy.csr')]);
    writeFileSync(join(work, 'legacy.ext'), 'subjectAltName=DNS:legacy.e2e.test\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
    openssl(['x509', '-req', '-in', join(work, 'legacy.csr'), '-CA', join(work, 'legacy-ca.pem'), '-CAkey', join(work, 'legacy-ca.key'), '-days', '60', '-extfile', join(work, 'legacy.ext'), '-out', join(scan, 'legacy.pem')]);
    const legacyFp = openssl(['x509', '-in', join(scan, 'legacy.pem'), '-noout', '-fingerprint', '-sha256']).trim().split('=')[1];
    const legacySerial = openssl(['x509', '-in', join(scan, 'legacy.pem'), '-noout', '-serial']).trim().split('=')[1].toLowerCase();

    agent = startAgentProcess(['--state-dir', agentState, '--scan-root', scan, '--scan-interval', '2']);
    const [host] = await waitFor(() => json<{ id: string; hostname: string; online: boolean }[]>(['agents']), (a) => a.length === 1 && a[0].online, 30_000, 'the agent to connect');
    await waitFor(
      async () => (await json<{ items: { fingerprintSha256: string }[] }>(['certs'])).items,
      (items) => items.some((c) => c.fingerprintSha256 === legacyFp.replace(/:/g, '').toLowerCase()),
      30_000,
      'the agent to report the legacy certificate',
    );

    const pw = join(work, 'p12-password');
    writeFileSync(pw, 'p12 secret 123\n', { mode: 0o600 });
    const add = [
      'managed', 'add', '--name', 'www', '--agent', host.hostname, '--dns', 'www.e2e.test', '--dns', 'api.e2e.test', '--ip', '127.0.0.1',
      '--key-type', 'ec-p384', '--validity-days', '30', '--usage', 'tls-server,tls-client', '--cn', 'www.e2e.test',
      '--target', `pem:cert=${install}/www.pem,key=${install}/www.key,chain=${install}/chain.pem`,
      '--target', `pkcs12:path=${install}/www.p12,password-file=${pw},alias=www`,
      '--reload', 'true', '--reload-timeout', '20', '--validate', '127.0.0.1:8443/www.e2e.test', '--renew-before-days', '10',
    ];
    const noIssuer = await run(add);
    expect(noIssuer.code).toBe(1);
    expect(noIssuer.stderr).toContain('HTTP 400: several issuing CAs are active (');
    expect(noIssuer.stderr).toContain('name one with --issuer');

    const addedRun = await succeed([...add, '--issuer', 'e2e issuing', '--json']);
    expect(addedRun.stdout).not.toContain('p12 secret 123');
    const www = JSON.parse(addedRun.stdout) as ManagedView;
    expect(www).toMatchObject({
      name: 'www',
      agentId: host.id,
      hostname: host.hostname,
      issuer: { name: 'e2e issuing' },
      status: 'pending',
      profile: { keyType: 'ec-p384', commonName: 'www.e2e.test', dnsNames: ['www.e2e.test', 'api.e2e.test'], ipAddresses: ['127.0.0.1'], validityDays: 30, usages: ['tls-server', 'tls-client'] },
      targets: [
        { kind: 'pem-files', certPath: `${install}/www.pem`, keyPath: `${install}/www.key`, chainPath: `${install}/chain.pem` },
        { kind: 'pkcs12', path: `${install}/www.p12`, password: '********', alias: 'www' },
      ],
      reloadCommand: 'true',
      validation: { host: '127.0.0.1', port: 8443, serverName: 'www.e2e.test' },
      renewBeforeDays: 10,
    });
    const duplicate = await run([...add, '--issuer', 'e2e issuing']);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toContain('HTTP 409: a managed certificate named "www" already exists');

    // Adopting by hostname: the CLI finds the agent id (the server matches the reporting agent's id).
    const adopted = await json<ManagedView>(['managed', 'adopt', '--agent', host.hostname, '--fingerprint', legacyFp, '--name', 'legacy', '--issuer', 'e2e-lab', '--reload', 'true']);
    expect(adopted).toMatchObject({
      name: 'legacy',
      agentId: host.id,
      status: 'active',
      currentSerial: legacySerial,
      adoptedFrom: legacyFp.replace(/:/g, '').toLowerCase(),
      issuer: { name: 'e2e-lab' },
      profile: { keyType: 'ec-p256', dnsNames: ['legacy.e2e.test'] },
      targets: [{ kind: 'pem-files', certPath: join(scan, 'legacy.pem'), keyPath: join(scan, 'legacy.key') }],
    });
    expect(new Date(adopted.nextRenewalAt!).getTime()).toBeGreaterThan(Date.now());

    const table = (await succeed(['managed', 'list'])).stdout;
    expect(table).toMatch(/^NAME\s+HOST\s+STATUS\s+SERIAL\s+NOT AFTER\s+NEXT RENEWAL\s+FAILURES$/m);
    expect(table).toMatch(new RegExp(`^legacy\\s+${escape(host.hostname)}\\s+active\\s+${legacySerial}\\s+\\d{4}-\\d{2}-\\d{2} [\\d:]{8}\\s+\\d{4}-\\d{2}-\\d{2} [\\d:]{8}\\s+0$`, 'm'));
    expect(table).toMatch(new RegExp(`^www\\s+${escape(host.hostname)}\\s+\\S+`, 'm'));
    expect(table).toContain('2 managed certificate(s)');
    const activeOnHost = await json<ManagedView[]>(['managed', 'list', '--agent', host.hostname, '--status', 'active']);
    expect(activeOnHost.map((m) => m.name)).toContain('legacy');
    expect(activeOnHost.every((m) => m.status === 'active' && m.agentId === host.id)).toBe(true);
    const unknownHost = await run(['managed', 'list', '--agent', 'no-such-host']);
    expect(unknownHost.code).toBe(1);
    expect(unknownHost.stderr).toContain('no enrolled agent "no-such-host"');

    // The scheduler starts the first issuance job for www at once.
    const detail = await waitFor(() => json<ManagedView>(['managed', 'show', 'www']), (m) => (m.jobs ?? []).length > 0, 20_000, 'the first job of www');
    expect(detail.jobs![0].reason).toBe('issue');
    const shown = (await succeed(['managed', 'show', 'www'])).stdout;
    expect(shown).toContain(`agent:        ${host.hostname} (${host.id})`);
    expect(shown).toContain('DNS names:    www.e2e.test, api.e2e.test');
    expect(shown).toContain('validate:     127.0.0.1:8443/www.e2e.test');
    expect(shown).toContain(`pkcs12 ${install}/www.p12 (alias www)`);
    expect(shown).toMatch(/recent jobs \(\d+, newest first\):\nCREATED\s+REASON\s+STATE\s+ATTEMPT\s+STAGE\s+SERIAL\s+ERROR\n[- ]+\n\d{4}-\d{2}-\d{2} [\d:]{8}\s+issue\s+/);
    expect(shown).not.toContain('p12 secret 123');

    expect((await json<ManagedView>(['managed', 'show', 'legacy'])).jobs).toEqual([]); // not due for weeks
    const renewed = await succeed(['managed', 'renew-now', 'legacy']);
    expect(renewed.stdout).toContain('renewal of "legacy" requested');
    const afterRenew = await waitFor(() => json<ManagedView>(['managed', 'show', 'legacy']), (m) => (m.jobs ?? []).length > 0, 20_000, 'the renewal job of legacy');
    expect(afterRenew.jobs!.map((j) => j.reason)).toEqual(['renew']);
    expect(afterRenew.jobs![0].dueAt).toBeDefined();

    // Many at once: by issuing CA, by agent; jobs already running are counted and left alone.
    const requestedEvents = async () => (await json<unknown[]>(['audit', '--action', 'managed.renew-requested', '--limit', '1000'])).length;
    const eventsBefore = await requestedEvents();
    const byIssuer = await json<{ requested: number; alreadyRunning: number }>(['managed', 'renew-now', '--issuer', 'e2e-lab']);
    expect(byIssuer.requested + byIssuer.alreadyRunning).toBe(1); // legacy only
    const byAgent = await json<{ requested: number; alreadyRunning: number }>(['managed', 'renew-now', '--agent', host.hostname]);
    expect(byAgent.requested + byAgent.alreadyRunning).toBe(2);
    expect(await requestedEvents()).toBe(eventsBefore + byIssuer.requested + byAgent.requested);
    expect((await succeed(['managed', 'renew-now', '--all'])).stdout).toMatch(/^renewal requested for \d+ certificate\(s\)/);
    const both = await run(['managed', 'renew-now', 'www', '--all']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give either one certificate (ID or NAME) or --all / --issuer / --agent, not both');
    const noCa = await run(['managed', 'renew-now', '--issuer', 'no-such-ca']);
    expect(noCa.code).toBe(1);
    expect(noCa.stderr).toContain('HTTP 404: no issuing CA "no-such-ca"');

    for (const name of ['www', 'legacy']) {
      const removed = await succeed(['managed', 'remove', name]);
      expect(removed.stdout).toContain(`"${name}" is no longer managed`);
    }
    const gone = await run(['managed', 'show', 'www']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('HTTP 404: no managed certificate "www"');
    expect(await json<ManagedView[]>(['managed', 'list'])).toEqual([]);
    const again = await run(['managed', 'remove', 'www']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('DELETE /api/v1/managed-certificates/www failed: HTTP 404');
  });

  it('audit lists the CA and managed events with the admin token as actor, and audit verify passes', async () => {
    const caEvents = await json<AuditEvent[]>(['audit', '--action', 'issuing-ca.*']);
    const summary = caEvents.map((e) => [e.action, e.subjectId, e.actor]);
    expect(summary).toEqual([
      ['issuing-ca.created', caIds['e2e issuing'], ADMIN],
      ['issuing-ca.imported', caIds['e2e issuing'], ADMIN],
      ['issuing-ca.created', caIds['e2e other'], ADMIN],
      ['issuing-ca.created', caIds['e2e third'], ADMIN],
      ['issuing-ca.created', caIds['e2e-lab'], ADMIN],
      ['issuing-ca.imported', caIds['e2e-lab'], ADMIN],
    ]);
    expect(caEvents[1].detail).toMatchObject({ before: { status: 'pending' }, after: { status: 'active' } });

    const created = await json<AuditEvent[]>(['audit', '--action', 'managed.created', '--actor', ADMIN]);
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ actor: ADMIN, subjectType: 'managed-certificate', detail: { after: { name: 'www', issuer: 'e2e issuing' } } });
    expect(JSON.stringify(created)).not.toContain('p12 secret 123');
    const subject = await json<AuditEvent[]>(['audit', '--subject', `managed-certificate:${created[0].subjectId}`]);
    // The administrator's actions; the running agent may have been sent the certificate meanwhile
    // (its job events carry agent and scheduler actors), but nothing follows the removal. The bulk
    // renew-now requests of the previous test name it only if its first job had finished by then.
    const byAdmin = subject.filter((e) => e.actor === ADMIN).map((e) => e.action);
    expect(byAdmin[0]).toBe('managed.created');
    expect(byAdmin.at(-1)).toBe('managed.removed');
    expect(byAdmin.slice(1, -1).every((a) => a === 'managed.renew-requested')).toBe(true);
    expect(byAdmin.length).toBeLessThanOrEqual(4);
    expect(subject[0].action).toBe('managed.created');
    expect(subject[subject.length - 1].action).toBe('managed.removed');
    expect(await json<AuditEvent[]>(['audit', '--subject', 'issuing-ca', '--limit', '2'])).toHaveLength(2);
    expect(await json<AuditEvent[]>(['audit', '--since', '2000-01-01', '--actor', 'token:nobody'])).toEqual([]);

    const table = (await succeed(['audit', '--subject', `issuing-ca:${caIds['e2e issuing']}`, '--since', '1h'])).stdout;
    expect(table).toMatch(/^SEQ\s+TIME\s+ACTOR\s+ACTION\s+SUBJECT\s+CHANGE$/m);
    expect(table).toMatch(new RegExp(`^\\d+\\s+\\d{4}-\\d{2}-\\d{2} [\\d:]{8}\\s+token:initial admin\\s+issuing-ca\\.created\\s+issuing-ca:${caIds['e2e issuing']}\\s+name=e2e issuing, curve=P-384, status=pending$`, 'm'));
    expect(table).toMatch(/issuing-ca\.imported\s+\S+\s+status: pending→active, /);
    expect(table).toContain('2 event(s)');

    const all = await json<AuditEvent[]>(['audit', '--all']);
    expect(all.map((e) => Number(e.seq))).toEqual(all.map((_, i) => i + 1));
    expect(all.length).toBeGreaterThan(caEvents.length + 4);
    expect((await json<AuditEvent[]>(['audit', '--limit', '20000'])).map((e) => e.seq)).toEqual(all.map((e) => e.seq));
    expect(all.some((e) => e.action === 'managed.adopted' && e.actor === ADMIN)).toBe(true);
    expect(all.some((e) => e.action === 'managed.renew-requested' && e.actor === ADMIN)).toBe(true);

    const verify = await run(['audit', 'verify']);
    expect(verify).toMatchObject({ code: 0, stdout: `audit trail intact: ${all.length} event(s) checked, last seq ${all.length}\n` });
  });

  it('audit verify exits 1 and names the edited event when the trail was changed behind the server', async () => {
    if (agent) await stopProcess(agent.child);
    agent = undefined;
    await server.stop(); // PGlite allows one process; PostgreSQL would not need this
    const ds = await openDatabase(db ? { url: db.url } : { pgliteDir: pgliteDirFor(join(work, 'server')) });
    try {
      await ds.query(`UPDATE "audit_events" SET "detail" = jsonb_set("detail", '{after,name}', '"forged"') WHERE "seq" = 1`);
    } finally {
      await ds.destroy();
    }
    server = await startServerProcess(serverEnv);
    const verify = await run(['audit', 'verify']);
    expect(verify.code).toBe(1);
    expect(verify.stderr).toContain('audit trail BROKEN at event 1: its content does not match its hash (edited)');
    const asJson = await run(['audit', 'verify', '--json']);
    expect(asJson.code).toBe(1);
    expect(JSON.parse(asJson.stdout)).toMatchObject({ ok: false, brokenAt: '1' });
  });
});
