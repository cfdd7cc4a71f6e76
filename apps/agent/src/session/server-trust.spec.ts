import { once } from 'node:events';
import { createServer, Server } from 'node:tls';
import { createFleetCa, formatFingerprint, issueServerCertificate, sha256Fingerprint } from '@certfleet/pki';
import { fetchPinnedFleetCa, parseServerAddress } from './server-trust';

describe('parseServerAddress', () => {
  it.each([
    ['host:port', 'ca.example:9443', { host: 'ca.example', port: 9443 }],
    ['host alone uses 7443', 'ca.example', { host: 'ca.example', port: 7443 }],
    ['bracketed IPv6', '[::1]:7000', { host: '::1', port: 7000 }],
  ])('%s', (_n, input, expected) => expect(parseServerAddress(input)).toEqual(expected));

  it('refuses a bad port', () => expect(() => parseServerAddress('h:99999')).toThrow('HOST:PORT'));
});

describe('fetchPinnedFleetCa', () => {
  let server: Server;
  let port: number;
  let caPem: string;

  async function serve(chainPem: string, keyPem: string): Promise<void> {
    server?.close();
    server = createServer({ cert: chainPem, key: keyPem, ALPNProtocols: ['h2'] }, (s) => s.end());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as { port: number }).port;
  }

  beforeAll(async () => {
    const ca = await createFleetCa({ commonName: 'pin test CA' });
    caPem = ca.certificatePem;
    const leaf = await issueServerCertificate({ ca, commonName: 'srv', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], validityDays: 30 });
    await serve(leaf.certificatePem + caPem, leaf.privateKeyPem);
  });
  afterAll(() => server?.close());

  it('returns the fleet CA whose fingerprint matches the pin, in either notation', async () => {
    const pin = sha256Fingerprint(caPem);
    expect(await fetchPinnedFleetCa({ host: '127.0.0.1', port }, formatFingerprint(pin))).toBe(caPem.trim() + '\n');
    expect(await fetchPinnedFleetCa({ host: '127.0.0.1', port }, `sha256:${pin}`)).toContain('BEGIN CERTIFICATE');
  });

  it('refuses a server that does not present the pinned CA', async () => {
    await expect(fetchPinnedFleetCa({ host: '127.0.0.1', port }, 'AB'.repeat(32))).rejects.toThrow('did not present the fleet CA');
  });

  it('refuses a certificate from the pinned CA that lacks the server role', async () => {
    const ca = await createFleetCa({ commonName: 'other CA' });
    // A CA certificate serving as its own leaf: right CA, but not a certfleet server certificate.
    await serve(ca.certificatePem, ca.privateKeyPem);
    await expect(fetchPinnedFleetCa({ host: '127.0.0.1', port }, sha256Fingerprint(ca.certificatePem))).rejects.toThrow('not a certfleet server certificate');
  });

  it('explains an unreachable server', async () => {
    await expect(fetchPinnedFleetCa({ host: '127.0.0.1', port: 1 }, 'AB'.repeat(32))).rejects.toThrow('cannot reach the certfleet server');
  });
});
