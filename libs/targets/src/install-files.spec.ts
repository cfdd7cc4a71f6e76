import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { BACKUP_SUFFIX, InstallFailedError, installFiles, installTargets } from './index';
import { makeChain, TestChain, Workdir } from './testing/openssl-kit';

const dir = new Workdir();
let material: TestChain;
let renewed: TestChain;
let n = 0;
let caseDir = '';

beforeAll(() => {
  material = makeChain(dir, 'old');
  renewed = makeChain(dir, 'new');
});
beforeEach(() => {
  n += 1;
  caseDir = dir.file(`case${n}`);
  mkdirSync(caseDir);
});
afterAll(() => dir.remove());

const at = (name: string) => `${caseDir}/${name}`;
const stat = (path: string) => {
  const s = statSync(path);
  return { mode: s.mode & 0o777, uid: s.uid, gid: s.gid };
};
/** An existing file with given content, mode and owner. */
const existing = (name: string, data: string, mode: number, owner = { uid: 65534, gid: 65534 }) => {
  writeFileSync(at(name), data);
  chownSync(at(name), owner.uid, owner.gid);
  chmodSync(at(name), mode);
  return at(name);
};

describe('installFiles', () => {
  it('gives new files 0644 (certificates) and 0600 (secrets), no backups', async () => {
    const tx = await installFiles([
      { path: at('cert.pem'), data: 'cert', secret: false },
      { path: at('key.pem'), data: 'key', secret: true },
    ]);
    expect([stat(at('cert.pem')).mode, stat(at('key.pem')).mode]).toEqual([0o644, 0o600]);
    expect(tx.files.map((f) => [f.created, f.changed, f.backupPath])).toEqual([[true, true, undefined], [true, true, undefined]]);
    expect(readdirSync(caseDir).sort()).toEqual(['cert.pem', 'key.pem']);
  });

  it('keeps owner and mode of existing files, narrows a key to 0600, and backs up the previous version', async () => {
    const cert = existing('cert.pem', material.certificatePem, 0o640);
    const key = existing('key.pem', material.privateKeyPem, 0o644, { uid: 65534, gid: 0 });
    const tx = await installTargets([{ kind: 'pem-files', certPath: cert, keyPath: key }], renewed);

    expect(stat(cert)).toEqual({ mode: 0o640, uid: 65534, gid: 65534 });
    expect(stat(key)).toEqual({ mode: 0o600, uid: 65534, gid: 0 });
    expect(dir.fingerprint(readFileSync(cert, 'utf8'))).toBe(dir.fingerprint(renewed.certificatePem));
    expect(readFileSync(cert + BACKUP_SUFFIX, 'utf8')).toBe(material.certificatePem);
    expect(readFileSync(key + BACKUP_SUFFIX, 'utf8')).toBe(material.privateKeyPem);
    expect(stat(cert + BACKUP_SUFFIX)).toEqual({ mode: 0o640, uid: 65534, gid: 65534 });
    expect(stat(key + BACKUP_SUFFIX)).toEqual({ mode: 0o600, uid: 65534, gid: 0 }); // secrets capped at 0600 even in backups
    expect(tx.files.map((f) => f.backupPath)).toEqual([cert + BACKUP_SUFFIX, key + BACKUP_SUFFIX]);

    await tx.commit();
    expect(existsSync(cert + BACKUP_SUFFIX)).toBe(true); // commit keeps the last version by default
  });

  it('rollback restores byte-identical files with owner and mode, removes new files and the backups it made', async () => {
    const cert = existing('fullchain.pem', material.certificatePem + material.chainPem, 0o640);
    const oldBackup = existing(`fullchain.pem${BACKUP_SUFFIX}`, 'an even older version\n', 0o600);
    const before = readFileSync(cert);
    const tx = await installTargets([{ kind: 'fullchain-pem', path: cert, keyPath: at('privkey.pem') }], renewed);
    expect(readFileSync(cert, 'utf8')).toBe(renewed.certificatePem + renewed.chainPem);

    await tx.rollback();
    expect(readFileSync(cert).equals(before)).toBe(true);
    expect(stat(cert)).toEqual({ mode: 0o640, uid: 65534, gid: 65534 });
    expect(existsSync(at('privkey.pem'))).toBe(false);
    expect(readFileSync(oldBackup, 'utf8')).toBe('an even older version\n');
    expect(readdirSync(caseDir).sort()).toEqual(['fullchain.pem', `fullchain.pem${BACKUP_SUFFIX}`]);
    await expect(tx.commit()).rejects.toThrow(/already rolled back/);
  });

  it('a failure midway leaves the earlier files exactly as they were', async () => {
    const cert = existing('cert.pem', material.certificatePem, 0o644);
    const before = readFileSync(cert);
    const attempt = installFiles([
      { path: cert, data: renewed.certificatePem, secret: false },
      { path: at('new.pem'), data: 'new', secret: false },
      { path: at('missing-dir/key.pem'), data: renewed.privateKeyPem, secret: true },
    ]);
    await expect(attempt).rejects.toThrow(InstallFailedError);
    await attempt.catch((error: InstallFailedError) => {
      expect(error.path).toBe(at('missing-dir/key.pem'));
      expect(error.rolledBack).toBe(true);
      expect(error.message).toMatch(/ENOENT/);
    });
    expect(readFileSync(cert).equals(before)).toBe(true);
    expect(stat(cert)).toEqual({ mode: 0o644, uid: 65534, gid: 65534 });
    expect(readdirSync(caseDir)).toEqual(['cert.pem']); // no new file, no backup, no temp file
  });

  it('installing the same thing twice is harmless and keeps the backup of the real previous version', async () => {
    const path = existing('haproxy.pem', 'previous\n', 0o600);
    const first = await installTargets([{ kind: 'combined-pem', path }], renewed);
    await first.commit();
    const installed = readFileSync(path);

    const second = await installTargets([{ kind: 'combined-pem', path }], renewed);
    expect(second.changed).toBe(false);
    expect(readFileSync(path).equals(installed)).toBe(true);
    expect(readFileSync(path + BACKUP_SUFFIX, 'utf8')).toBe('previous\n');
    await second.rollback(); // nothing it did to undo
    expect(readFileSync(path).equals(installed)).toBe(true);
  });

  it('commit({ removeBackups: true }) deletes the backups it made', async () => {
    const path = existing('cert.pem', 'previous\n', 0o644);
    const tx = await installFiles([{ path, data: 'next\n', secret: false }]);
    await tx.commit({ removeBackups: true });
    expect(readdirSync(caseDir)).toEqual(['cert.pem']);
    expect(readFileSync(path, 'utf8')).toBe('next\n');
  });

  it('refuses symlinks, relative paths and duplicate paths without writing anything', async () => {
    writeFileSync(at('real.pem'), 'real\n');
    symlinkSync(at('real.pem'), at('link.pem'));
    await expect(installFiles([{ path: at('a.pem'), data: 'a', secret: false }, { path: at('link.pem'), data: 'x', secret: false }])).rejects.toThrow(
      /symbolic link/,
    );
    expect(readFileSync(at('real.pem'), 'utf8')).toBe('real\n');
    expect(existsSync(at('a.pem'))).toBe(false);
    await expect(installFiles([{ path: 'relative.pem', data: 'x', secret: false }])).rejects.toThrow(/absolute/);
    await expect(installFiles([{ path: at('d.pem'), data: 'x', secret: false }, { path: at('d.pem'), data: 'y', secret: false }])).rejects.toThrow(/twice/);
    expect(readdirSync(caseDir).sort()).toEqual(['link.pem', 'real.pem']);
  });
});
