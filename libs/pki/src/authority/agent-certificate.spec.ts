import { X509Certificate } from 'node:crypto';
import { agentIdFromCertificate, issueAgentCertificate } from './agent-certificate';
import { CaMaterialError, CsrRejectedError } from './errors';
import { createFleetCa, FleetCaMaterial } from './fleet-ca';
import { isServerCertificate } from './server-certificate';
import { EC_P256, OpensslDir } from './openssl-test-kit';

describe('issueAgentCertificate', () => {
  const dir = new OpensslDir();
  let ca: FleetCaMaterial;
  let csrPem: string;

  beforeAll(async () => {
    ca = await createFleetCa({ commonName: 'agent-test CA' });
    dir.write('ca.pem', ca.certificatePem);
    csrPem = dir.makeCsr('agent', EC_P256);
  });
  afterAll(() => dir.remove());

  it('issues a client certificate that openssl verifies against the fleet CA', async () => {
    const issued = await issueAgentCertificate({ ca, csrPem, agentId: 'host-01.example', validityHours: 24 });
    dir.write('agent.pem', issued.certificatePem);

    expect(dir.run('verify', '-CAfile', 'ca.pem', '-purpose', 'sslclient', 'agent.pem')).toContain('agent.pem: OK');
    const text = dir.run('x509', '-in', 'agent.pem', '-noout', '-text');
    expect(text).toMatch(/X509v3 Extended Key Usage:\s+TLS Web Client Authentication\n/);
    expect(text).toMatch(/X509v3 Subject Alternative Name:\s+URI:urn:certfleet:agent:host-01\.example\n/);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature\n/);
    expect(text).toMatch(/X509v3 Subject Key Identifier:/);
    expect(text).toMatch(/X509v3 Authority Key Identifier:/);
    expect(text).toMatch(/Subject: CN ?= ?host-01\.example, O ?= ?certfleet agent/);
    // The key is the one the agent generated: it matches the CSR's private key.
    expect(dir.run('x509', '-in', 'agent.pem', '-noout', '-pubkey')).toBe(dir.run('pkey', '-in', 'agent.key', '-pubout'));

    const fingerprint = dir.run('x509', '-in', 'agent.pem', '-noout', '-fingerprint', '-sha256').trim().split('=')[1];
    expect(issued.fingerprintSha256).toBe(fingerprint.replace(/:/g, '').toLowerCase());
    const serial = dir.run('x509', '-in', 'agent.pem', '-noout', '-serial').trim().split('=')[1];
    expect(issued.serial).toBe(serial.toLowerCase());
    const cert = new X509Certificate(issued.certificatePem);
    expect(issued.notAfter.getTime()).toBe(Date.parse(cert.validTo));
    expect(issued.notAfter.getTime() - Date.now()).toBeGreaterThan(23.9 * 3600 * 1000);
    expect(issued.notAfter.getTime() - Date.now()).toBeLessThanOrEqual(24 * 3600 * 1000);
  });

  it('ignores the subject and extensions the agent asked for', async () => {
    const greedy = dir.makeCsr('greedy', EC_P256, [
      '-subj', '/CN=control-server/O=certfleet',
      '-addext', 'subjectAltName=URI:urn:certfleet:role:server,DNS:control.example',
      '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'extendedKeyUsage=serverAuth',
    ]);
    const issued = await issueAgentCertificate({ ca, csrPem: greedy, agentId: 'agent-7', validityHours: 1 });
    dir.write('greedy.pem', issued.certificatePem);
    const text = dir.run('x509', '-in', 'greedy.pem', '-noout', '-text');
    expect(text).not.toMatch(/control|role:server|CA:TRUE|Server Authentication/);
    expect(text).toMatch(/CA:FALSE/);
    expect(isServerCertificate(issued.certificatePem)).toBe(false);
    expect(agentIdFromCertificate(issued.certificatePem)).toBe('agent-7');
  });

  it('never outlives the CA', async () => {
    const shortCa = await createFleetCa({ commonName: 'short CA', validityDays: 1 });
    const issued = await issueAgentCertificate({ ca: shortCa, csrPem, agentId: 'a1', validityHours: 72 });
    expect(issued.notAfter.getTime()).toBe(Date.parse(new X509Certificate(shortCa.certificatePem).validTo));
  });

  it('rejects bad agent ids, validity and CA material with clear errors', async () => {
    await expect(issueAgentCertificate({ ca, csrPem, agentId: 'a/b', validityHours: 1 })).rejects.toThrow(/invalid agent id "a\/b"/);
    await expect(issueAgentCertificate({ ca, csrPem, agentId: '', validityHours: 1 })).rejects.toThrow(/invalid agent id/);
    await expect(issueAgentCertificate({ ca, csrPem, agentId: 'a', validityHours: 0 })).rejects.toThrow(/validityHours/);
    await expect(issueAgentCertificate({ ca, csrPem, agentId: 'a', validityHours: 24 * 400 })).rejects.toThrow(/validityHours/);
    const other = await createFleetCa({ commonName: 'other' });
    const mismatched = { certificatePem: ca.certificatePem, privateKeyPem: other.privateKeyPem };
    await expect(issueAgentCertificate({ ca: mismatched, csrPem, agentId: 'a', validityHours: 1 })).rejects.toThrow(
      new CaMaterialError('the private key does not belong to the CA certificate'),
    );
    const leaf = await issueAgentCertificate({ ca, csrPem, agentId: 'leaf', validityHours: 1 });
    const notCa = { certificatePem: leaf.certificatePem, privateKeyPem: dir.read('agent.key') };
    await expect(issueAgentCertificate({ ca: notCa, csrPem, agentId: 'a', validityHours: 1 })).rejects.toThrow(/is not a CA/);
    await expect(issueAgentCertificate({ ca, csrPem: 'nonsense', agentId: 'a', validityHours: 1 })).rejects.toBeInstanceOf(CsrRejectedError);
  });
});

