import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { scanPaths } from './index';

// The corpus generator lives in shared/, checked out beside the repository (as on CI).
const CORPUS_GEN = resolve(__dirname, '../../../..', '../shared/tools/cert-corpus.sh');

const openssl = (cwd: string, ...args: string[]) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });

function selfSigned(dir: string, name: string): void {
  openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-subj', `/CN=${name}`, '-days', '30', '-out', `${name}.pem`);
}

describe('scanPaths on a generated corpus', () => {
  const base = mkdtempSync(join(tmpdir(), 'certfleet-agent-corpus-'));
  const corpus = join(base, 'corpus');
  let manifest: Record<'total_cert_objects_no_symlinks' | 'leaf_certs' | 'ca_certs_inside_chain_bundles' | 'ca_certs_inside_p12' | 'standalone_key_files' | 'private_keys_in_combined_pem' | 'leaf_expiring_within_30d_incl_expired' | 'leaf_expired', number> & {
    by_kind: Record<string, number>;
    generated_at: string;
    p12_password: string;
  };
  const findCount = (...args: string[]) => Number(execFileSync('sh', ['-c', `find "$0" "$@" | wc -l`, corpus, ...args]).toString().trim());
  beforeAll(() => {
    if (!existsSync(CORPUS_GEN)) throw new Error(`corpus generator not found at ${CORPUS_GEN}: check out shared/ beside the repository`);
    execFileSync('bash', [CORPUS_GEN, '300', corpus], { stdio: 'ignore' });
    manifest = JSON.parse(readFileSync(`${corpus}.manifest.json`, 'utf8'));
  }, 120_000);
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('finds every certificate, key and problem the manifest promises, and does not follow the loop', async () => {
    const scan = await scanPaths([corpus], { passwords: [manifest.p12_password] });
    const leaves = scan.certificates.filter((c) => !c.isCa);
    const inFiles = (pattern: RegExp) => scan.certificates.filter((c) => c.isCa && pattern.test(c.file!.path));
    expect(scan.certificates).toHaveLength(manifest.total_cert_objects_no_symlinks);
    expect(leaves).toHaveLength(manifest.leaf_certs);
    expect(inFiles(/(\.chain\.pem|-fullchain\.crt)$/)).toHaveLength(manifest.ca_certs_inside_chain_bundles);
    expect(inFiles(/\.(p12|pfx)$/)).toHaveLength(manifest.ca_certs_inside_p12);
    expect(scan.privateKeys.filter((k) => k.file!.path.endsWith('.key'))).toHaveLength(manifest.standalone_key_files);
    expect(scan.privateKeys.filter((k) => k.file!.path.endsWith('.combined.pem'))).toHaveLength(manifest.private_keys_in_combined_pem);
    expect(scan.privateKeys.filter((k) => /\.(p12|pfx)$/.test(k.file!.path))).toHaveLength(manifest.by_kind.p12 ?? 0);

    const soon = new Date(manifest.generated_at).getTime() + 30 * 86_400_000;
    expect(leaves.filter((c) => c.notAfter!.getTime() < soon)).toHaveLength(manifest.leaf_expiring_within_30d_incl_expired);
    expect(leaves.filter((c) => c.notAfter!.getTime() < new Date(manifest.generated_at).getTime())).toHaveLength(manifest.leaf_expired);

    const badFiles = findCount('(', '-name', 'empty*.crt', '-o', '-name', 'garbage*.pem', '-o', '-name', 'truncated*.crt', ')', '-type', 'f');
    expect(badFiles).toBeGreaterThan(0);
    expect(scan.problems.filter((p) => p.kind === 'corrupt')).toHaveLength(badFiles);
    expect(scan.problems.filter((p) => p.kind === 'symlink_loop')).toEqual([expect.objectContaining({ path: join(corpus, 'team4/app1/env2/loop') })]);
    expect(scan.problems.filter((p) => p.kind === 'unreadable')).toEqual([expect.objectContaining({ path: join(corpus, 'team3/dangling.pem'), reason: expect.stringMatching(/dangling/) })]);
    expect(scan.problems).toHaveLength(badFiles + 2);

    // Links to files and directories already seen are read once: each regular file counts once.
    expect(scan.stats.filesSeen).toBe(findCount('-type', 'f'));
    expect(scan.stats).toMatchObject({ certificates: scan.certificates.length, privateKeys: scan.privateKeys.length, problems: scan.problems.length });
    // Every leaf of a combined PEM or PKCS#12 file is paired with the key in the same file.
    const withKey = leaves.filter((c) => /\.(combined\.pem|p12|pfx)$/.test(c.file!.path));
    expect(withKey.length).toBe(manifest.by_kind.combined + manifest.by_kind.p12);
    expect(withKey.every((c) => c.pairedKey?.sameFile && c.pairedKey.path === c.file!.path)).toBe(true);
    expect(leaves[0].file).toMatchObject({ uid: 0, owner: 'root', group: 'root', mode: 0o644, size: BigInt(statSync(leaves[0].file!.path).size) });
    expect(leaves[0].file!.modifiedAt!.getTime()).toBe(statSync(leaves[0].file!.path).mtime.getTime());
  }, 60_000);
});

