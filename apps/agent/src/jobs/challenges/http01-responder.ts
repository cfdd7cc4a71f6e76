// Answers ACME HTTP-01 challenges on this host (RFC 8555 section 8.3): the key authorization at
// /.well-known/acme-challenge/<token>, either as a file in a web server's webroot (as certbot
// --webroot does) or from a short-lived listener of our own. Both are taken away on cleanup.
import { mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { isAbsolute, join, normalize } from 'node:path';
import { writeFileAtomic } from '@certfleet/pki';

export type Http01Challenge =
  | { mode: 'webroot'; token: string; keyAuthorization: string; webroot: string }
  | { mode: 'standalone'; token: string; keyAuthorization: string; port: number };

const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;
const PATH_PREFIX = '/.well-known/acme-challenge/';

interface Listener {
  server: Server;
  tokens: Map<string, string>;
}

export interface Http01ResponderOptions {
  /** Address the standalone listener binds; default all of this host's addresses. */
  listenHost?: string;
  /** A challenge whose cleanup never comes (server gone) is taken away after this long. */
  maxLifetimeMs?: number;
}

const DEFAULT_MAX_LIFETIME_MS = 10 * 60_000;

/** One listener per port, shared by the tokens being answered on it; closed with the last one. */
export class Http01Responder {
  private readonly files = new Map<string, string>();
  private readonly listeners = new Map<number, Listener>();

  constructor(private readonly opts: Http01ResponderOptions = {}) {}

  async present(key: string, c: Http01Challenge): Promise<void> {
    if (!TOKEN.test(c.token)) throw new Error('the challenge token is not base64url');
    if (!/^[A-Za-z0-9_.-]+$/.test(c.keyAuthorization)) throw new Error('the key authorization is not token.thumbprint');
    if (c.mode === 'webroot') this.writeFile(key, c.webroot, c.token, c.keyAuthorization);
    else await this.listen(c.port, c.token, c.keyAuthorization);
    setTimeout(() => void this.cleanup(key, c.token).catch(() => undefined), this.opts.maxLifetimeMs ?? DEFAULT_MAX_LIFETIME_MS).unref();
  }

  /** Idempotent: an unknown token changes nothing. */
  async cleanup(key: string, token: string): Promise<void> {
    const file = this.files.get(`${key}/${token}`);
    if (file) {
      rmSync(file, { force: true });
      this.files.delete(`${key}/${token}`);
    }
    for (const [port, listener] of this.listeners) {
      if (!listener.tokens.delete(token) || listener.tokens.size > 0) continue;
      this.listeners.delete(port);
      await new Promise<void>((resolve) => listener.server.close(() => resolve()));
    }
  }

  /** Everything still answered (on shutdown). */
  async closeAll(): Promise<void> {
    for (const file of this.files.values()) rmSync(file, { force: true });
    this.files.clear();
    const listeners = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.all(listeners.map((l) => new Promise<void>((resolve) => l.server.close(() => resolve()))));
  }

  private writeFile(key: string, webroot: string, token: string, keyAuthorization: string): void {
    if (!isAbsolute(webroot) || normalize(webroot) !== webroot) throw new Error(`the webroot must be an absolute, normalised path: ${webroot}`);
    const dir = join(webroot, '.well-known', 'acme-challenge');
    try {
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      const file = join(dir, token);
      // World-readable: the web server (often another user) serves it; it holds nothing secret.
      writeFileAtomic(file, keyAuthorization, 0o644);
      this.files.set(`${key}/${token}`, file);
    } catch (error) {
      throw new Error(`cannot write the challenge file under ${dir}: ${(error as Error).message}`);
    }
  }

  private async listen(port: number, token: string, keyAuthorization: string): Promise<void> {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid standalone port ${port}`);
    const existing = this.listeners.get(port);
    if (existing) {
      existing.tokens.set(token, keyAuthorization);
      return;
    }
    const tokens = new Map([[token, keyAuthorization]]);
    const server = createServer((req, res) => {
      const wanted = req.method === 'GET' && req.url?.startsWith(PATH_PREFIX) ? tokens.get(req.url.slice(PATH_PREFIX.length)) : undefined;
      if (wanted === undefined) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end(wanted);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(new Error(`cannot listen on port ${port} for the HTTP-01 challenge: ${err.code === 'EADDRINUSE' ? 'the port is in use (use webroot mode if a web server holds it)' : err.message}`)));
      server.listen({ port, host: this.opts.listenHost }, () => resolve());
    });
    this.listeners.set(port, { server, tokens });
  }
}
