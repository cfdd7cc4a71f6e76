import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file';
import { KeyFileError } from './errors';
import { loadOrCreateKeyFile } from './key-file';

describe('loadOrCreateKeyFile', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'certfleet-keyfile-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('creates a 32-byte base64 key with mode 0600 in a new 0700 directory, then reads the same key', () => {
    const path = join(root, 'secrets', 'ca-wrap.key');
    const key = loadOrCreateKeyFile(path);
    expect(key.length).toBe(32);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(root, 'secrets')).mode & 0o777).toBe(0o700);
    expect(Buffer.from(readFileSync(path, 'utf8').trim(), 'base64').equals(key)).toBe(true);
    expect(loadOrCreateKeyFile(path).equals(key)).toBe(true);
    expect(readdirSync(join(root, 'secrets'))).toEqual(['ca-wrap.key']); // no temp files left
  });

  it('refuses a key file readable by group or others, with the fix in the message', () => {
    const path = join(root, 'wide.key');
    writeFileSync(path, randomKeyText());
    chmodSync(path, 0o644);
    expect(() => loadOrCreateKeyFile(path)).toThrow(KeyFileError);
    expect(() => loadOrCreateKeyFile(path)).toThrow(`key file ${path}: is readable by group or others (mode 0644); run: chmod 600 ${path}`);
    chmodSync(path, 0o640);
    expect(() => loadOrCreateKeyFile(path)).toThrow(/mode 0640/);
    chmodSync(path, 0o600);
    expect(loadOrCreateKeyFile(path).length).toBe(32);
  });

  it('refuses wrong sizes, non-base64 content and symlinks', () => {
    const short = join(root, 'short.key');
    writeFileSync(short, Buffer.alloc(16).toString('base64'), { mode: 0o600 });
    expect(() => loadOrCreateKeyFile(short)).toThrow(/holds 16 bytes, expected 32/);
    const text = join(root, 'text.key');
    writeFileSync(text, 'not base64 at all!', { mode: 0o600 });
    expect(() => loadOrCreateKeyFile(text)).toThrow(/does not contain base64 text/);
    const link = join(root, 'link.key');
    symlinkSync(short, link);
    expect(() => loadOrCreateKeyFile(link)).toThrow(/is a symbolic link/);
  });
});

describe('writeFileAtomic', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'certfleet-atomic-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('replaces content with exactly the requested mode, whatever the umask, leaving no temp file', () => {
    const path = join(root, 'out.pem');
    writeFileSync(path, 'old');
    const previous = process.umask(0o077);
    try {
      writeFileAtomic(path, 'new content', 0o644);
    } finally {
      process.umask(previous);
    }
    expect(readFileSync(path, 'utf8')).toBe('new content');
    expect(statSync(path).mode & 0o777).toBe(0o644);
    writeFileAtomic(path, Buffer.from([1, 2, 3]), 0o600);
    expect([...readFileSync(path)]).toEqual([1, 2, 3]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(root)).toEqual(['out.pem']);
  });

  it('fails without leaving a temp file when the target cannot be replaced', () => {
    const target = join(root, 'a-directory');
    writeFileAtomic(`${target}-sibling`, 'x', 0o600);
    mkdirSync(target);
    expect(() => writeFileAtomic(target, 'data', 0o600)).toThrow(/EISDIR|EEXIST|ENOTEMPTY|EPERM/);
    expect(readdirSync(root).sort()).toEqual(['a-directory', 'a-directory-sibling']);
  });
});

function randomKeyText(): string {
  return `${randomBytes(32).toString('base64')}\n`;
}
