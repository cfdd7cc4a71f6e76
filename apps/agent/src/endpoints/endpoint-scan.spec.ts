// Listener discovery from the real /proc of this machine, and the probe report, against servers
// the test opens on loopback: a TLS server (openssl-made certificate) and a plain TCP one.
import { createServer, Server } from 'node:net';
import { EndpointTestPki, startNodeTlsServer } from '../../../../libs/pki/src/endpoint-probe/testing/endpoint-test-pki';
import { scanEndpoints } from './endpoint-scan';
import { findListeners, parseTcpTable, probeAddress } from './listeners';

jest.setTimeout(30_000);

let pki: EndpointTestPki;
let tlsServer: { port: number; close(): Promise<void> };
let plain: Server;
let plainPort: number;

beforeAll(async () => {
  pki = new EndpointTestPki();
  tlsServer = await startNodeTlsServer(pki.cases.good);
  // Reads what comes (so the client's close is seen and server.close() can finish), answers like sshd.
  plain = createServer((socket) => socket.on('error', () => undefined).resume().end('SSH-2.0-OpenSSH_9.2\r\n'));
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
  plainPort = (plain.address() as { port: number }).port;
});
afterAll(async () => {
  await tlsServer?.close();
  await new Promise((resolve) => plain?.close(resolve));
  pki?.remove();
});

describe('listeners', () => {
  it('finds the servers this test opened in /proc/net/tcp, with this process as their owner', () => {
    const listeners = findListeners();
    for (const port of [tlsServer.port, plainPort]) {
      expect(listeners).toContainEqual(expect.objectContaining({ address: '127.0.0.1', port, family: 4, process: expect.stringContaining(`(pid ${process.pid})`) }));
    }
  });

  it('parses LISTEN rows of both tables (little-endian words), skipping other states', () => {
    const tcp = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F91 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 12346 1 0000000000000000 20 4 30 10 -1
   2: 00000000:01BB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12347 1 0000000000000000 100 0 0 10 0`;
    expect(parseTcpTable(tcp, 4)).toEqual([
      { address: '127.0.0.1', port: 8080, family: 4, inode: 12345 },
      { address: '0.0.0.0', port: 443, family: 4, inode: 12347 },
    ]);
    const tcp6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000000000000:20FB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 778 1 0000000000000000 100 0 0 10 0`;
    const six = parseTcpTable(tcp6, 6);
    expect(six.map((l) => [l.address, l.port])).toEqual([['::1', 80], ['::', 8443]]);
    expect(probeAddress({ ...six[1], process: null })).toBe('::1');
  });
});

describe('scanEndpoints', () => {
  it('reports the TLS listener with its chain and the plain one as not TLS, quickly', async () => {
    const started = Date.now();
    const report = await scanEndpoints({ ports: [tlsServer.port, plainPort], timeoutMs: 2000 });
    expect(Date.now() - started).toBeLessThan(5000);
    const byPort = new Map(report.listeners.map((l) => [l.port, l]));
    const tls = byPort.get(tlsServer.port)!;
    expect(tls).toMatchObject({ host: '127.0.0.1', tls: true, protocol: 'TLSv1.3', hostnameMatch: true, chainValid: false, ocspStatus: 'good', acceptedVersions: ['TLSv1.2', 'TLSv1.3'] });
    // Not trusted here (the agent has only the system roots); the chain is what the server sent,
    // and the stapled OCSP answer verifies against the intermediate it sent.
    expect(tls.chainError).toBe('UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
    expect(Buffer.from(tls.chain[0]).equals(Buffer.from(pki.cases.good.leaf.raw))).toBe(true);
    expect(tls.process).toContain(`(pid ${process.pid})`);
    expect(byPort.get(plainPort)).toMatchObject({ tls: false, error: expect.stringMatching(/^not TLS|closed the connection/), chain: [] });
  });
});
