import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirInUseError, lockPgliteDir } from './pglite-lock';

describe('lockPgliteDir', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pglite-lock-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a data directory locked by a live process and takes over a stale lock', async () => {
    const other = spawn('sleep', ['30']);
    await once(other, 'spawn');
    writeFileSync(join(dir, 'server.lock'), `${other.pid}\n`);
    expect(() => lockPgliteDir(dir)).toThrow(DataDirInUseError);
    expect(() => lockPgliteDir(dir)).toThrow(`pid ${other.pid}`);
    other.kill();
    await once(other, 'exit');
    const release = lockPgliteDir(dir);
    expect(existsSync(join(dir, 'server.lock'))).toBe(true);
    release();
    expect(existsSync(join(dir, 'server.lock'))).toBe(false);
  });
});
