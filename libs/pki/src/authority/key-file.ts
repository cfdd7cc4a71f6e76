// The 32-byte key that encrypts CA keys at rest, kept in a base64 text file readable only by its
// owner. Created without clobbering: two processes starting together end up with the same key.
import { existsSync, linkSync, lstatSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { fsyncDirectory, siblingTempPath, writeDurableNewFile } from './atomic-file';
import { KeyFileError } from './errors';

const KEY_BYTES = 32;

/** Reads the key at `path`, or creates it (mode 0600, parent directory 0700 when created). */
export function loadOrCreateKeyFile(path: string): Buffer {
  if (!existsSync(path)) createKeyFile(path);
  return readKeyFile(path);
}

export function readKeyFile(path: string): Buffer {
  const stats = lstatSync(path);
  if (stats.isSymbolicLink()) throw new KeyFileError(path, 'is a symbolic link; point the configuration at the real file');
  if (!stats.isFile()) throw new KeyFileError(path, 'is not a regular file');
  const mode = stats.mode & 0o777;
  if (mode & 0o077) {
    throw new KeyFileError(path, `is readable by group or others (mode ${mode.toString(8).padStart(4, '0')}); run: chmod 600 ${path}`);
  }
  const text = readFileSync(path, 'utf8').trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw new KeyFileError(path, 'does not contain base64 text');
  const key = Buffer.from(text, 'base64');
  if (key.length !== KEY_BYTES) throw new KeyFileError(path, `holds ${key.length} bytes, expected ${KEY_BYTES}`);
  return key;
}

function createKeyFile(path: string): void {
  const directory = dirname(path);
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const tempPath = siblingTempPath(path);
  writeDurableNewFile(tempPath, `${randomBytes(KEY_BYTES).toString('base64')}\n`, 0o600);
  try {
    // link() fails with EEXIST instead of replacing, unlike rename(): the first creator wins.
    linkSync(tempPath, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(tempPath);
  }
  fsyncDirectory(directory);
}
