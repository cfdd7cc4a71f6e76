import { fetchBytes } from './http-fetch';
import { TestHttpServer } from './test-kit';

describe('fetchBytes', () => {
  let server: TestHttpServer;
  const options = { method: 'GET' as const, timeoutMs: 2000, maxBytes: 1000 };

  beforeAll(async () => {
    server = await TestHttpServer.start();
    server.serve('/data', 'payload');
    const redirect = (to: string, status = 302) => server.on(`/to${to}-${status}`, (_request, response) => {
      response.writeHead(status, { location: to });
      response.end();
    });
    redirect('/data');
    redirect('/to/data-302');
    server.on('/loop', (_request, response) => {
      response.writeHead(302, { location: '/loop' });
      response.end();
    });
    server.on('/to-file', (_request, response) => {
      response.writeHead(301, { location: 'file:///etc/passwd' });
      response.end();
    });
    server.on('/echo', (request, response, body) => response.end(`${request.method} ${body.toString()}`));
    redirect('/echo', 307);
    server.serve('/big', Buffer.alloc(5000, 1));
    server.serve('/big-chunked', Buffer.alloc(5000, 1), { chunked: true });
    server.on('/stall', (_request, response) => {
      response.writeHead(200, { 'content-length': '100' });
      response.write('half');
    });
    server.on('/fail', (_request, response) => {
      response.statusCode = 503;
      response.end('busy');
    });
  });
  afterAll(() => server.close());

  it('follows redirects and reports the final URL', async () => {
    const result = await fetchBytes(server.url('/to/to/data-302-302'), options);
    expect(result.body.toString()).toBe('payload');
    expect(result.url).toBe(server.url('/data'));
  });

  it('keeps method and body across a redirect', async () => {
    const result = await fetchBytes(server.url('/to/echo-307'), { ...options, method: 'POST', body: Buffer.from('request'), contentType: 'text/plain' });
    expect(result.body.toString()).toBe('POST request');
  });

  it('stops after 3 redirects', async () => {
    await expect(fetchBytes(server.url('/loop'), options)).rejects.toThrow('more than 3 redirects');
  });

  it('refuses a redirect to a non-http URL', async () => {
    await expect(fetchBytes(server.url('/to-file'), options)).rejects.toThrow('refusing file: URL');
  });

  it('reports HTTP errors by status', async () => {
    await expect(fetchBytes(server.url('/fail'), options)).rejects.toThrow('HTTP 503 Service Unavailable');
  });

  it('refuses a response whose Content-Length is over the limit', async () => {
    await expect(fetchBytes(server.url('/big'), options)).rejects.toThrow('response exceeds the 1000-byte limit (Content-Length 5000)');
  });

  it('stops reading a chunked response once the limit is passed', async () => {
    await expect(fetchBytes(server.url('/big-chunked'), options)).rejects.toThrow('response exceeds the 1000-byte limit (more than 1000 bytes received)');
  });

  it('times out on a response that stalls half way', async () => {
    const started = Date.now();
    await expect(fetchBytes(server.url('/stall'), { ...options, timeoutMs: 200 })).rejects.toThrow('timed out after 200 ms');
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('names a refused connection', async () => {
    const closed = await TestHttpServer.start();
    const url = closed.url('/');
    await closed.close();
    await expect(fetchBytes(url, options)).rejects.toThrow('connection refused (ECONNREFUSED)');
  });
});
