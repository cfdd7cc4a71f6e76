// Targets probed by a chosen agent (endpoints reachable only from its network): the server sends
// an EndpointProbeRequest on the agent's stream and waits for EndpointProbeResults with the same
// request id. Results for anything not asked of that agent are refused.
import { randomUUID } from 'node:crypto';
import type { AgentMessage, ServerMessage } from '@certfleet/proto';
import type { EndpointProbe } from '@certfleet/pki';
import { toEndpointProbe } from './agent-endpoint-report';
import type { EndpointTarget } from './endpoint-target.entity';

export type EndpointProbeResultsMessage = Extract<NonNullable<AgentMessage['payload']>, { $case: 'endpointProbeResults' }>['value'];

/** How the gRPC side reaches agents connected to this replica. */
export interface AgentDelivery {
  send(agentId: string, message: ServerMessage): boolean;
  /** Agents with a live, greeted session on this replica. */
  connected(): string[];
}

/** Per target: what the agent saw, or why it gave no answer. */
export type AgentProbeOutcome = Map<string, EndpointProbe>;

interface Pending {
  agentId: string;
  targets: Map<string, EndpointTarget>;
  resolve(outcome: AgentProbeOutcome | null): void;
  timer: NodeJS.Timeout;
}

/** Targets in one request; the agent probes them 8 at a time. */
export const AGENT_PROBE_BATCH = 100;

export class AgentProbes {
  private delivery?: AgentDelivery;
  private readonly pending = new Map<string, Pending>();

  attach(delivery: AgentDelivery): void {
    this.delivery = delivery;
  }

  connected(): string[] {
    return this.delivery?.connected() ?? [];
  }

  /**
   * Asks the agent to probe the targets (at most AGENT_PROBE_BATCH). Resolves with its results, or
   * null when the agent is not connected here or does not answer within timeoutMs.
   */
  request(agentId: string, targets: EndpointTarget[], trustRootsPem: string[], timeoutMs: number): Promise<AgentProbeOutcome | null> {
    const requestId = randomUUID();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(requestId, null), timeoutMs);
      timer.unref();
      this.pending.set(requestId, { agentId, targets: new Map(targets.map((t) => [t.id, t])), resolve, timer });
      const sent = this.delivery?.send(agentId, {
        payload: {
          $case: 'endpointProbe',
          value: { requestId, trustRootsPem, targets: targets.map((t) => ({ targetId: t.id, host: t.host, port: t.port, serverName: t.serverName })) },
        },
      });
      if (!sent) this.settle(requestId, null);
    });
  }

  /** The agent's answer. Throws with a one-line reason when it does not fit what was asked (nothing is kept). */
  onResults(agentId: string, msg: EndpointProbeResultsMessage): void {
    const pending = this.pending.get(msg.requestId);
    if (!pending || pending.agentId !== agentId) throw new Error(`no endpoint probe request ${msg.requestId.slice(0, 40)} is waiting for this agent`);
    const outcome: AgentProbeOutcome = new Map();
    try {
      for (const result of msg.results) {
        const target = pending.targets.get(result.targetId);
        if (!target) throw new Error(`target ${result.targetId.slice(0, 40)} was not asked of this agent`);
        if (!result.probe) throw new Error(`no probe for target ${target.id}`);
        // Stored under the target's address, whatever the agent says it dialled.
        outcome.set(target.id, { ...toEndpointProbe(result.probe), host: target.host, port: target.port, serverName: target.serverName || null });
      }
    } catch (error) {
      this.settle(msg.requestId, null);
      throw error;
    }
    this.settle(msg.requestId, outcome);
  }

  /** Shutdown: nobody waits any longer. */
  abandonAll(): void {
    for (const id of [...this.pending.keys()]) this.settle(id, null);
  }

  private settle(requestId: string, outcome: AgentProbeOutcome | null): void {
    const pending = this.pending.get(requestId);
    if (!pending) return;
    this.pending.delete(requestId);
    clearTimeout(pending.timer);
    pending.resolve(outcome);
  }
}
