// A real BIND `named` on loopback for tests: one zone whose every name resolves to 127.0.0.1 and
// which accepts RFC 2136 updates signed with a TSIG key the test knows.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, stopProcess, waitFor } from './processes';
import { execFileSync } from 'node:child_process';

export interface TestNamed {
  port: number;
  zone: string;
  keyName: string;
  secret: string;
  stop(): Promise<void>;
  output(): string;
}

export async function startNamed(dir: string, zone = 'example.test'): Promise<TestNamed> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const keyName = 'certfleet-test';
  const secret = randomBytes(32).toString('base64');
  writeFileSync(
    join(dir, 'named.conf'),
    `options { directory "${dir}"; listen-on port ${port} { 127.0.0.1; }; listen-on-v6 { none; }; pid-file "${dir}/named.pid";
  session-keyfile "${dir}/session.key"; recursion no; dnssec-validation no; notify no; };
key "${keyName}" { algorithm hmac-sha256; secret "${secret}"; };
zone "${zone}" { type primary; file "${dir}/${zone}.zone"; allow-update { key "${keyName}"; }; };
controls { };
`,
  );
  writeFileSync(join(dir, `${zone}.zone`), `$TTL 60\n@ IN SOA ns.${zone}. admin.${zone}. 1 60 60 600 60\n@ IN NS ns.${zone}.\nns IN A 127.0.0.1\n* IN A 127.0.0.1\n`);
  const child: ChildProcess = spawn('/usr/sbin/named', ['-g', '-c', join(dir, 'named.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  await waitFor(async () => out, (o) => /running/.test(o) || child.exitCode !== null, 20_000, 'named to start');
  if (child.exitCode !== null) throw new Error(`named exited: ${out.slice(-2000)}`);
  return { port, zone, keyName, secret, output: () => out, stop: () => stopProcess(child) };
}

/** TXT values named serves for a name (asked with dig, independently of the code under test). */
export function digTxt(port: number, name: string): string[] {
  const out = execFileSync('dig', ['@127.0.0.1', '-p', String(port), '+short', '+tcp', name, 'TXT'], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean).map((l) => l.replace(/^"|"$/g, ''));
}
