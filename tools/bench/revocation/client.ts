// Load client, run as a child process of a revocation benchmark (so its CPU is not the server's):
// receives one task over IPC, runs it against the server on loopback, reports and exits.
//   ocsp     POST /pki/ocsp with `inFlight` requests outstanding, one per keep-alive connection, either
//            each serial once in order ('each') or random serials ('random'), with or without a nonce,
//            until `maxRequests` or `durationMs`; reports every latency.
//   revoke   per serial: ask OCSP (answered "good", cached), then POST /api/v1/revocations and, from
//            the same instant, poll OCSP and the CRL until both list it as revoked.
import { Agent, request } from 'node:http';
import { connect, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { certId, certStatus, CertStatus, crlLists, ocspRequest } from './ocsp-wire';

export interface OcspTask {
  kind: 'ocsp';
  baseUrl: string;
  /** certIdPrefix() as hex. */
  prefix: string;
  serials: string[];
  order: 'each' | 'random';
  nonce: boolean;
  inFlight: number;
  maxRequests: number;
  durationMs: number;
}

export interface RevokeTask {
  kind: 'revoke';
  baseUrl: string;
  adminToken: string;
  caId: string;
  prefix: string;
  serials: string[];
  pauseMs: number;
  ocspPollGapMs: number;
  crlPollGapMs: number;
}

export type ClientTask = OcspTask | RevokeTask;

export interface OcspResult {
  kind: 'ocsp';
  /** Per request, ms. */
  latencies: number[];
  statuses: Record<CertStatus, number>;
  elapsedMs: number;
  cpuSeconds: number;
}

export interface RevokeRound {
  serial: string;
  revokeReturnedMs: number;
  ocspRevokedMs: number;
  crlServedMs: number;
  ocspPolls: number;
  crlPolls: number;
  crlBytes: number;
  crlEntries: number | undefined;
}

export interface RevokeResult {
  kind: 'revoke';
  rounds: RevokeRound[];
  /** GET of the CRL with nothing else going on, ms. */
  crlGetMs: number[];
  cpuSeconds: number;
}

export type ClientResult = OcspResult | RevokeResult;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function call(agent: Agent, baseUrl: string, method: string, path: string, body?: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(`${baseUrl}${path}`, { method, agent, headers: body ? { 'content-length': String(body.length), ...headers } : headers, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 30 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

const OCSP_HEADERS = { 'content-type': 'application/ocsp-request' };

/**
 * One keep-alive HTTP/1.1 connection, one request at a time, for the OCSP load: node:http's client
 * costs ~0.3 ms of CPU per request, as much as the server's work, and two cores are all there is.
 * Only what the PKI handler answers is understood (Content-Length bodies).
 */
class Connection {
  private readonly socket: Socket;
  private buffered: Buffer = Buffer.alloc(0);
  private waiting: { resolve: (r: { status: number; body: Buffer }) => void; reject: (e: Error) => void } | undefined;

  constructor(url: URL) {
    this.socket = connect(Number(url.port), url.hostname);
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.received(chunk));
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => this.fail(new Error('connection closed by the server')));
  }

  post(head: Buffer, body: Buffer): Promise<{ status: number; body: Buffer }> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(Buffer.concat([head, body]));
    });
  }

  close(): void {
    this.socket.removeAllListeners('close');
    this.socket.destroy();
  }

  private received(chunk: Buffer): void {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    const end = this.buffered.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.buffered.toString('latin1', 0, end);
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? NaN);
    if (!Number.isFinite(length)) return this.fail(new Error(`no Content-Length in ${head.slice(0, 200)}`));
    if (this.buffered.length < end + 4 + length) return;
    const body = this.buffered.subarray(end + 4, end + 4 + length);
    this.buffered = this.buffered.subarray(end + 4 + length);
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.resolve({ status: Number(head.slice(9, 12)), body });
  }

  private fail(err: Error): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(err);
  }
}

