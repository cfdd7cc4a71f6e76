import { checkServerIdentity, connect, createServer, PeerCertificate, Server, TLSSocket } from 'node:tls';
import { AddressInfo } from 'node:net';
import { agentIdFromCertificate, issueAgentCertificate } from './agent-certificate';
import { createFleetCa, FleetCaMaterial } from './fleet-ca';
import { issueServerCertificate, isServerCertificate } from './server-certificate';
import { EC_P256, OpensslDir } from './openssl-test-kit';

describe('issueServerCertificate', () => {
  const dir = new OpensslDir();
  let ca: FleetCaMaterial;

  beforeAll(async () => {
    ca = await createFleetCa({ commonName: 'server-test CA' });
    dir.write('ca.pem', ca.certificatePem);
  });
  afterAll(() => dir.remove());

  it('issues a serverAuth certificate with DNS, IP and role-marker SANs that openssl verifies', async () => {
    const server = await issueServerCertificate({ ca, commonName: 'certfleet control', dnsNames: ['localhost', 'control.example'], ipAddresses: ['127.0.0.1', '::1'], validityDays: 30 });
    dir.write('server.pem', server.certificatePem);
    dir.write('server.key', server.privateKeyPem);
    expect(dir.run('verify', '-CAfile', 'ca.pem', '-purpose', 'sslserver', 'server.pem')).toContain('server.pem: OK');
    const text = dir.run('x509', '-in', 'server.pem', '-noout', '-text');
    expect(text).toMatch(/X509v3 Extended Key Usage:\s+TLS Web Server Authentication\n/);
    expect(text).toMatch(/DNS:localhost, DNS:control\.example, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1, URI:urn:certfleet:role:server/);
    expect(text).toMatch(/CA:FALSE/);
    expect(dir.run('x509', '-in', 'server.pem', '-noout', '-pubkey')).toBe(dir.run('pkey', '-in', 'server.key', '-pubout'));
    expect(isServerCertificate(server.certificatePem)).toBe(true);
    expect(isServerCertificate(ca.certificatePem)).toBe(false);
    expect(agentIdFromCertificate(server.certificatePem)).toBeUndefined();
  });

  it('rejects malformed names', async () => {
    await expect(issueServerCertificate({ ca, commonName: 'x', dnsNames: ['bad name'] })).rejects.toThrow(/invalid DNS name "bad name"/);
    await expect(issueServerCertificate({ ca, commonName: 'x', ipAddresses: ['300.1.1.1'] })).rejects.toThrow(/invalid IP address/);
  });
});

describe('mTLS between the control server and an agent', () => {
  const dir = new OpensslDir();
  let ca: FleetCaMaterial;
  let server: Server;
  let port: number;
  const refusedClients: Error[] = [];

  beforeAll(async () => {
    ca = await createFleetCa({ commonName: 'mtls CA' });
    const serverCert = await issueServerCertificate({ ca, commonName: 'control', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], validityDays: 1 });
    server = createServer({ cert: serverCert.certificatePem, key: serverCert.privateKeyPem, ca: ca.certificatePem, requestCert: true, rejectUnauthorized: true }, (socket) => {
      socket.end(`hello ${agentIdFromCertificate(socket.getPeerCertificate().raw) ?? 'stranger'}`);
    });
    server.on('tlsClientError', (error) => refusedClients.push(error));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    dir.remove();
  });

  async function agentIdentity(issuingCa: FleetCaMaterial, agentId: string): Promise<{ cert: string; key: string }> {
    const csrPem = dir.makeCsr(agentId, EC_P256);
    const issued = await issueAgentCertificate({ ca: issuingCa, csrPem, agentId, validityHours: 1 });
    return { cert: issued.certificatePem, key: dir.read(`${agentId}.key`) };
  }

  // The agent trusts only the fleet CA and additionally requires the server role marker.
  function talk(identity: { cert: string; key: string }): Promise<{ reply: string; error?: Error }> {
    return new Promise((resolve) => {
      let reply = '';
      let error: Error | undefined;
      const socket: TLSSocket = connect({
        host: '127.0.0.1', port, ca: ca.certificatePem, ...identity,
        checkServerIdentity: (host: string, cert: PeerCertificate) =>
          isServerCertificate(cert.raw) ? checkServerIdentity(host, cert) : new Error('peer is not the certfleet server'),
      });
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (reply += chunk));
      socket.on('error', (e) => (error = e));
      socket.on('close', () => resolve({ reply, error }));
    });
  }

  it('accepts an agent certificate issued by the fleet CA', async () => {
    const { reply, error } = await talk(await agentIdentity(ca, 'agent-good'));
    expect(error).toBeUndefined();
    expect(reply).toBe('hello agent-good');
  });

  it('refuses an agent certificate from another CA', async () => {
    const before = refusedClients.length;
    const otherCa = await createFleetCa({ commonName: 'rogue CA' });
    const rogue = await agentIdentity(otherCa, 'agent-rogue');
    const { reply, error } = await talk(rogue);
    // Node's server drops the connection after the handshake when the client certificate fails
    // verification; with TLS 1.3 the client may see a clean close rather than an alert.
    expect(reply).toBe('');
    if (error) expect(error.message).toMatch(/unknown ca|certificate|socket hang up|ECONNRESET/i);
    expect(refusedClients.length).toBe(before + 1);
    // The reason, checked independently: the rogue certificate does not chain to the fleet CA.
    dir.write('fleet-ca.pem', ca.certificatePem);
    dir.write('rogue.pem', rogue.cert);
    const verdict = dir.attempt('verify', '-CAfile', 'fleet-ca.pem', 'rogue.pem');
    expect(verdict.status).not.toBe(0);
    expect(verdict.output).toMatch(/unable to get local issuer certificate/);
  });
});
