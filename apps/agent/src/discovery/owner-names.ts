// uid/gid → names from /etc/passwd and /etc/group, read once per scan (no native getpwuid in Node).
import { readFileSync } from 'node:fs';

function parseIdFile(path: string): Map<number, string> {
  const names = new Map<number, string>();
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return names; // no such file (containers, tests): names stay empty
  }
  for (const line of text.split('\n')) {
    const [name, , id] = line.split(':');
    if (name && id !== undefined && !names.has(Number(id))) names.set(Number(id), name);
  }
  return names;
}

export class OwnerNames {
  private users?: Map<number, string>;
  private groups?: Map<number, string>;
  constructor(private readonly passwdFile = '/etc/passwd', private readonly groupFile = '/etc/group') {}

  user(uid: number): string {
    this.users ??= parseIdFile(this.passwdFile);
    return this.users.get(uid) ?? '';
  }
  group(gid: number): string {
    this.groups ??= parseIdFile(this.groupFile);
    return this.groups.get(gid) ?? '';
  }
}
