import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { CliError } from '../api/api-client';
import { reportCommand, reportPath } from './report.command';

describe('certfleet report arguments', () => {
  it.each([
    [['inventory'], '/api/v1/reports/inventory?format=csv'],
    [['expiring', '--days', '30', '--by', 'owner', '--format', 'json'], '/api/v1/reports/expiring?format=json&days=30&by=owner'],
    [['trust', '--ca', 'Partner Root'], '/api/v1/reports/trust?format=csv&ca=Partner+Root'],
    [['inventory', '--key-algorithm', 'RSA', '--key-bits-below', '2048', '--signature-hash', 'sha1'], '/api/v1/reports/inventory?format=csv&keyAlgorithm=RSA&keyBitsBelow=2048&signatureHash=sha1'],
  ])('%j -> %s', (args, path) => expect(reportPath(args).path).toBe(path));

  it.each([
    [[], 'which report?'],
    [['everything'], 'unknown report "everything"'],
    [['inventory', '--format', 'xml'], '--format must be csv or json'],
    [['trust'], 'the trust report needs --ca'],
    [['expiring', '--days', 'soon'], '--days must be a whole number'],
    [['expiring', '--by', 'team'], '--by must be owner'],
  ])('%j is a usage error: %s', (args, message) => {
    expect(() => reportPath(args)).toThrow(message);
    try {
      reportPath(args);
    } catch (err) {
      expect((err as CliError).exitCode).toBe(2);
    }
  });
});

// A loopback stand-in for the REST API that streams a large report in many chunks.
describe('certfleet report streaming', () => {
  let server: Server;
  let dir: string;
  let breakAfter = Infinity;
  const seen: string[] = [];
  const ROWS = 50_000;
  const api = () => ({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 'secret' });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cf-report-'));
    server = createServer(async (request, response) => {
      seen.push(`${request.headers.authorization} ${request.url}`);
      if (request.url!.startsWith('/api/v1/reports/trust')) {
        response.statusCode = 400;
        response.setHeader('content-type', 'application/json');
        return response.end(JSON.stringify({ statusCode: 400, message: 'the trust report needs ca' }));
      }
      response.setHeader('content-type', 'text/csv');
      response.write('host,path\r\n');
      for (let i = 0; i < ROWS; i++) {
        if (i === breakAfter) return response.destroy();
        if (!response.write(`web-${i},/etc/ssl/${i}.pem\r\n`)) await once(response, 'drain');
      }
      response.end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });
  afterAll(async () => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams to stdout with the token', async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c) => chunks.push(c));
    expect(await reportCommand(['inventory'], api, out)).toBe(0);
    const lines = Buffer.concat(chunks).toString().split('\r\n');
    expect(lines[0]).toBe('host,path');
    expect(lines).toHaveLength(ROWS + 2);
    expect(seen.at(-1)).toBe('Bearer secret /api/v1/reports/inventory?format=csv');
  });

  it('writes --output only once the whole report arrived', async () => {
    const file = join(dir, 'inventory.csv');
    expect(await reportCommand(['inventory', '--output', file], api)).toBe(0);
    expect(readFileSync(file, 'utf8').split('\r\n')).toHaveLength(ROWS + 2);
    breakAfter = 20_000;
    const second = join(dir, 'broken.csv');
    await expect(reportCommand(['inventory', '--output', second], api)).rejects.toThrow(`report not written to ${second}`);
    expect(existsSync(second)).toBe(false);
    expect(readFileSync(file, 'utf8').split('\r\n')).toHaveLength(ROWS + 2);
    expect(require('node:fs').readdirSync(dir)).toEqual(['inventory.csv']);
    breakAfter = Infinity;
  });

  it("shows the server's refusal", async () => {
    await expect(reportCommand(['trust', '--ca', 'x'], api)).rejects.toThrow('HTTP 400: the trust report needs ca');
  });
});
