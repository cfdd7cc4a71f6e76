import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

export interface ApiSettings {
  baseUrl: string;
  token: string;
}

/**
 * Where the CLI finds the server and its admin token: flags, then CERTFLEET_URL / CERTFLEET_TOKEN /
 * CERTFLEET_TOKEN_FILE, then the token file a local server wrote (./.certfleet/admin-token, or
 * $CERTFLEET_DATA_DIR/admin-token), then ~/.config/certfleet/token.
 */
export function resolveApiSettings(flags: { server?: string; token?: string; tokenFile?: string }, env = process.env): ApiSettings {
  const baseUrl = (flags.server ?? env.CERTFLEET_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  if (flags.token ?? env.CERTFLEET_TOKEN) return { baseUrl, token: (flags.token ?? env.CERTFLEET_TOKEN)!.trim() };
  const candidates = [
    flags.tokenFile,
    env.CERTFLEET_TOKEN_FILE,
    join(resolve(env.CERTFLEET_DATA_DIR || '.certfleet'), 'admin-token'),
    join(homedir(), '.config', 'certfleet', 'token'),
  ].filter((p): p is string => !!p);
  for (const path of candidates) {
    try {
      return { baseUrl, token: readFileSync(path, 'utf8').trim() };
    } catch (err) {
      if (path === flags.tokenFile || path === env.CERTFLEET_TOKEN_FILE) {
        throw new CliError(`cannot read the API token file ${path}: ${(err as Error).message}`);
      }
    }
  }
  throw new CliError('no admin API token: pass --token, set CERTFLEET_TOKEN, or point CERTFLEET_TOKEN_FILE at the admin-token file the server wrote');
}

/** Calls the REST API; turns HTTP and network failures into messages a person can act on. */
export async function callApi<T>(settings: ApiSettings, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(settings.baseUrl + path, {
      method,
      headers: { authorization: `Bearer ${settings.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(`cannot reach the certfleet server at ${settings.baseUrl}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
  }
  const text = await response.text();
  if (!response.ok) {
    let message = text;
    try {
      const parsed = JSON.parse(text) as { message?: string | string[] };
      message = Array.isArray(parsed.message) ? parsed.message.join('; ') : (parsed.message ?? text);
    } catch {
      // not JSON: show the body as it is
    }
    throw new CliError(`${method} ${path} failed: HTTP ${response.status}: ${message}`);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}
