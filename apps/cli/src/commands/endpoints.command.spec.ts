import { once } from 'node:events';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { CliError } from '../api/api-client';
import { endpointsCommand, ObservationRow, parseAddress, verdict } from './endpoints.command';

const observation = (overrides: Partial<ObservationRow>): ObservationRow => ({
  host: '127.0.0.1', port: 8443, serverName: 'www.example.test', targetId: 't1', probedBy: 'server', probedAt: '2026-11-23T10:00:00.000Z', process: null, tls: true, error: null,
  protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', hostnameMatch: true, hostnameError: null, chainValid: true, chainError: null, ocspStatus: 'good', notAfter: '2031-01-01T00:00:00.000Z',
  acceptedVersions: ['TLSv1.2', 'TLSv1.3'], leafFingerprintSha256: 'ab'.repeat(32), chain: [{ subject: 'CN=www', issuer: 'CN=CA', notAfter: '2031-01-01T00:00:00.000Z', fingerprintSha256: 'ab'.repeat(32) }],
  linkedFiles: [{ hostname: 'web-01', path: '/etc/nginx/tls/www.pem' }], ...overrides,
});

describe('parseAddress and verdict', () => {
  it('reads HOST:PORT[/SNI], IPv6 in brackets, and refuses the rest', () => {
    expect(parseAddress('Web.Example:443/WWW.example')).toEqual({ host: 'web.example', port: 443, serverName: 'www.example' });
    expect(parseAddress('[::1]:8443')).toEqual({ host: '::1', port: 8443, serverName: '' });
    for (const bad of ['web', 'web:0', 'web:70000', 'a b:1']) expect(() => parseAddress(bad)).toThrow(CliError);
  });

  it('names every problem of an endpoint, or says ok', () => {
    expect(verdict(observation({}))).toBe('ok');
    expect(verdict(observation({ notAfter: '2020-01-01T00:00:00.000Z', chainValid: false, chainError: 'CERT_HAS_EXPIRED', hostnameMatch: false, protocol: 'TLSv1' }))).toBe(
      'expired; chain: CERT_HAS_EXPIRED; name mismatch; old protocol TLSv1',
    );
    expect(verdict(observation({ tls: false, error: 'connection refused' }))).toBe('connection refused');
  });
});

// A loopback stand-in for the REST API: records each request, answers with the canned body.
describe('certfleet endpoints', () => {
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

  it('add sends host, port, SNI and agent', async () => {
    reply = { id: 'abc', host: 'www.example.test', port: 443, serverName: 'www.example.test' };
    expect(await endpointsCommand(['add', 'www.example.test:443', '--sni', 'www.example.test', '--agent', 'web-01'], api)).toBe(0);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/api/v1/endpoints/targets' });
    expect(JSON.parse(seen[0].body)).toEqual({ host: 'www.example.test', port: 443, serverName: 'www.example.test', agent: 'web-01' });
    expect(output[0]).toContain('added www.example.test:443/www.example.test (id abc)');
  });

  it('list shows the linked file and the verdict; show prints the chain', async () => {
    reply = [observation({}), observation({ port: 9443, tls: false, error: 'not TLS (wrong version number)', linkedFiles: [] })];
    await endpointsCommand(['list'], api);
    expect(output[0]).toMatch(/127\.0\.0\.1:8443\/www\.example\.test\s+server\s+TLSv1\.3\s+2031-01-01\s+web-01:\/etc\/nginx\/tls\/www\.pem\s+ok/);
    expect(output[0]).toMatch(/127\.0\.0\.1:9443\/www\.example\.test\s+server\s+-\s+.*not TLS \(wrong version number\)/);
    output.length = 0;
    await endpointsCommand(['show', '127.0.0.1:8443'], api);
    expect(output.join('\n')).toContain('[0] CN=www  (issuer CN=CA; until 2031-01-01)');
    expect(output.join('\n')).toContain('(accepts TLSv1.2, TLSv1.3)');
  });

  it('probe posts the target id; unknown subcommands are usage errors', async () => {
    reply = { probed: 1, tls: 1, failed: 0 };
    await endpointsCommand(['probe', 'abc'], api);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/api/v1/endpoints/probe', body: '{"targetId":"abc"}' });
    await expect(endpointsCommand(['frobnicate'], api)).rejects.toThrow('unknown subcommand "frobnicate"');
  });
});
