import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as acme from 'acme-client';
import { createTestDatabase, TestDatabase } from '../../../tools/test/databases';
import { certIdOf } from '../src/app/acme-server/renewal-info';
import { certbot, lego, opensslOcspStatus, opensslVerify, runTool, serialOf, startWebroot } from './support/acme-clients';
import { cli, freePort, ServerProcess, startServerProcess, testServerEnv } from './support/processes';

jest.setTimeout(300_000);

const NAMES = ['www.acme.test', 'web.acme.test', 'lego.acme.test', 'tls.acme.test', 'eab.acme.test', 'eab2.acme.test'];

// certbot and lego, as real processes, against certfleet's ACME directory over HTTP on loopback;
// the server validates HTTP-01 and TLS-ALPN-01 by connecting to the clients' own responders.
describe.each(['pglite', 'postgresql'] as const)('ACME server with certbot and lego on %s', (database) => {
  const work = mkdtempSync(join(tmpdir(), `cf-e2e-acme-${database}-`));
  let db: TestDatabase | undefined;
  let server: ServerProcess;
  let cliEnv: Record<string, string>;
  let http01Port: number;
  let tlsPort: number;
  let directory: string;
  let caId: string;
  const rootFile = join(work, 'root.pem');
  /** lego's flags for the external account binding of the "strict" directory (set by the EAB test). */
  let strictEab: string[] = [];

  afterEach(() => {
    const state = expect.getState();
    if (state.assertionCalls !== state.numPassingAsserts) console.log(`server output:\n${server?.output().slice(-6000)}`);
  });

  beforeAll(async () => {
    if (database === 'postgresql') db = await createTestDatabase('acme_server_e2e');
    http01Port = await freePort();
    tlsPort = await freePort();
    server = await startServerProcess(
      await testServerEnv(work, db?.url, {
        CERTFLEET_ACME_HTTP01_PORT: String(http01Port),
        CERTFLEET_ACME_TLSALPN01_PORT: String(tlsPort),
        CERTFLEET_ACME_HOSTS: NAMES.map((n) => `${n}=127.0.0.1`).join(','),
        CERTFLEET_ACME_EAB_REQUIRED: 'strict',
      }),
    );
    cliEnv = { CERTFLEET_URL: server.httpUrl, CERTFLEET_TOKEN_FILE: join(work, 'server', 'admin-token') };
    for (const name of ['lab', 'strict']) {
      const made = await cli(['ca', 'quick-start', '--name', name], cliEnv);
      if (made.code !== 0) throw new Error(`quick-start ${name}: ${made.stderr}`);
    }
    const lab = JSON.parse((await cli(['ca', 'show', 'lab', '--json'], cliEnv)).stdout) as { id: string; rootPem: string };
    caId = lab.id;
    writeFileSync(rootFile, lab.rootPem);
    directory = `${server.httpUrl}/acme/lab/directory`;
  });

  afterAll(async () => {
    if (server) await server.stop();
    await db?.drop();
    rmSync(work, { recursive: true, force: true });
  });

  it('certbot obtains (standalone and webroot), renews and revokes; chains verify against the root', async () => {
    const dir = join(work, 'certbot');
    const standalone = ['--standalone', '--http-01-address', '127.0.0.1', '--http-01-port', String(http01Port)];
    const first = await certbot(dir, ['certonly', '--server', directory, '--agree-tos', '--register-unsafely-without-email', ...standalone, '-d', 'www.acme.test']);
    expect(first.out).toContain('Successfully received certificate');
    const live = join(dir, 'config', 'live', 'www.acme.test');
    expect((await opensslVerify(rootFile, join(live, 'chain.pem'), join(live, 'cert.pem'))).out).toContain(': OK');
    const firstSerial = await serialOf(join(live, 'cert.pem'));
    // In the inventory as soon as it is issued, located at its ACME order (no agent runs here).
    const acmeInventory = async () =>
      (JSON.parse((await cli(['certs', '--agent', 'acme:lab', '--json'], cliEnv)).stdout) as { items: Array<{ serial: string; path: string; status: string; detail: { dnsNames: string[] } }> }).items;
    expect(await acmeInventory()).toEqual([expect.objectContaining({ serial: firstSerial, status: 'OK', path: expect.stringMatching(/^\/acme\/lab\/order\//), detail: expect.objectContaining({ dnsNames: ['www.acme.test'] }) })]);

    // Webroot: certbot writes the token file, a static server on the HTTP-01 port serves it.
    const webroot = join(work, 'webroot');
    mkdirSync(webroot);
    const web = await startWebroot(webroot, http01Port);
    try {
      const viaWebroot = await certbot(dir, ['certonly', '--server', directory, '--webroot', '-w', webroot, '-d', 'web.acme.test']);
      expect(viaWebroot.out).toContain('Successfully received certificate');
    } finally {
      await web.stop();
    }
    expect(web.requests()).toBeGreaterThan(0);
    const webLive = join(dir, 'config', 'live', 'web.acme.test');
    expect((await opensslVerify(rootFile, join(webLive, 'chain.pem'), join(webLive, 'cert.pem'))).out).toContain(': OK');
    // Revocation signed by the certificate's own key (no account).
    const byKey = await certbot(dir, ['revoke', '--server', directory, '--cert-path', join(webLive, 'cert.pem'), '--key-path', join(webLive, 'privkey.pem'), '--no-delete-after-revoke']);
    expect(byKey.out).toContain('successfully revoked');
    expect((await opensslOcspStatus(`${server.httpUrl}/pki/ocsp`, rootFile, join(webLive, 'chain.pem'), join(webLive, 'cert.pem'))).out).toMatch(/: revoked/);

    // Renewal (certonly --force-renewal: `certbot renew` sleeps at random when not on a terminal).
    const renewed = await certbot(dir, ['certonly', '--server', directory, ...standalone, '--force-renewal', '-d', 'www.acme.test']);
    expect(renewed.out).toContain('Successfully received certificate');
    const renewedSerial = await serialOf(join(live, 'cert.pem'));
    expect(renewedSerial).not.toBe(firstSerial);
    // The renewal replaced the first; web.acme.test was revoked: neither is listed any more.
    expect((await acmeInventory()).map((c) => c.serial)).toEqual([renewedSerial]);
    expect((await opensslVerify(rootFile, join(live, 'chain.pem'), join(live, 'cert.pem'))).out).toContain(': OK');

    const revoked = await certbot(dir, ['revoke', '--server', directory, '--cert-path', join(live, 'cert.pem'), '--reason', 'keycompromise', '--no-delete-after-revoke']);
    expect(revoked.out).toContain('successfully revoked');
    const ocsp = await opensslOcspStatus(`${server.httpUrl}/pki/ocsp`, rootFile, join(live, 'chain.pem'), join(live, 'cert.pem'));
    expect(ocsp.out).toMatch(/: revoked/);
    expect(ocsp.out).toContain('Reason: keyCompromise');
    expect(await acmeInventory()).toEqual([]);

    // Recorded like every certificate the CA signs, and shown as issued by ACME.
    const listed = JSON.parse((await cli(['acme', 'certs', '--ca', 'lab', '--json'], cliEnv)).stdout) as Array<{ serial: string; issuedBy: string; revokedAt: string | null; replacedBySerial: string | null }>;
    expect(listed.find((c) => c.serial === renewedSerial)).toMatchObject({ issuedBy: 'acme', revokedAt: expect.any(String), replacedBySerial: null });
    expect(listed.find((c) => c.serial === firstSerial)).toMatchObject({ issuedBy: 'acme', revokedAt: null, replacedBySerial: renewedSerial });
    const revocations = await cli(['revoke', 'list', '--issuer', 'lab', '--json'], cliEnv);
    expect(revocations.stdout).toContain(renewedSerial);
  });

  it('lego obtains with HTTP-01 and TLS-ALPN-01, renews and revokes', async () => {
    const dir = join(work, 'lego');
    const http = ['--http', '--http.port', `127.0.0.1:${http01Port}`];
    const run = await lego(dir, directory, ['--email', 'ops@example.com', '--domains', 'lego.acme.test', ...http, 'run']);
    expect(run.out).toContain('Server responded with a certificate');
    const crt = join(dir, 'certificates', 'lego.acme.test.crt');
    const issuer = join(dir, 'certificates', 'lego.acme.test.issuer.crt');
    expect((await opensslVerify(rootFile, issuer, crt)).out).toContain(': OK');
    const first = await serialOf(crt);

    const renew = await lego(dir, directory, ['--email', 'ops@example.com', '--domains', 'lego.acme.test', ...http, 'renew', '--days', '400', '--no-random-sleep']);
    expect(renew.out).toContain('Server responded with a certificate');
    const second = await serialOf(crt);
    expect(second).not.toBe(first);
    expect((await opensslVerify(rootFile, issuer, crt)).out).toContain(': OK');

    const tls = await lego(dir, directory, ['--email', 'ops@example.com', '--domains', 'tls.acme.test', '--tls', '--tls.port', `127.0.0.1:${tlsPort}`, 'run']);
    expect(tls.out).toContain('Server responded with a certificate');
    expect((await opensslVerify(rootFile, join(dir, 'certificates', 'tls.acme.test.issuer.crt'), join(dir, 'certificates', 'tls.acme.test.crt'))).out).toContain(': OK');

    const revoke = await lego(dir, directory, ['--email', 'ops@example.com', '--domains', 'lego.acme.test', 'revoke', '--keep']);
    expect(revoke.out).toContain('Certificate was revoked');
    const crl = await fetch(`${server.httpUrl}/pki/crl/${caId}.crl`);
    const crlFile = join(work, 'lab.crl');
    writeFileSync(crlFile, Buffer.from(await crl.arrayBuffer()));
    const text = await runTool('openssl', ['crl', '-inform', 'DER', '-in', crlFile, '-noout', '-text']);
    expect(text.out.toLowerCase().replace(/:/g, '')).toContain(second);
  });

  it('a directory that requires external account binding refuses lego without it and accepts a single-use key', async () => {
    const strict = `${server.httpUrl}/acme/strict/directory`;
    const meta = (await (await fetch(strict)).json()) as { meta: { externalAccountRequired: boolean } };
    expect(meta.meta.externalAccountRequired).toBe(true);
    const http = ['--http', '--http.port', `127.0.0.1:${http01Port}`];
    const refused = await lego(join(work, 'lego-noeab'), strict, ['--email', 'a@example.com', '--domains', 'eab.acme.test', ...http, 'run']);
    expect(refused.code).not.toBe(0);
    expect(refused.out).toContain('Server requires External Account Binding');
    // lego stops at the directory's meta; the server itself refuses such an account too.
    const bare = new acme.Client({ directoryUrl: strict, accountKey: await acme.crypto.createPrivateEcdsaKey() });
    await expect(bare.createAccount({ termsOfServiceAgreed: true })).rejects.toThrow(/requires external account binding/);

    const created = await cli(['acme', 'eab', 'create', '--ca', 'strict', '--json'], cliEnv);
    expect(created.code).toBe(0);
    const { kid, hmacKey } = JSON.parse(created.stdout) as { kid: string; hmacKey: string };
    const eab = ['--eab', '--kid', kid, '--hmac', hmacKey];
    strictEab = eab;
    const accepted = await lego(join(work, 'lego-eab'), strict, ['--email', 'a@example.com', '--domains', 'eab.acme.test', ...eab, ...http, 'run']);
    expect(accepted.out).toContain('Server responded with a certificate');
    const strictRoot = join(work, 'strict-root.pem');
    writeFileSync(strictRoot, (JSON.parse((await cli(['ca', 'show', 'strict', '--json'], cliEnv)).stdout) as { rootPem: string }).rootPem);
    expect((await opensslVerify(strictRoot, join(work, 'lego-eab', 'certificates', 'eab.acme.test.issuer.crt'), join(work, 'lego-eab', 'certificates', 'eab.acme.test.crt'))).out).toContain(': OK');

    // Single use: another account key cannot register with the same binding.
    const reused = await lego(join(work, 'lego-eab-again'), strict, ['--email', 'b@example.com', '--domains', 'eab2.acme.test', ...eab, ...http, 'run']);
    expect(reused.code).not.toBe(0);
    expect(reused.out).toMatch(/unauthorized/);
  });

  // Last: it revokes the "strict" CA that the test above issued from.
  it('after a break-glass replacement of its CA, the directory keeps its URL and accounts: ARI says renew now, lego renews from the replacement', async () => {
    const strict = `${server.httpUrl}/acme/strict/directory`;
    const legoDir = join(work, 'lego-eab');
    const crt = join(legoDir, 'certificates', 'eab.acme.test.crt');
    const oldSerial = await serialOf(crt);
    const plan = JSON.parse((await cli(['breakglass', 'plan', '--issuer', 'strict', '--json'], cliEnv)).stdout) as { acme: Array<{ serial: string; identifiers: string[] }> };
    expect(plan.acme).toEqual([expect.objectContaining({ serial: oldSerial, identifiers: ['eab.acme.test'] })]);
    const run = await cli(['breakglass', 'run', '--issuer', 'strict', '--confirm'], cliEnv);
    expect(run.code).toBe(0);
    const campaignId = /campaign ([0-9a-f-]{36})/.exec(run.stdout)![1];

    // RFC 9773: the revoked certificate's renewal window is already over.
    const ari = await fetch(`${server.httpUrl}/acme/strict/renewal-info/${certIdOf(readFileSync(crt, 'utf8'))}`);
    expect(ari.status).toBe(200);
    expect(Date.parse(((await ari.json()) as { suggestedWindow: { end: string } }).suggestedWindow.end)).toBeLessThan(Date.now());
    const directories = JSON.parse((await cli(['acme', 'directories', '--json'], cliEnv)).stdout) as Array<{ ca: string; directoryUrl: string; replaces: string[]; externalAccountRequired: boolean }>;
    expect(directories.find((d) => d.directoryUrl === strict)).toEqual(expect.objectContaining({ ca: 'strict-r1', replaces: ['strict'], externalAccountRequired: true }));

    // The same lego account at the same URL. lego passes its binding again whenever the directory
    // requires one; the server knows the account's key and answers with the account (the key was used).
    const renew = await lego(legoDir, strict, ['--email', 'a@example.com', '--domains', 'eab.acme.test', ...strictEab, '--http', '--http.port', `127.0.0.1:${http01Port}`, 'renew', '--days', '400', '--no-random-sleep']);
    expect(renew.out).toContain('Server responded with a certificate');
    const replacement = JSON.parse((await cli(['ca', 'show', 'strict-r1', '--json'], cliEnv)).stdout) as { certificatePem: string; rootPem: string };
    const issuerFile = join(legoDir, 'certificates', 'eab.acme.test.issuer.crt');
    expect(new X509Certificate(readFileSync(issuerFile)).fingerprint256).toBe(new X509Certificate(replacement.certificatePem).fingerprint256);
    const rootOfStrict = join(work, 'strict-root.pem');
    expect((await opensslVerify(rootOfStrict, issuerFile, crt)).out).toContain(': OK');
    expect(await serialOf(crt)).not.toBe(oldSerial);

    const status = await cli(['breakglass', 'status', campaignId], cliEnv);
    expect(status.stdout).toContain('ACME clients: 1 of 1 renewed from the replacement CA');
  });
});