async function ocspLoad(task: OcspTask): Promise<OcspResult> {
  const url = new URL(task.baseUrl);
  const prefix = Buffer.from(task.prefix, 'hex');
  const ids = task.serials.map((s) => certId(prefix, s));
  const plain = task.nonce ? [] : ids.map((id) => ocspRequest(id));
  const heads = new Map<number, Buffer>();
  const headFor = (length: number) => {
    let head = heads.get(length);
    if (!head) heads.set(length, (head = Buffer.from(`POST /pki/ocsp HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/ocsp-request\r\nContent-Length: ${length}\r\n\r\n`, 'latin1')));
    return head;
  };
  const latencies: number[] = [];
  const statuses: Record<CertStatus, number> = { good: 0, revoked: 0, unknown: 0, error: 0 };
  const connections = Array.from({ length: task.inFlight }, () => new Connection(url));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + task.durationMs;
  let next = 0;
  const lane = async (connection: Connection) => {
    while (next < task.maxRequests && performance.now() < end && (task.order === 'random' || next < ids.length)) {
      const n = next++;
      const i = task.order === 'each' ? n : Math.floor(Math.random() * ids.length);
      const body = task.nonce ? ocspRequest(ids[i], true) : plain[i];
      const sent = performance.now();
      const res = await connection.post(headFor(body.length), body);
      latencies.push(performance.now() - sent);
      statuses[res.status === 200 ? certStatus(res.body, ids[i]) : 'error']++;
    }
  };
  try {
    await Promise.all(connections.map(lane));
  } finally {
    for (const c of connections) c.close();
  }
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { kind: 'ocsp', latencies, statuses, elapsedMs, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

async function revokeLatency(task: RevokeTask): Promise<RevokeResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const prefix = Buffer.from(task.prefix, 'hex');
  const crlPath = `/pki/crl/${task.caId}.crl`;
  const ocsp = async (id: Buffer): Promise<CertStatus> => {
    const res = await call(agent, task.baseUrl, 'POST', '/pki/ocsp', ocspRequest(id), OCSP_HEADERS);
    return res.status === 200 ? certStatus(res.body, id) : 'error';
  };
  // The CRL download alone, before any revocation: the resolution of the CRL poll below.
  const crlGetMs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const res = await call(agent, task.baseUrl, 'GET', crlPath);
    if (res.status !== 200) throw new Error(`GET ${crlPath}: HTTP ${res.status}`);
    crlGetMs.push(performance.now() - t);
  }
  const rounds: RevokeRound[] = [];
  const cpu0 = process.cpuUsage();
  for (const serial of task.serials) {
    const id = certId(prefix, serial);
    const before = await ocsp(id);
    if (before !== 'good') throw new Error(`OCSP says ${before} for ${serial} before its revocation`);
    const round: RevokeRound = { serial, revokeReturnedMs: NaN, ocspRevokedMs: NaN, crlServedMs: NaN, ocspPolls: 0, crlPolls: 0, crlBytes: 0, crlEntries: undefined };
    const t0 = performance.now();
    const revoke = (async () => {
      const res = await call(agent, task.baseUrl, 'POST', '/api/v1/revocations', Buffer.from(JSON.stringify({ target: serial, reason: 'keyCompromise' })), {
        authorization: `Bearer ${task.adminToken}`,
        'content-type': 'application/json',
      });
      round.revokeReturnedMs = performance.now() - t0;
      if (res.status !== 200 && res.status !== 201) throw new Error(`revoke ${serial}: HTTP ${res.status} ${res.body.toString().slice(0, 300)}`);
      const outcome = JSON.parse(res.body.toString()) as { crls: Array<{ entries?: number; error?: string }> };
      if (outcome.crls[0]?.error) throw new Error(`revoke ${serial}: CRL not published: ${outcome.crls[0].error}`);
      round.crlEntries = outcome.crls[0]?.entries;
    })();
    const ocspPoll = (async () => {
      for (;;) {
        round.ocspPolls++;
        if ((await ocsp(id)) === 'revoked') return (round.ocspRevokedMs = performance.now() - t0);
        await sleep(task.ocspPollGapMs);
      }
    })();
    const crlPoll = (async () => {
      for (;;) {
        round.crlPolls++;
        const res = await call(agent, task.baseUrl, 'GET', crlPath);
        if (res.status === 200 && crlLists(res.body, serial)) {
          round.crlBytes = res.body.length;
          return (round.crlServedMs = performance.now() - t0);
        }
        await sleep(task.crlPollGapMs);
      }
    })();
    await Promise.all([revoke, ocspPoll, crlPoll]);
    rounds.push(round);
    await sleep(task.pauseMs);
  }
  const cpu = process.cpuUsage(cpu0);
  agent.destroy();
  return { kind: 'revoke', rounds, crlGetMs, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

process.once('message', (task: ClientTask) => {
  (task.kind === 'ocsp' ? ocspLoad(task) : revokeLatency(task)).then(
    (result) => process.send!(result, () => process.exit(0)),
    (err) => {
      console.error(`load client: ${(err as Error).stack ?? err}`);
      process.exit(1);
    },
  );
});
