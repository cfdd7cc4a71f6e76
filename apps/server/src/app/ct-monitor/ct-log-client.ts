// RFC 6962 client: get-sth, get-sth-consistency and get-entries over HTTP(S), with a deadline and a
// size bound on every answer (a log is outside our control).
import { GetEntriesItem } from '@certfleet/pki';

const TIMEOUT_MS = 15_000;
const MAX_BYTES = 32 * 1024 * 1024;

export class CtLogClient {
  constructor(private readonly baseUrl: string) {}

  getSth(): Promise<unknown> {
    return this.get('get-sth');
  }

  /** The consistency proof from the tree of `first` entries to the tree of `second` (RFC 6962 4.4). */
  async getSthConsistency(first: number, second: number): Promise<Buffer[]> {
    const body = (await this.get(`get-sth-consistency?first=${first}&second=${second}`)) as { consistency?: unknown };
    if (!body || !Array.isArray(body.consistency) || !body.consistency.every((hash) => typeof hash === 'string')) throw new Error('get-sth-consistency: no "consistency" list of base64 hashes');
    return (body.consistency as string[]).map((hash) => Buffer.from(hash, 'base64'));
  }

  async getEntries(start: number, end: number): Promise<GetEntriesItem[]> {
    const body = (await this.get(`get-entries?start=${start}&end=${end}`)) as { entries?: unknown };
    if (!body || !Array.isArray(body.entries)) throw new Error('get-entries: no "entries" list');
    for (const entry of body.entries) {
      if (!entry || typeof entry.leaf_input !== 'string') throw new Error('get-entries: an entry without leaf_input');
    }
    return body.entries as GetEntriesItem[];
  }

  private async get(path: string): Promise<unknown> {
    const url = `${this.baseUrl.replace(/\/+$/, '')}/ct/v1/${path}`;
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'error' });
    } catch (error) {
      throw new Error(`${url}: ${(error as Error).name === 'TimeoutError' ? `no answer within ${TIMEOUT_MS} ms` : ((error as { cause?: Error }).cause?.message ?? (error as Error).message)}`);
    }
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    const text = await boundedText(response, url);
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`${url}: not JSON`);
    }
  }
}

async function boundedText(response: Response, url: string): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > MAX_BYTES) {
      await reader.cancel();
      throw new Error(`${url}: answer larger than ${MAX_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
