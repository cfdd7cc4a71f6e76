import { chmodSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@certfleet/pki';

/**
 * The agent's state directory (0700): everything it must remember across restarts. Every write is
 * atomic (temp file, fsync, rename) so a crash leaves either the old or the new file.
 */
export class StateDir {
  constructor(readonly root: string) {}

  ensure(): void {
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    if ((statSync(this.root).mode & 0o077) !== 0) chmodSync(this.root, 0o700);
  }

  path(...parts: string[]): string {
    return join(this.root, ...parts);
  }

  write(name: string, data: string | Uint8Array, mode = 0o600): void {
    this.ensure();
    writeFileAtomic(this.path(name), data, mode);
  }

  read(name: string): Buffer | undefined {
    try {
      return readFileSync(this.path(name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  readText(name: string): string | undefined {
    return this.read(name)?.toString('utf8');
  }
}
