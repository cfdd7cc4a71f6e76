// probeEndpoint against real TLS servers on loopback, the same five configurations served by
// Node's TLS server and by Debian's nginx, with certificates made by the real openssl.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, Server, Socket } from 'node:net';
import { EndpointProbe, probeEndpoint } from './probe';
import { EndpointCase, EndpointTestPki, startNodeTlsServer, TestNginxEndpoints } from './testing/endpoint-test-pki';

jest.setTimeout(60_000);

let pki: EndpointTestPki;
beforeAll(() => {
  pki = new EndpointTestPki();
});
afterAll(() => pki?.remove());

const CASES: EndpointCase[] = ['good', 'expired', 'wrongHost', 'incompleteChain', 'tls10'];

describe.each(['node', 'nginx'] as const)('probeEndpoint against %s', (server) => {
  const ports = new Map<EndpointCase, number>();
  const stops: Array<() => Promise<void>> = [];
  let prefix: string | undefined;

  beforeAll(async () => {
    if (server === 'node') {
      for (const name of CASES) {
        const started = await startNodeTlsServer(pki.cases[name]);
        ports.set(name, started.port);
        stops.push(started.close);
      }
    } else {
      prefix = mkdtempSync(join(tmpdir(), 'cf-endpoint-nginx-'));
      const nginx = await TestNginxEndpoints.start(prefix, pki.cases);
      for (const name of CASES) ports.set(name, nginx.port(name));
      stops.push(() => nginx.stop());
    }
  });
  afterAll(async () => {
    for (const stop of stops) await stop();
    if (prefix) rmSync(prefix, { recursive: true, force: true });
  });

  const probe = (name: EndpointCase, serverName = 'www.endpoint.test', extra: { testVersions?: boolean } = {}): Promise<EndpointProbe> =>
    probeEndpoint({ host: '127.0.0.1', port: ports.get(name)!, serverName, timeoutMs: 5000, trust: { roots: [pki.rootPem], systemRoots: false }, ...extra });

  it('good: full chain to the trusted root, name matches, TLS 1.3, stapled OCSP verified as good', async () => {
    const result = await probe('good', 'www.endpoint.test', { testVersions: true });
    expect(result).toMatchObject({ tls: true, error: null, protocol: 'TLSv1.3', hostnameMatch: true, hostnameError: null, chainValid: true, chainError: null, expired: false });
    expect(result.cipher).toMatch(/^TLS_/);
    expect(result.leafFingerprintSha256).toBe(pki.cases.good.leaf.fingerprint256.replace(/:/g, '').toLowerCase());
    expect(result.chain.map((c) => c.subject)).toEqual(expect.arrayContaining(['CN=good', 'CN=Endpoint Test Intermediate, O=certfleet tests']));
    expect(result.notAfter?.toISOString()).toBe(new Date(pki.cases.good.leaf.validTo).toISOString());
    expect(result.ocsp).toMatchObject({ status: 'good', detail: expect.stringContaining('stapled') });
    expect(result.acceptedVersions).toEqual(['TLSv1.2', 'TLSv1.3']);
  });

  it('expired: chain error CERT_HAS_EXPIRED and expired flagged, name still matches', async () => {
    const result = await probe('expired');
    expect(result).toMatchObject({ tls: true, chainValid: false, chainError: 'CERT_HAS_EXPIRED', hostnameMatch: true, expired: true, ocsp: null });
    expect(result.notAfter?.toISOString()).toBe('2020-02-01T00:00:00.000Z');
  });

  it('wrong host: the chain is valid but the name does not match', async () => {
    const result = await probe('wrongHost');
    expect(result).toMatchObject({ tls: true, chainValid: true, hostnameMatch: false });
    expect(result.hostnameError).toContain("Host: www.endpoint.test. is not in the cert's altnames: DNS:elsewhere.example");
  });

  it('incomplete chain: the leaf alone does not reach the root', async () => {
    const result = await probe('incompleteChain');
    expect(result).toMatchObject({ tls: true, hostnameMatch: true, chainValid: false, chainError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    expect(result.chain).toHaveLength(1);
  });

  it('TLS 1.0 only: still probed, and the negotiated and accepted versions say so', async () => {
    const result = await probe('tls10', 'www.endpoint.test', { testVersions: true });
    expect(result).toMatchObject({ tls: true, protocol: 'TLSv1', chainValid: true, hostnameMatch: true, acceptedVersions: ['TLSv1'] });
    expect(result.cipher).toMatch(/CBC/);
  });

  it('a name the certificate is for, given as IP (no SNI) also matches', async () => {
    const result = await probeEndpoint({ host: '127.0.0.1', port: ports.get('good')!, trust: { roots: [pki.rootPem] } });
    expect(result).toMatchObject({ serverName: null, hostnameMatch: true, chainValid: true });
  });
});

describe('probeEndpoint failures', () => {
  it('reports refused connections, non-TLS listeners and silent ones without throwing', async () => {
    const plain: Server = createServer((socket) => socket.on('error', () => undefined).resume().end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    // Holds connections open without reading; they are destroyed at the end.
    const held = new Set<Socket>();
    const silent: Server = createServer((socket) => held.add(socket));
    await Promise.all([plain, silent].map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))));
    const portOf = (s: Server) => (s.address() as { port: number }).port;
    try {
      const notTls = await probeEndpoint({ host: '127.0.0.1', port: portOf(plain), timeoutMs: 2000 });
      expect(notTls).toMatchObject({ tls: false, error: 'not TLS (wrong version number)' });
      const started = Date.now();
      const quiet = await probeEndpoint({ host: '127.0.0.1', port: portOf(silent), timeoutMs: 300 });
      expect(quiet).toMatchObject({ tls: false, error: 'no TLS handshake within 300 ms' });
      expect(Date.now() - started).toBeLessThan(2000);
      const port = portOf(silent);
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
      expect(await probeEndpoint({ host: '127.0.0.1', port, timeoutMs: 2000 })).toMatchObject({ tls: false, error: 'connection refused' });
    } finally {
      await new Promise((resolve) => plain.close(resolve));
      silent.close();
    }
  });

  it('refuses bad input with a clear error', async () => {
    await expect(probeEndpoint({ host: '127.0.0.1', port: 70000 })).rejects.toThrow('port must be 1-65535, got 70000');
    await expect(probeEndpoint({ host: 'a b', port: 443 })).rejects.toThrow('not a host name or address');
  });
});
