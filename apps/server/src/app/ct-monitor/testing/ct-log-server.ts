// Test-only: a small RFC 6962 log on loopback serving get-sth (signed with a real ECDSA P-256 key),
// get-sth-consistency (real RFC 6962 2.1.2 proofs over its Merkle tree) and get-entries from a list
// of certificates it is given, with a cap on entries per answer like real logs have. It can also
// lie: rewrite an entry it already showed, as a log forking its history would. No public log is
// reachable from the test machines.
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { consistencyProof, merkleTreeHash, precertLeaf, signedTreeHead, TestCtLogKey, x509Leaf } from '../../../../../../libs/pki/src/ct/testing/ct-encoding';

export class TestCtLogServer {
  readonly key = new TestCtLogKey();
  readonly leaves: Buffer[] = [];
  readonly requests: string[] = [];
  private server?: Server;

  constructor(private readonly maxEntriesPerAnswer = 3) {}

  addCertificate(der: Buffer, timestamp = new Date()): number {
    this.leaves.push(x509Leaf(der, timestamp));
    return this.leaves.length - 1;
  }

  addPrecertificate(der: Buffer, issuerSpkiDer: Buffer, timestamp = new Date()): number {
    this.leaves.push(precertLeaf(der, issuerSpkiDer, timestamp));
    return this.leaves.length - 1;
  }

  /** Replaces entry `index` with another certificate: the tree of every size above it changes. */
  rewriteHistory(index: number, der: Buffer, timestamp = new Date()): void {
    this.leaves[index] = x509Leaf(der, timestamp);
  }

  /** The root hash of the tree as it is now. */
  root(): Buffer {
    return merkleTreeHash(this.leaves);
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/log`;
  }

  async start(): Promise<this> {
    this.server = createServer((request, response) => this.handle(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://log');
    this.requests.push(`${url.pathname}${url.search}`);
    const json = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (url.pathname === '/log/ct/v1/get-sth') return json(200, signedTreeHead(this.leaves, this.key));
    if (url.pathname === '/log/ct/v1/get-sth-consistency') {
      const first = Number(url.searchParams.get('first'));
      const second = Number(url.searchParams.get('second'));
      if (!Number.isInteger(first) || !Number.isInteger(second) || first < 1 || first > second || second > this.leaves.length) return json(400, { error: 'bad sizes' });
      return json(200, { consistency: consistencyProof(this.leaves.slice(0, second), first).map((hash) => hash.toString('base64')) });
    }
    if (url.pathname === '/log/ct/v1/get-entries') {
      const start = Number(url.searchParams.get('start'));
      const end = Number(url.searchParams.get('end'));
      if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || start >= this.leaves.length) return json(400, { error: 'bad range' });
      const last = Math.min(end, this.leaves.length - 1, start + this.maxEntriesPerAnswer - 1);
      return json(200, { entries: this.leaves.slice(start, last + 1).map((leaf) => ({ leaf_input: leaf.toString('base64'), extra_data: '' })) });
    }
    json(404, { error: 'not found' });
  }
}
