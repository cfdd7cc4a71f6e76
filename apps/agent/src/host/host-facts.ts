import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import type { HostFacts } from '@certfleet/proto';
import { AGENT_VERSION } from '../version';

function readOr(path: string, fallback = ''): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

function osRelease(): string {
  const text = readOr('/etc/os-release');
  const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text);
  return m ? m[1] : '';
}

/** What the agent tells the server about its host in Hello and at enrollment. */
export function collectHostFacts(): HostFacts {
  const addresses = Object.values(os.networkInterfaces())
    .flat()
    .filter((a): a is os.NetworkInterfaceInfo => !!a && !a.internal)
    .map((a) => a.address);
  return {
    hostname: os.hostname(),
    os: os.platform(),
    osRelease: osRelease(),
    kernel: os.release(),
    arch: os.arch(),
    ipAddresses: [...new Set(addresses)],
    cpuCount: os.cpus().length,
    memoryBytes: BigInt(os.totalmem()),
    agentVersion: AGENT_VERSION,
    bootTime: new Date(Date.now() - os.uptime() * 1000),
    machineId: readOr('/etc/machine-id').trim(),
  };
}
