// Endpoints the server asked this agent to probe from its network (targets an administrator
// assigned to it), with SNI and the server's extra trust anchors beside the bundled roots.
import { X509Certificate } from 'node:crypto';
import type { ServerMessage } from '@certfleet/proto';
import { probeEndpoint } from '@certfleet/pki';
import type { EndpointReport } from './endpoint-scan';
import { probeEach, toListenerProbe } from './endpoint-scan';

export type EndpointProbeRequest = Extract<NonNullable<ServerMessage['payload']>, { $case: 'endpointProbe' }>['value'];
type TargetProbe = { targetId: string; probe: EndpointReport['listeners'][number] };

export interface TargetProbeOptions {
  /** Per-handshake deadline (default 5000 ms, as the server's own probes). */
  timeoutMs?: number;
  /** Probes at once (default 8). */
  concurrency?: number;
}

/** Probes every target of the request; one that cannot be reached is a result with its error, never a failure of the rest. */
export async function probeTargets(request: EndpointProbeRequest, options: TargetProbeOptions = {}): Promise<{ requestId: string; results: TargetProbe[] }> {
  // A trust anchor that does not parse is dropped rather than failing every probe.
  const roots = request.trustRootsPem.filter((pem) => {
    try {
      return Boolean(new X509Certificate(pem));
    } catch {
      return false;
    }
  });
  const results = await probeEach(request.targets, options.concurrency ?? 8, async (target): Promise<TargetProbe> => {
    const probe = await probeEndpoint({
      host: target.host, port: target.port, serverName: target.serverName || undefined, timeoutMs: options.timeoutMs ?? 5000, trust: { roots }, testVersions: true,
    });
    return { targetId: target.targetId, probe: toListenerProbe(probe, '') };
  });
  return { requestId: request.requestId, results };
}
