// A public-CA-sized CRL (100,000 entries, ~3.5 MB, made by `openssl ca -gencrl` from an index
// written here), the size pkijs cannot parse (see crl-parse.ts), checked end to end.
import { appendFileSync } from 'node:fs';
import { RevocationChecker } from './checker';
import { readCrl, indexRevoked } from './crl-parse';
import { Issued, TestCa, TestHttpServer } from './test-kit';

const ENTRIES = 100_000;

describe('a 100,000-entry CRL', () => {
  let ca: TestCa;
  let server: TestHttpServer;
  let der: Buffer;
  let revoked: Issued;
  let good: Issued;

  beforeAll(async () => {
    ca = new TestCa('/CN=Big CRL CA');
    server = await TestHttpServer.start();
    revoked = ca.issue('revoked', { crl: [server.url('/big.crl')] });
    good = ca.issue('good', { crl: [server.url('/big.crl')] });
    ca.revoke('revoked', 'keyCompromise');
    const rows: string[] = [];
    for (let i = 1; i <= ENTRIES; i++) rows.push(`R\t301231000000Z\t240101000000Z,superseded\t${(0xa0000000 + i).toString(16).toUpperCase()}\tunknown\t/CN=filler ${i}\n`);
    appendFileSync(ca.dir.file('index.txt'), rows.join(''));
    der = ca.crl('big.crl').der;
    server.serve('/big.crl', der);
  });

  afterAll(async () => {
    await server?.close();
    ca?.dir.remove();
  });

  it('indexes every entry with its reason and date', () => {
    const index = indexRevoked(readCrl(der).revokedList);
    expect(index.size).toBe(ENTRIES + 1);
    expect(index.get('a0000001')).toEqual({ revokedAt: Date.UTC(2024, 0, 1), reason: 'superseded' });
    expect(index.get((0xa0000000 + ENTRIES).toString(16))).toEqual({ revokedAt: Date.UTC(2024, 0, 1), reason: 'superseded' });
    expect(index.get(revoked.serial.toLowerCase())?.reason).toBe('keyCompromise');
  });

  it('answers through the checker, downloading and indexing once', async () => {
    const checker = new RevocationChecker();
    expect(await checker.check(revoked.der, ca.der)).toMatchObject({ status: 'revoked', reason: 'keyCompromise', source: 'crl' });
    const started = process.hrtime.bigint();
    const second = await checker.check(good.der, ca.der);
    const lookupMs = Number(process.hrtime.bigint() - started) / 1e6;
    expect(second).toMatchObject({ status: 'good', source: 'crl' });
    expect(second.detail).toMatch(/CRL of 100001 entries/);
    expect(checker.stats()).toMatchObject({ crlCached: 1, hits: 1, misses: 1 });
    // A cached lookup is a Map probe, not a re-parse (generous bound for slow CI machines).
    expect(lookupMs).toBeLessThan(200);
  });
});
