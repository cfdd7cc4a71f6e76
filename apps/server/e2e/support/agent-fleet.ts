// A fleet of real agents for end-to-end tests: each is the agent's own AgentRunner (enrollment,
// session, discovery, job runner) with its own state and host directory, all in the test process
// so that dozens cost one Node.js process. A host can be taken offline and brought back.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { enroll } from '../../../agent/src/enroll/enroll';
import type { Logger } from '../../../agent/src/log';
import { AgentRunner } from '../../../agent/src/run/agent-runner';

export interface FleetHost {
  index: number;
  agentId: string;
  stateDir: string;
  hostDir: string;
}

export class AgentFleet {
  readonly hosts: FleetHost[] = [];
  readonly problems: string[] = [];
  private readonly runners = new Map<number, AgentRunner>();
  private readonly log: Logger;

  constructor(private readonly work: string) {
    this.log = (level, message) => {
      if (level === 'error') this.problems.push(message);
    };
  }

  /** Enrolls `tokens.length` agents (a few at a time) and starts them. */
  async enrollAll(grpcAddress: string, caFingerprint: string, tokens: string[]): Promise<FleetHost[]> {
    const queue = tokens.map((token, index) => ({ token, index }));
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const stateDir = join(this.work, 'state', String(next.index));
        const hostDir = join(this.work, 'hosts', String(next.index));
        mkdirSync(hostDir, { recursive: true, mode: 0o700 });
        const identity = await enroll({ server: grpcAddress, token: next.token, caFingerprint, stateDir, timeoutMs: 60_000 });
        const host = { index: next.index, agentId: identity.agentId, stateDir, hostDir };
        this.hosts.push(host);
        this.start(host.index);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    this.hosts.sort((a, b) => a.index - b.index);
    return this.hosts;
  }

  /** Starts (or restarts after offline) the agent of host `index`, from its stored identity. */
  start(index: number): void {
    if (this.runners.has(index)) return;
    const host = this.host(index);
    const runner = new AgentRunner({ stateDir: host.stateDir, scanRoots: [host.hostDir], passwords: [], maxFileSize: 1024 * 1024, scanIntervalSeconds: 3600, exclude: [] }, this.log);
    this.runners.set(index, runner);
    runner.start();
  }

  /** Takes host `index` offline: its agent stops and its stream closes. */
  stop(index: number): void {
    this.runners.get(index)?.stop();
    this.runners.delete(index);
  }

  stopAll(): void {
    for (const index of [...this.runners.keys()]) this.stop(index);
  }

  host(index: number): FleetHost {
    const host = this.hosts.find((h) => h.index === index);
    if (!host) throw new Error(`no host ${index}`);
    return host;
  }
}