describe('agentIdFromCertificate', () => {
  const dir = new OpensslDir();
  afterAll(() => dir.remove());

  it('reads the id from PEM and DER, and refuses certificates that are not agent identities', async () => {
    const ca = await createFleetCa({ commonName: 'id CA' });
    const csrPem = dir.makeCsr('a', EC_P256);
    const issued = await issueAgentCertificate({ ca, csrPem, agentId: '3f1c2a8e-0b7d-4c55-9a0e-5d2b1f6c7e90', validityHours: 2 });
    expect(agentIdFromCertificate(issued.certificatePem)).toBe('3f1c2a8e-0b7d-4c55-9a0e-5d2b1f6c7e90');
    expect(agentIdFromCertificate(new X509Certificate(issued.certificatePem).raw)).toBe('3f1c2a8e-0b7d-4c55-9a0e-5d2b1f6c7e90');
    expect(agentIdFromCertificate(ca.certificatePem)).toBeUndefined();
    expect(agentIdFromCertificate('not a certificate')).toBeUndefined();

    // Shape only (TLS checks the issuer): a CN that disagrees with the agent URI is refused.
    dir.run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'x.key',
      '-subj', '/CN=someone-else', '-days', '1', '-out', 'mismatch.pem', '-addext', 'subjectAltName=URI:urn:certfleet:agent:a1',
      '-addext', 'extendedKeyUsage=clientAuth');
    expect(agentIdFromCertificate(dir.read('mismatch.pem'))).toBeUndefined();
    dir.run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'y.key',
      '-subj', '/CN=a1', '-days', '1', '-out', 'match.pem', '-addext', 'subjectAltName=URI:urn:certfleet:agent:a1',
      '-addext', 'extendedKeyUsage=clientAuth');
    expect(agentIdFromCertificate(dir.read('match.pem'))).toBe('a1');
  });
});
