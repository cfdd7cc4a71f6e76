// TCP listeners on this host, from the kernel's socket tables (/proc/net/tcp and tcp6, state 0A =
// LISTEN), with the owning process when /proc/<pid>/fd is readable (as root, or our own).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface Listener {
  /** The bound address as text: 0.0.0.0, 127.0.0.1, ::, ::1, ... */
  address: string;
  port: number;
  family: 4 | 6;
  inode: number;
  /** "nginx (pid 42)", or null when not visible. */
  process: string | null;
}

const LISTEN = '0A';

/** Listeners from the given table texts (the format of /proc/net/tcp). */
export function parseTcpTable(text: string, family: 4 | 6): Omit<Listener, 'process'>[] {
  const out: Omit<Listener, 'process'>[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || fields[3] !== LISTEN) continue;
    const [addressHex, portHex] = fields[1].split(':');
    out.push({ address: family === 4 ? ipv4(addressHex) : ipv6(addressHex), port: parseInt(portHex, 16), family, inode: Number(fields[9]) });
  }
  return out;
}

// The kernel prints each 32-bit word in host byte order (little-endian on x86 and arm64).
function ipv4(hex: string): string {
  const n = Buffer.from(hex, 'hex');
  return [n[3], n[2], n[1], n[0]].join('.');
}

function ipv6(hex: string): string {
  const bytes = Buffer.from(hex, 'hex');
  for (let i = 0; i < 16; i += 4) bytes.subarray(i, i + 4).reverse();
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return compressIpv6(groups);
}

function compressIpv6(groups: string[]): string {
  // The longest run of zero groups becomes "::".
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.length) best = { start: i, length: j - i };
    i = j;
  }
  if (best.length < 2) return groups.join(':');
  return `${groups.slice(0, best.start).join(':')}::${groups.slice(best.start + best.length).join(':')}`;
}

/** Socket inode → "comm (pid N)" for the processes whose fds we may read. */
export function socketOwners(proc = '/proc'): Map<number, string> {
  const owners = new Map<number, string>();
  let pids: string[];
  try {
    pids = readdirSync(proc).filter((name) => /^\d+$/.test(name));
  } catch {
    return owners;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`${proc}/${pid}/fd`);
    } catch {
      continue; // another user's process, or gone
    }
    let name: string | undefined;
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`${proc}/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (!m) continue;
      name ??= readComm(proc, pid);
      owners.set(Number(m[1]), `${name} (pid ${pid})`);
    }
  }
  return owners;
}

function readComm(proc: string, pid: string): string {
  try {
    return readFileSync(`${proc}/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

/** Every TCP listener on the host, each (address, port) once. */
export function findListeners(proc = '/proc'): Listener[] {
  const read = (file: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  const sockets = [...parseTcpTable(read(`${proc}/net/tcp`), 4), ...parseTcpTable(read(`${proc}/net/tcp6`), 6)];
  const owners = socketOwners(proc);
  const seen = new Set<string>();
  return sockets
    .filter((s) => !seen.has(`${s.address}|${s.port}`) && seen.add(`${s.address}|${s.port}`))
    .map((s) => ({ ...s, process: owners.get(s.inode) ?? null }))
    .sort((a, b) => a.port - b.port || a.address.localeCompare(b.address));
}

/** Where to connect to reach a listener from this host: loopback for wildcard binds. */
export function probeAddress(listener: Listener): string {
  if (listener.address === '0.0.0.0') return '127.0.0.1';
  if (listener.address === '::') return '::1';
  return listener.address;
}
