import { once } from 'node:events';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { CliError } from '../api/api-client';
import { acmeCommand } from './acme.command';

// The CLI side only: arguments, the REST call it makes, what it prints. The real server's answers
// are covered by apps/server/e2e/acme-server.spec.ts (certbot and lego with these EAB keys).
describe('certfleet acme', () => {
  let server: Server;
  let baseUrl: string;
  const seen: Array<{ method: string; url: string; auth: string; body: unknown }> = [];
  const api = () => ({ baseUrl, token: 'cfa_test' });

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let raw = '';
      req.on('data', (d) => (raw += d));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization ?? '', body: raw ? JSON.parse(raw) : undefined });
        res.setHeader('content-type', 'application/json');
        if (req.url === '/api/v1/acme/eab-keys') res.end(JSON.stringify({ kid: '0b6f3c1e-1111-4222-8333-444455556666', hmacKey: 'c2VjcmV0LWhtYWMta2V5LWZvci10ZXN0cy1vbmx5AAA', issuingCaId: null }));
        else if (req.url === '/api/v1/acme/directories') res.end(JSON.stringify([
            { ca: 'lab', directoryUrl: 'http://127.0.0.1:8080/acme/lab/directory', externalAccountRequired: true, replaces: [] },
            { ca: 'web-r1', directoryUrl: 'http://127.0.0.1:8080/acme/web/directory', externalAccountRequired: false, replaces: ['web'] },
          ]));
        else res.end(JSON.stringify([{ serial: 'ab12', identifiers: ['www.example.test'], notAfter: '2027-01-01T00:00:00Z', revokedAt: null, acmeAccountId: 'acct-1' }]));
      });
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  const output = () => {
    const lines: string[] = [];
    jest.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    jest.spyOn(console, 'error').mockImplementation((line: string) => void lines.push(line));
    return lines;
  };
  afterEach(() => jest.restoreAllMocks());

  it('eab create asks the server for a key for one CA and prints the kid and HMAC key once', async () => {
    const lines = output();
    expect(await acmeCommand(['eab', 'create', '--ca', 'lab', '--description', 'web team'], api)).toBe(0);
    expect(seen.at(-1)).toEqual({ method: 'POST', url: '/api/v1/acme/eab-keys', auth: 'Bearer cfa_test', body: { ca: 'lab', description: 'web team' } });
    expect(lines.join('\n')).toContain('kid: 0b6f3c1e-1111-4222-8333-444455556666');
    expect(lines.join('\n')).toContain('hmac-key: c2VjcmV0LWhtYWMta2V5LWZvci10ZXN0cy1vbmx5AAA');
    expect(lines.join('\n')).toContain('not shown again');
  });

  it('lists directory URLs and ACME-issued certificates', async () => {
    const lines = output();
    expect(await acmeCommand(['directories'], api)).toBe(0);
    expect(lines.join('\n')).toMatch(/lab\s+http:\/\/127\.0\.0\.1:8080\/acme\/lab\/directory\s+required\s+-/);
    // A break-glass replacement serves its predecessor's URL.
    expect(lines.join('\n')).toMatch(/web-r1\s+http:\/\/127\.0\.0\.1:8080\/acme\/web\/directory\s+optional\s+web\n?/);
    expect(await acmeCommand(['certs', '--ca', 'lab prod', '--json'], api)).toBe(0);
    expect(seen.at(-1)!.url).toBe('/api/v1/acme/certificates?ca=lab%20prod');
    expect(JSON.parse(lines.at(-1)!)).toEqual([expect.objectContaining({ serial: 'ab12' })]);
  });

  it.each([[['eab']], [['eab', 'delete']], [['eab', 'create', '--bogus']], [['nonsense']]])('%j is a usage error (exit code 2) and calls nothing', async (args) => {
    const before = seen.length;
    const err = await acmeCommand(args, api).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(2);
    expect(seen.length).toBe(before);
  });
});