describe('scanPaths on hand-made trees', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'certfleet-agent-scan-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reports a root that does not exist, and carries on with the other roots', async () => {
    selfSigned(dir, 'ok');
    const missing = join(dir, 'missing');
    const scan = await scanPaths([missing, dir], { passwords: [] });
    expect(scan.problems).toEqual([expect.objectContaining({ path: missing, kind: 'unreadable', reason: expect.stringMatching(/does not exist/) })]);
    expect(scan.certificates).toHaveLength(1);
  });

  it('does not read a file above the size cap', async () => {
    selfSigned(dir, 'small');
    writeFileSync(join(dir, 'huge.pem'), Buffer.concat([readFileSync(join(dir, 'small.pem')), Buffer.alloc(4096, 0x41)]));
    const scan = await scanPaths([dir], { passwords: [], maxFileSize: 2048 });
    expect(scan.problems).toEqual([expect.objectContaining({ path: join(dir, 'huge.pem'), kind: 'too_large' })]);
    expect(scan.certificates.map((c) => c.file!.path)).toEqual([join(dir, 'small.pem')]);
  });

  it('pairs a certificate with a key in another directory', async () => {
    mkdirSync(join(dir, 'certs'));
    mkdirSync(join(dir, 'private'));
    selfSigned(join(dir, 'certs'), 'web');
    execFileSync('mv', [join(dir, 'certs/web.key'), join(dir, 'private/web.key')]);
    chmodSync(join(dir, 'private/web.key'), 0o600);
    const scan = await scanPaths([dir], { passwords: [] });
    expect(scan.certificates[0].pairedKey).toEqual({ path: join(dir, 'private/web.key'), mode: 0o600, owner: 'root', sameFile: false });
    expect(scan.privateKeys).toEqual([expect.objectContaining({ paired: true })]);
  });

  it('skips FIFOs and excluded paths without blocking', async () => {
    selfSigned(dir, 'a');
    mkdirSync(join(dir, 'skip'));
    selfSigned(join(dir, 'skip'), 'b');
    execFileSync('mkfifo', [join(dir, 'pipe.pem')]);
    const scan = await scanPaths([dir], { passwords: [], exclude: [join(dir, 'skip')] });
    expect(scan.certificates.map((c) => c.file!.path)).toEqual([join(dir, 'a.pem')]);
    expect(scan.problems).toEqual([]);
  });

  it('reports a symlink cycle between two links as a loop', async () => {
    symlinkSync(join(dir, 'b'), join(dir, 'a'));
    symlinkSync(join(dir, 'a'), join(dir, 'b'));
    const scan = await scanPaths([dir], { passwords: [] });
    expect(scan.problems.map((p) => [p.path, p.kind])).toEqual([[join(dir, 'a'), 'symlink_loop'], [join(dir, 'b'), 'symlink_loop']]);
  });

  it('reports files and directories it may not read as unreadable (as an unprivileged user)', async () => {
    selfSigned(dir, 'readable');
    selfSigned(dir, 'secret');
    chmodSync(join(dir, 'secret.pem'), 0o000);
    mkdirSync(join(dir, 'closed'));
    chmodSync(join(dir, 'closed'), 0o000);
    chmodSync(dir, 0o755);
    chmodSync(join(dir, 'secret.key'), 0o644);
    chmodSync(join(dir, 'readable.key'), 0o644);
    // Tests run as root, who may read anything: drop the effective uid to "nobody" for the scan.
    process.seteuid!(65534);
    try {
      const scan = await scanPaths([dir], { passwords: [] });
      expect(scan.problems.map((p) => [p.path, p.kind])).toEqual([[join(dir, 'closed'), 'unreadable'], [join(dir, 'secret.pem'), 'unreadable']]);
      expect(scan.problems[0].reason).toMatch(/EACCES/);
      expect(scan.certificates.map((c) => c.file!.path)).toEqual([join(dir, 'readable.pem')]);
    } finally {
      process.seteuid!(0);
    }
  });
});
