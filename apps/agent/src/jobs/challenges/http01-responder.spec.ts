// The agent's HTTP-01 responder, checked over real HTTP on loopback and on the real filesystem.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Http01Responder } from './http01-responder';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('HTTP-01 responder', () => {
  const work = mkdtempSync(join(tmpdir(), 'cf-http01-'));
  const responder = new Http01Responder({ listenHost: '127.0.0.1' });
  afterAll(async () => {
    await responder.closeAll();
    rmSync(work, { recursive: true, force: true });
  });

  it('webroot: writes <webroot>/.well-known/acme-challenge/<token> (0644) and removes it on cleanup', async () => {
    const webroot = join(work, 'www');
    await responder.present('job-1', { mode: 'webroot', token: 'tok_A-1', keyAuthorization: 'tok_A-1.thumb', webroot });
    const file = join(webroot, '.well-known', 'acme-challenge', 'tok_A-1');
    expect(readFileSync(file, 'utf8')).toBe('tok_A-1.thumb');
    expect(statSync(file).mode & 0o777).toBe(0o644);
    await responder.cleanup('job-1', 'tok_A-1');
    expect(existsSync(file)).toBe(false);
    await responder.cleanup('job-1', 'tok_A-1'); // idempotent
  });

  it('standalone: serves only the tokens being answered, and closes the port with the last one', async () => {
    const port = await freePort();
    await responder.present('job-2', { mode: 'standalone', token: 'one', keyAuthorization: 'one.thumb', port });
    await responder.present('job-3', { mode: 'standalone', token: 'two', keyAuthorization: 'two.thumb', port });
    const get = (path: string) => fetch(`http://127.0.0.1:${port}${path}`);
    expect(await (await get('/.well-known/acme-challenge/one')).text()).toBe('one.thumb');
    expect(await (await get('/.well-known/acme-challenge/two')).text()).toBe('two.thumb');
    expect((await get('/.well-known/acme-challenge/three')).status).toBe(404);
    expect((await get('/')).status).toBe(404);
    await responder.cleanup('job-2', 'one');
    expect((await get('/.well-known/acme-challenge/one')).status).toBe(404);
    await responder.cleanup('job-3', 'two');
    await expect(get('/.well-known/acme-challenge/two')).rejects.toThrow();
  });

  it('takes a challenge away by itself when its cleanup never comes', async () => {
    const short = new Http01Responder({ listenHost: '127.0.0.1', maxLifetimeMs: 200 });
    const port = await freePort();
    const webroot = join(work, 'www-expiring');
    await short.present('job-7', { mode: 'standalone', token: 'late', keyAuthorization: 'late.thumb', port });
    await short.present('job-8', { mode: 'webroot', token: 'late2', keyAuthorization: 'late2.thumb', webroot });
    expect((await fetch(`http://127.0.0.1:${port}/.well-known/acme-challenge/late`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 400));
    await expect(fetch(`http://127.0.0.1:${port}/.well-known/acme-challenge/late`)).rejects.toThrow();
    expect(existsSync(join(webroot, '.well-known', 'acme-challenge', 'late2'))).toBe(false);
  });

  it('refuses a port in use, a relative webroot and a token that is not base64url, writing nothing', async () => {
    const blocker = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const port = (blocker.address() as { port: number }).port;
    await expect(responder.present('job-4', { mode: 'standalone', token: 't', keyAuthorization: 't.k', port })).rejects.toThrow(/port is in use/);
    blocker.close();
    await expect(responder.present('job-5', { mode: 'webroot', token: 't', keyAuthorization: 't.k', webroot: 'relative/www' })).rejects.toThrow(/absolute/);
    await expect(responder.present('job-6', { mode: 'webroot', token: '../../etc/x', keyAuthorization: 't.k', webroot: join(work, 'www2') })).rejects.toThrow(/base64url/);
    expect(existsSync(join(work, 'www2'))).toBe(false);
  });
});
