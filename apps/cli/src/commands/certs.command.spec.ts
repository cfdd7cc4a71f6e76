import { once } from 'node:events';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { CliError } from '../api/api-client';
import { CertRow, certsCommand, describeRun } from './certs.command';

const row = (overrides: Partial<CertRow>): CertRow => ({
  hostname: 'web-01',
  path: '/etc/ssl/site.pem',
  entry: '0',
  fingerprintSha256: 'ab'.repeat(32),
  subject: 'CN=site.example',
  issuer: 'CN=Partner CA, O=External',
  notAfter: '2031-01-01T00:00:00.000Z',
  daysLeft: 1500,
  status: 'OK',
  revocation: null,
  ...overrides,
});

// A loopback stand-in for the REST API: records each request, answers with the canned body.
describe('certfleet certs', () => {
  let server: Server;
  let reply: unknown;
  const seen: { method: string; url: string; body: string }[] = [];
  let output: string[];
  const api = () => ({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 't' });

  beforeAll(async () => {
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
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    seen.length = 0;
    output = [];
    jest.spyOn(console, 'log').mockImplementation((text: string) => void output.push(text));
  });
  afterEach(() => jest.restoreAllMocks());

  it('list shows a REVOCATION column: the status, with the reason when revoked, "-" until checked', async () => {
    reply = {
      total: 3,
      items: [
        row({ path: '/etc/ssl/revoked.pem', revocation: { status: 'revoked', reason: 'keyCompromise' } }),
        row({ path: '/etc/ssl/good.pem', revocation: { status: 'good', reason: null } }),
        row({ path: '/etc/ssl/new.pem' }),
      ],
    };
    expect(await certsCommand(['list'], api)).toBe(0);
    const lines = output.join('\n').split('\n');
    expect(lines[0]).toMatch(/^STATUS +NOT AFTER +DAYS +REVOCATION +HOST +SUBJECT CN +ISSUER CN +LOCATION +SHA-256$/);
    expect(lines.find((l) => l.includes('/etc/ssl/revoked.pem'))).toMatch(/^OK +2031-01-01 +1500 +revoked \(keyCompromise\) +web-01 +site\.example +Partner CA +\/etc\/ssl\/revoked\.pem +abababababababab$/);
    expect(lines.find((l) => l.includes('/etc/ssl/good.pem'))).toMatch(/ 1500 +good +web-01 /);
    expect(lines.find((l) => l.includes('/etc/ssl/new.pem'))).toMatch(/ 1500 +- +web-01 /);
    expect(lines[lines.length - 1]).toBe('3 of 3 certificate(s): 0 EXPIRED, 0 CRITICAL, 0 WARNING, 3 OK');
    expect(seen).toEqual([{ method: 'GET', url: '/api/v1/certificates', body: '' }]);
  });

  it('list --revocation revoked asks the server for that filter; plain "certs" with flags still lists', async () => {
    reply = { total: 0, items: [] };
    expect(await certsCommand(['list', '--revocation', 'revoked', '--agent', 'web-01'], api)).toBe(0);
    expect(await certsCommand(['--expiring', '30d', '--json'], api)).toBe(0);
    expect(seen.map((r) => r.url)).toEqual(['/api/v1/certificates?agent=web-01&revocation=revoked', '/api/v1/certificates?expiring=30d']);
    expect(JSON.parse(output[output.length - 1])).toEqual({ total: 0, items: [] });
  });

  it('check-revocation asks for a check of everything, or of the fingerprints given, and prints the counts', async () => {
    reply = { checked: 3, counts: { good: 1, revoked: 1, unknown: 1, unreachable: 0 }, remaining: 0 };
    expect(await certsCommand(['check-revocation'], api)).toBe(0);
    expect(output).toEqual(['checked 3 certificate(s): 1 good, 1 revoked, 1 unknown, 0 unreachable']);
    expect(await certsCommand(['check-revocation', '--fingerprint', 'aa,bb', '--fingerprint', 'cc', '--json'], api)).toBe(0);
    expect(JSON.parse(output[1])).toEqual(reply);
    expect(seen).toEqual([
      { method: 'POST', url: '/api/v1/inventory/revocation-check', body: '{}' },
      { method: 'POST', url: '/api/v1/inventory/revocation-check', body: JSON.stringify({ fingerprints: ['aa', 'bb', 'cc'] }) },
    ]);
  });

  it('says when a run left certificates for later', () => {
    expect(describeRun({ checked: 5000, counts: { good: 5000, revoked: 0, unknown: 0, unreachable: 0 }, remaining: 12 })).toBe(
      'checked 5000 certificate(s): 5000 good, 0 revoked, 0 unknown, 0 unreachable\n12 more not checked in this run: run it again, or the server\'s background pass will take them',
    );
  });

  it.each([[['verify']], [['list', '--bogus']], [['check-revocation', 'extra']]])('%j is a usage error (exit code 2) before the server is asked', async (args) => {
    const failure = certsCommand(args, api);
    await expect(failure).rejects.toBeInstanceOf(CliError);
    await expect(failure).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('certfleet certs check-revocation') });
    expect(seen).toEqual([]);
  });
});
