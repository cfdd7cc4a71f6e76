import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ctCommand } from './ct.command';

// A loopback stand-in for the REST API: records each request, answers with the canned body.
describe('certfleet ct', () => {
  let server: Server;
  let reply: unknown;
  const seen: { method: string; url: string; body: string }[] = [];
  let output: string[];
  let dir: string;
  const api = () => ({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 't' });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cf-ct-cli-'));
    server = createServer((request: IncomingMessage, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        seen.push({ method: request.method!, url: request.url!, body });
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify(reply));
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    seen.length = 0;
    output = [];
    jest.spyOn(console, 'log').mockImplementation((text: string) => void output.push(text));
  });
  afterEach(() => jest.restoreAllMocks());

  it('watch add and list', async () => {
    reply = { domain: 'example.test' };
    await ctCommand(['watch', 'add', 'Example.Test'], api);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/api/v1/ct/watched', body: '{"domain":"Example.Test"}' });
    expect(output[0]).toBe('watching example.test and its subdomains');
    reply = [{ domain: 'example.test', createdAt: '2026-11-23T10:00:00.000Z' }];
    await ctCommand(['watch', 'list'], api);
    expect(output[1]).toMatch(/example\.test\s+2026-11-23/);
  });

  it('findings lists names, kind and issuer', async () => {
    reply = [{ kind: 'precert', domain: 'example.test', dnsNames: ['api.example.test'], serial: '1a2b', issuer: 'CN=Rogue CA', notAfter: '2027-01-01T00:00:00.000Z', loggedAt: '2026-11-23T10:00:00.000Z', entryIndex: 4, fingerprintSha256: null }];
    await ctCommand(['findings'], api);
    expect(output[0]).toMatch(/api\.example\.test\s+precert\s+CN=Rogue CA\s+1a2b\s+2027-01-01/);
  });

  it('scts names each log and says whether its signature verifies', async () => {
    reply = [
      { logId: '7s3QZNXbGs7FXLedtM0TojKHRny87N7DUUhZRnEftZs=', logName: "Google 'Argon2024'", timestamp: '2026-03-01T00:00:00.000Z', signatureAlgorithm: 'ecdsa-sha256', status: 'valid' },
      { logId: 'KTxRllTIOWW6qlD8WAfUt2+/WHopctykwwz05UVH9Hg=', logName: "Google 'Icarus'", timestamp: '2026-03-01T00:00:00.000Z', signatureAlgorithm: 'ecdsa-sha256', status: 'invalid', reason: "the signature does not verify with the log's key" },
      { logId: 'CQkJ', logName: null, timestamp: '2026-03-01T00:00:00.000Z', signatureAlgorithm: 'ecdsa-sha256', status: 'unknown log' },
    ];
    await ctCommand(['scts', 'ab'.repeat(32)], api);
    expect(seen[0].url).toBe(`/api/v1/ct/scts/${'ab'.repeat(32)}`);
    expect(output[0]).toMatch(/^LOG\s+STATUS\s+LOG ID\s+TIMESTAMP\s+SIGNATURE/);
    expect(output[0]).toMatch(/Google 'Argon2024'\s+valid\s+7s3Q/);
    expect(output[0]).toMatch(/Google 'Icarus'\s+invalid\s+KTxR/);
    expect(output[0]).toMatch(/unknown log\s+unknown log\s+CQkJ/);
    expect(output[0]).toContain("\n\nGoogle 'Icarus': the signature does not verify with the log's key");
    expect(output[0]).not.toContain("Google 'Argon2024':");
    await ctCommand(['scts', 'ab'.repeat(32), '--json'], api);
    expect(JSON.parse(output[1]).map((r: { status: string }) => r.status)).toEqual(['valid', 'invalid', 'unknown log']);
  });

  it('logs add reads the key from a file; missing flags are usage errors', async () => {
    const keyFile = join(dir, 'log.pub');
    writeFileSync(keyFile, 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n');
    reply = { id: 'x', name: 'test log', logId: 'abc=' };
    await ctCommand(['logs', 'add', '--name', 'test log', '--url', 'http://127.0.0.1:1/log', '--key-file', keyFile], api);
    expect(JSON.parse(seen[0].body)).toEqual({ name: 'test log', url: 'http://127.0.0.1:1/log', publicKey: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE' });
    await expect(ctCommand(['logs', 'add', '--name', 'x'], api)).rejects.toThrow('--name, --url and --key-file are required');
  });
});
