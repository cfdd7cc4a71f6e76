// RFC 2136 dynamic updates signed with TSIG (RFC 8945), over TCP. dns-packet has no TSIG and no
// class NONE, so the UPDATE message and its signature are built here by hand; dns-packet decodes
// the answers and makes the propagation queries.
import { createHmac, randomInt } from 'node:crypto';
import { connect } from 'node:net';
import * as dnsPacket from 'dns-packet';
import type { TsigAlgorithm } from '../acme-challenge-spec';

export interface Rfc2136Settings {
  /** host:port of the primary that accepts updates (port 53 when omitted). */
  server: string;
  zone: string;
  tsigKeyName: string;
  tsigAlgorithm: TsigAlgorithm;
  /** base64, as in a BIND key statement. */
  tsigSecret: string;
  timeoutMs?: number;
}

const TYPE_TXT = 16;
const TYPE_SOA = 6;
const TYPE_TSIG = 250;
const CLASS_IN = 1;
const CLASS_NONE = 254;
const CLASS_ANY = 255;
const OPCODE_UPDATE = 5;
const FUDGE_SECONDS = 300;
const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];

export class DnsUpdateError extends Error {}

function hostPort(server: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(server);
  if (!m) throw new DnsUpdateError(`not host or host:port: ${server}`);
  return { host: m[1] ?? m[2], port: m[3] ? Number(m[3]) : 53 };
}

/** A domain name in wire format, uncompressed and lowercased (canonical, as TSIG needs). */
export function wireName(name: string): Buffer {
  const labels = name.replace(/\.$/, '').toLowerCase().split('.').filter(Boolean);
  const parts: Buffer[] = [];
  for (const label of labels) {
    const bytes = Buffer.from(label, 'ascii');
    if (bytes.length > 63) throw new DnsUpdateError(`DNS label longer than 63 octets in ${name}`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
function u48(n: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUIntBE(n, 0, 6);
  return b;
}

function txtRdata(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > 255) throw new DnsUpdateError('TXT value longer than 255 octets');
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}

function record(name: string, type: number, klass: number, ttl: number, rdata: Buffer): Buffer {
  return Buffer.concat([wireName(name), u16(type), u16(klass), u32(ttl), u16(rdata.length), rdata]);
}

/** An UPDATE adding or deleting one TXT record, TSIG-signed. */
export function buildTxtUpdate(settings: Rfc2136Settings, name: string, value: string, action: 'add' | 'delete', id = randomInt(0, 0x10000), now = new Date()): Buffer {
  const zone = Buffer.concat([wireName(settings.zone), u16(TYPE_SOA), u16(CLASS_IN)]);
  const update = action === 'add' ? record(name, TYPE_TXT, CLASS_IN, 60, txtRdata(value)) : record(name, TYPE_TXT, CLASS_NONE, 0, txtRdata(value));
  // Header: id, opcode UPDATE, ZOCOUNT 1, PRCOUNT 0, UPCOUNT 1, ADCOUNT 0 (the TSIG is added below).
  const header = Buffer.concat([u16(id), u16(OPCODE_UPDATE << 11), u16(1), u16(0), u16(1), u16(0)]);
  const unsigned = Buffer.concat([header, zone, update]);
  const timeSigned = Math.floor(now.getTime() / 1000);
  const algorithm = wireName(settings.tsigAlgorithm);
  const variables = Buffer.concat([wireName(settings.tsigKeyName), u16(CLASS_ANY), u32(0), algorithm, u48(timeSigned), u16(FUDGE_SECONDS), u16(0), u16(0)]);
  const mac = createHmac(settings.tsigAlgorithm.replace('hmac-', ''), Buffer.from(settings.tsigSecret, 'base64')).update(unsigned).update(variables).digest();
  const tsigRdata = Buffer.concat([algorithm, u48(timeSigned), u16(FUDGE_SECONDS), u16(mac.length), mac, u16(id), u16(0), u16(0)]);
  const signed = Buffer.concat([unsigned, record(settings.tsigKeyName, TYPE_TSIG, CLASS_ANY, 0, tsigRdata)]);
  signed.writeUInt16BE(1, 10); // ADCOUNT: the TSIG record
  return signed;
}

/** One DNS message over TCP (two-octet length prefix, RFC 1035 section 4.2.2); the answer's bytes. */
export function exchangeTcp(server: string, message: Buffer, timeoutMs = 5000): Promise<Buffer> {
  const { host, port } = hostPort(server);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(new DnsUpdateError(`no answer from ${server} within ${timeoutMs} ms`)), timeoutMs);
    socket.on('connect', () => socket.write(Buffer.concat([u16(message.length), message])));
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
        clearTimeout(timer);
        socket.end();
        resolve(received.subarray(2, 2 + received.readUInt16BE(0)));
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err instanceof DnsUpdateError ? err : new DnsUpdateError(`DNS server ${server}: ${err.message}`));
    });
    socket.on('close', () => {
      clearTimeout(timer);
      reject(new DnsUpdateError(`DNS server ${server} closed the connection without an answer`));
    });
  });
}

/** Adds or deletes the TXT record; throws with the server's RCODE when refused. */
export async function updateTxt(settings: Rfc2136Settings, name: string, value: string, action: 'add' | 'delete'): Promise<void> {
  const id = randomInt(0, 0x10000);
  const answer = await exchangeTcp(settings.server, buildTxtUpdate(settings, name, value, action, id), settings.timeoutMs);
  if (answer.length < 12 || answer.readUInt16BE(0) !== id) throw new DnsUpdateError(`DNS server ${settings.server} sent an answer that does not match the update`);
  const rcode = answer.readUInt16BE(2) & 0xf;
  if (rcode !== 0) {
    // TSIG failures are reported as NOTAUTH with the TSIG error in the answer's TSIG record.
    throw new DnsUpdateError(`DNS server ${settings.server} refused the update of ${name} TXT: ${RCODES[rcode] ?? `rcode ${rcode}`}${rcode === 9 ? ' (wrong TSIG key name, algorithm or secret?)' : ''}`);
  }
}

/** The TXT values the server holds for `name` (asked directly: the authoritative answer, no cache). */
export async function queryTxt(server: string, name: string, timeoutMs = 5000): Promise<string[]> {
  const query = dnsPacket.encode({ type: 'query', id: randomInt(0, 0x10000), flags: 0, questions: [{ type: 'TXT', name, class: 'IN' }] });
  const answer = dnsPacket.decode(await exchangeTcp(server, query, timeoutMs));
  return (answer.answers ?? []).flatMap((a) => (a.type === 'TXT' ? (Array.isArray(a.data) ? a.data : [a.data]).map((d) => Buffer.from(d as Buffer | string).toString('utf8')) : []));
}

/** Polls the authoritative server until `name` holds (or no longer holds) `value`. */
export async function waitForTxt(server: string, name: string, value: string, present: boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const values = await queryTxt(server, name);
    if (values.includes(value) === present) return;
    if (Date.now() > deadline) throw new DnsUpdateError(`${name} TXT ${present ? 'did not appear' : 'was not removed'} on ${server} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
