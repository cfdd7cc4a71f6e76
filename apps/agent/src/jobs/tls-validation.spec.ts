// The handshake check on its own, against a real Node TLS server.
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JobFixture, SERVER_NAME } from './testing/job-fixture';
import { TestPki } from './testing/test-pki';
import { freePort, ReloadableTlsServer } from './testing/tls-servers';
import { validateServedCertificate } from './tls-validation';

jest.setTimeout(30_000);

describe('validateServedCertificate', () => {
  let pki: TestPki;
  let fx: JobFixture;
  let root: X509Certificate;
  let old: X509Certificate;

  beforeAll(async () => {
    pki = await TestPki.create('Validation Test');
    fx = await JobFixture.create(pki, 'jobs-validate-');
    root = new X509Certificate(pki.rootPem);
    old = new X509Certificate(fx.old.certificatePem);
  });
  afterAll(() => fx.remove());

  async function serving(certs: string[], key: string, name: string): Promise<ReloadableTlsServer> {
    const certFile = join(fx.dir, `${name}.pem`);
    const keyFile = join(fx.dir, `${name}.key`);
    writeFileSync(certFile, certs.join(''));
    writeFileSync(keyFile, key);
    return ReloadableTlsServer.start(fx.dir, { certFiles: [certFile], keyFile });
  }

  it('accepts the expected leaf with its chain, also when the server sends the root as well', async () => {
    const server = await serving([fx.old.certificatePem, pki.intermediatePem, pki.rootPem], fx.old.privateKeyPem, 'with-root');
    try {
      await expect(validateServedCertificate({ host: '127.0.0.1', port: server.port, serverName: SERVER_NAME, timeoutMs: 2000 }, old, root)).resolves.toEqual({
        ok: true,
        attempts: 1,
      });
    } finally {
      await server.close();
    }
  });

  it('checks an IP address against the certificate when there is no server name', async () => {
    const ipOnly = await pki.issueKeyAndCertificate({ dnsNames: [], ipAddresses: ['127.0.0.1'] });
    const server = await serving([ipOnly.certificatePem, pki.intermediatePem], ipOnly.privateKeyPem, 'ip-only');
    try {
      const expected = new X509Certificate(ipOnly.certificatePem);
      await expect(validateServedCertificate({ host: '127.0.0.1', port: server.port, timeoutMs: 2000 }, expected, root)).resolves.toMatchObject({ ok: true });
      const wrongIp = await validateServedCertificate({ host: '127.0.0.1', port: server.port, serverName: '127.0.0.2', timeoutMs: 300 }, expected, root);
      expect(wrongIp).toMatchObject({ ok: false });
      expect(wrongIp.ok ? '' : wrongIp.error).toContain('the served certificate is not valid for 127.0.0.2');
    } finally {
      await server.close();
    }
  });

  it('retries about every 200 ms until the deadline and says why the last handshake failed', async () => {
    const port = await freePort();
    const started = Date.now();
    const outcome = await validateServedCertificate({ host: '127.0.0.1', port, serverName: SERVER_NAME, timeoutMs: 1000 }, old, root);
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
    expect(Date.now() - started).toBeLessThan(2500);
    expect(outcome.attempts).toBeGreaterThanOrEqual(4);
    expect(outcome.ok ? '' : outcome.error).toMatch(new RegExp(`^127\\.0\\.0\\.1:${port} \\(SNI ${SERVER_NAME}\\) after \\d+ handshake\\(s\\) in 1000 ms: handshake failed: connect ECONNREFUSED`));
  });

  it('succeeds once a server that reloads late starts serving the expected certificate', async () => {
    const next = await pki.issueKeyAndCertificate({ dnsNames: [SERVER_NAME] });
    const server = await serving([fx.old.certificatePem, pki.intermediatePem], fx.old.privateKeyPem, 'late');
    let timer: NodeJS.Timeout | undefined;
    try {
      timer = setTimeout(() => {
        writeFileSync(join(fx.dir, 'late.pem'), next.certificatePem + pki.intermediatePem);
        writeFileSync(join(fx.dir, 'late.key'), next.privateKeyPem);
        writeFileSync(join(fx.dir, 'reload-signal'), 'go');
      }, 600);
      const outcome = await validateServedCertificate(
        { host: '127.0.0.1', port: server.port, serverName: SERVER_NAME, timeoutMs: 5000 },
        new X509Certificate(next.certificatePem),
        root,
      );
      expect(outcome).toMatchObject({ ok: true });
      expect(outcome.attempts).toBeGreaterThan(1);
    } finally {
      clearTimeout(timer);
      await server.close();
    }
  });
});
