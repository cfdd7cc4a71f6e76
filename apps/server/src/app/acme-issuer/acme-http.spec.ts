// What acme-client drops when it throws, kept by acme-http: the CA's problem type, detail and
// Retry-After, from real HTTP answers on loopback; and the reading of Retry-After itself.
import { createServer, type Server } from 'node:http';
import * as acme from 'acme-client';
import { parseRetryAfter, withAcmeScope } from './acme-http';

describe('parseRetryAfter', () => {
  const now = new Date('2026-11-23T12:00:00Z');
  it.each([
    ['seconds', '120', '2026-11-23T12:02:00.000Z'],
    ['an HTTP date', 'Mon, 23 Nov 2026 13:00:00 GMT', '2026-11-23T13:00:00.000Z'],
    ['nothing', undefined, null],
    ['garbage', 'soon', null],
  ])('reads %s', (_case, value, expected) => {
    expect(parseRetryAfter(value, now)?.toISOString() ?? null).toBe(expected);
  });
});

describe('withAcmeScope', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/limited') {
        res.writeHead(429, { 'content-type': 'application/problem+json', 'retry-after': '3600' });
        res.end(JSON.stringify({ type: 'urn:ietf:params:acme:error:rateLimited', detail: 'too many certificates already issued for "example.test"' }));
      } else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('keeps the problem document and Retry-After of a refused request, and does not sleep on a 429', async () => {
    const started = Date.now();
    const problem = await withAcmeScope(null, async (scope) => {
      await acme.axios.get(`${base}/limited`).catch(() => undefined);
      return scope.lastProblem();
    });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(problem).toMatchObject({ type: 'urn:ietf:params:acme:error:rateLimited', detail: 'too many certificates already issued for "example.test"', status: 429 });
    expect(problem!.retryAfter!.getTime() - Date.now()).toBeGreaterThan(3_590_000);
  });

  it('keeps nothing for answers that are not problems, and nothing outside its scope', async () => {
    expect(await withAcmeScope(null, async (scope) => (await acme.axios.get(`${base}/ok`), scope.lastProblem()))).toBeUndefined();
    await expect(acme.axios.get(`${base}/limited`)).rejects.toThrow();
  });
});
