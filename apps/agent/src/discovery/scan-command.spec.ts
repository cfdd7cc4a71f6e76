import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { DEFAULT_SCAN_ROOTS, runScanCommand } from './index';
import { commonName, expiryStatus } from './scan-report';

function capture() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const text = (s: PassThrough) => () => (s.read() ?? '').toString();
  return { io: { stdout, stderr }, out: text(stdout), err: text(stderr) };
}

describe('certfleet-agent scan', () => {
  const dir = mkdtempSync(join(tmpdir(), 'certfleet-agent-cmd-'));
  beforeAll(() => {
    const cert = (name: string, days: number) =>
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`,
        '-subj', `/O=Ops, Inc./CN=${name}.example.com`, '-days', String(days), '-out', `${name}.pem`], { cwd: dir, stdio: 'ignore' });
    cert('fresh', 200);
    cert('soon', 5);
    execFileSync('sh', ['-c', 'printf "" > empty.crt'], { cwd: dir });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints one JSON document with base64 DER and ISO dates', async () => {
    const { io, out } = capture();
    expect(await runScanCommand([dir, '--json', '--password', 'x'], io)).toBe(0);
    const doc = JSON.parse(out());
    expect(Object.keys(doc).sort()).toEqual(['certificates', 'privateKeys', 'problems', 'stats']);
    expect(doc.certificates).toHaveLength(2);
    const fresh = doc.certificates.find((c: { subject: string }) => c.subject.startsWith('CN=fresh'));
    expect(fresh.subject).toBe('CN=fresh.example.com, O=Ops\\, Inc.');
    expect(Buffer.from(fresh.der, 'base64')[0]).toBe(0x30);
    expect(fresh.notAfter).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
    expect(typeof fresh.file.size).toBe('number');
    expect(fresh.pairedKey).toEqual(expect.objectContaining({ path: join(dir, 'fresh.key'), sameFile: false }));
    expect(doc.problems).toEqual([expect.objectContaining({ path: join(dir, 'empty.crt'), kind: 'corrupt' })]);
    expect(doc.stats).toMatchObject({ certificates: 2, privateKeys: 2, problems: 1, filesSeen: 5 });
  });

  it('prints a table, the problems and a summary line', async () => {
    const { io, out } = capture();
    expect(await runScanCommand([dir], io)).toBe(0);
    const lines = out().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^PATH\s+SUBJECT CN\s+NOT AFTER\s+DAYS\s+KEY\s+STATUS$/);
    expect(lines[1]).toMatch(new RegExp(`^${join(dir, 'soon.pem')}#0\\s+soon.example.com\\s+\\d{4}-\\d\\d-\\d\\d\\s+4\\s+EC P-256\\s+CRITICAL$`));
    expect(lines[2]).toMatch(/fresh\.example\.com .* 199\s+EC P-256\s+OK$/);
    expect(lines).toContain('PROBLEMS');
    expect(lines).toContain(`${join(dir, 'empty.crt')}: corrupt: file is empty`);
    expect(lines[lines.length - 1]).toMatch(/^2 certificates \(0 expired, 1 critical, 0 warning, 1 ok\), 2 private keys, 1 problems in 5 files, \d+ ms$/);
  });

  it('refuses bad options with exit code 2', async () => {
    const { io, err } = capture();
    expect(await runScanCommand(['--max-file-size', 'lots'], io)).toBe(2);
    expect(err()).toMatch(/--max-file-size/);
    expect(await runScanCommand(['--bogus'], io)).toBe(2);
  });

  it('names the default roots', () => {
    expect(DEFAULT_SCAN_ROOTS).toEqual(['/etc/ssl', '/etc/pki', '/etc/nginx', '/etc/letsencrypt', '/etc/haproxy', '/usr/local/share/ca-certificates']);
  });

  it.each([[-1, 'EXPIRED'], [0, 'CRITICAL'], [7, 'CRITICAL'], [8, 'WARNING'], [30, 'WARNING'], [31, 'OK']] as const)('status for %i days left is %s', (days, status) => {
    expect(expiryStatus(days)).toBe(status);
  });

  it('takes the CN out of an escaped subject', () => {
    expect(commonName('CN=a\\, b, O=x')).toBe('a, b');
    expect(commonName('O=x')).toBe('O=x');
  });
});
