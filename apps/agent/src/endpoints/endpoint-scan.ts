// Probes every TCP listener on this host with a TLS handshake on loopback and builds the report
// for the server. Non-TLS ports fail fast (the peer answers the ClientHello with something that
// is not TLS) or at the short per-port deadline.
import type { AgentMessage } from '@certfleet/proto';
import { EndpointProbe, probeEndpoint } from '@certfleet/pki';
import { findListeners, Listener, probeAddress } from './listeners';

export type EndpointReport = Extract<NonNullable<AgentMessage['payload']>, { $case: 'endpointReport' }>['value'];
export type ListenerProbe = EndpointReport['listeners'][number];

export interface EndpointScanOptions {
  /** Per-listener handshake deadline (default 2000 ms). */
  timeoutMs?: number;
  /** Probes at once (default 8). */
  concurrency?: number;
  /** Only these ports (tests); default every listener. */
  ports?: number[];
  proc?: string;
}

export async function scanEndpoints(options: EndpointScanOptions = {}): Promise<EndpointReport> {
  const listeners = findListeners(options.proc).filter((l) => !options.ports || options.ports.includes(l.port));
  const results = await probeEach(listeners, options.concurrency ?? 8, (l) => probeListener(l, options.timeoutMs ?? 2000));
  results.sort((a, b) => a.port - b.port || a.host.localeCompare(b.host));
  return { probedAt: new Date(), listeners: results };
}

/** Probes `items` with at most `concurrency` handshakes at once; results in completion order. */
export async function probeEach<T, R>(items: readonly T[], concurrency: number, probe: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) results.push(await probe(items[next++]));
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, items.length)) }, worker));
  return results;
}

async function probeListener(listener: Listener, timeoutMs: number): Promise<ListenerProbe> {
  const probe = await probeEndpoint({ host: probeAddress(listener), port: listener.port, timeoutMs, testVersions: true });
  return toListenerProbe(probe, listener.process ?? '');
}

/** A probe result as the agent contract carries it (the chain as DER). */
export function toListenerProbe(probe: EndpointProbe, process: string): ListenerProbe {
  return {
    host: probe.host,
    port: probe.port,
    serverName: probe.serverName ?? '',
    process,
    tls: probe.tls,
    error: probe.error ?? '',
    protocol: probe.protocol ?? '',
    cipher: probe.cipher ?? '',
    chain: probe.chain.map((c) => c.der),
    hostnameMatch: probe.hostnameMatch,
    hostnameError: probe.hostnameError ?? '',
    chainValid: probe.chainValid,
    chainError: probe.chainError ?? '',
    ocspStatus: probe.ocsp?.status ?? '',
    acceptedVersions: probe.acceptedVersions ?? [],
  };
}
