// Validation of what administrators and agents send about endpoints: bad input gets one clear
// error and changes nothing.
import { BadRequestException } from '@nestjs/common';
import { isIP } from 'node:net';

export interface TargetInput {
  host: string;
  port: number;
  serverName: string;
  /** Agent id or hostname of the host that serves it. */
  agent?: string;
  /** Agent id or hostname of the agent that probes it from its network (default: the server). */
  probeFrom?: string;
}

const HOSTNAME = /^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*\.?$/;

export function parseTarget(body: unknown): TargetInput {
  const input = (body ?? {}) as Record<string, unknown>;
  let host = input.host;
  let port = input.port;
  // "host:port" in one field, as people type it.
  if (typeof host === 'string' && port === undefined) {
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(host);
    if (m) [host, port] = [m[1], Number(m[2])];
  }
  if (typeof host !== 'string' || !(isIP(host) || HOSTNAME.test(host))) throw new BadRequestException(`host must be a DNS name or IP address, got ${JSON.stringify(input.host)}`);
  port = typeof port === 'string' && /^\d+$/.test(port) ? Number(port) : port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) throw new BadRequestException(`port must be an integer 1-65535, got ${JSON.stringify(input.port)}`);
  const serverName = input.serverName ?? '';
  if (typeof serverName !== 'string' || (serverName !== '' && !HOSTNAME.test(serverName))) throw new BadRequestException(`serverName must be a DNS name, got ${JSON.stringify(input.serverName)}`);
  const agent = input.agent;
  if (agent !== undefined && agent !== null && (typeof agent !== 'string' || !agent)) throw new BadRequestException('agent must be an agent id or hostname');
  const probeFrom = input.probeFrom;
  if (probeFrom !== undefined && probeFrom !== null && (typeof probeFrom !== 'string' || !probeFrom)) throw new BadRequestException('probeFrom must be an agent id or hostname');
  return {
    host: host.toLowerCase(), port, serverName: serverName.toLowerCase().replace(/\.$/, ''), agent: (agent as string | undefined) ?? undefined,
    probeFrom: (probeFrom as string | undefined) ?? undefined,
  };
}

export const isUuid = (value: string): boolean => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
