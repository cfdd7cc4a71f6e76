import { scanPaths } from '../discovery';
import { scanEndpoints } from '../endpoints/endpoint-scan';
import { EndpointProbeRequest, probeTargets } from '../endpoints/target-probes';
import { AgentConfig } from '../config/agent-config';
import { toInventoryItems } from '../inventory/inventory-items';
import { InventoryTracker } from '../inventory/inventory-tracker';
import { Outbox } from '../inventory/outbox';
import { Logger } from '../log';
import { identityExpired, recoverIdentityWithRetry } from '../identity/identity-recovery';
import { JobRunner } from '../jobs';
import { identityRenewalDue, renewIdentity } from '../identity/identity-renewal';
import { AgentSession } from '../session/agent-session';
import { AgentIdentity, certificateExpiry, loadIdentity } from '../state/identity';
import { StateDir } from '../state/state-dir';

/** How often the agent asks whether its identity certificate is due for renewal. */
const IDENTITY_CHECK_MS = 10 * 60 * 1000;

/** `certfleet-agent run`: keeps the session to the server and scans on a schedule or on request. */
export class AgentRunner {
  private session: AgentSession;
  private identity: AgentIdentity;
  private readonly state: StateDir;
  private readonly outbox: Outbox;
  private readonly tracker: InventoryTracker;
  private timer?: NodeJS.Timeout;
  private identityTimer?: NodeJS.Timeout;
  private renewing = false;
  private scanning: Promise<void> | null = null;
  private rescan = false;
  private probing = false;
  private lastProbeAt = -Infinity;
  private stopped = false;
  private readonly lifetime = new AbortController();
  /** Certificate jobs outlive sessions (an identity renewal swaps the session, not the jobs). */
  private readonly jobs: JobRunner;

  constructor(private readonly config: AgentConfig, private readonly log: Logger) {
    this.state = new StateDir(config.stateDir);
    const identity = loadIdentity(this.state);
    this.identity = identity;
    this.tracker = new InventoryTracker(this.state);
    this.outbox = new Outbox(this.state);
    this.jobs = new JobRunner({
      stateDir: this.state,
      log,
      outbound: { sendCsr: (m) => this.session.sendJobCsr(m), sendResult: (m) => this.session.sendJobResult(m), sendChallengeReady: (m) => this.session.sendJobChallengeReady(m) },
      // Standalone ACME HTTP-01 listeners bind all addresses unless told otherwise (e.g. 127.0.0.1 in tests).
      challengeListenHost: process.env.CERTFLEET_ACME_LISTEN_HOST || undefined,
      // The server sees the new certificate in the inventory at once.
      onInstalled: () => void this.scanNow(),
    });
    this.session = this.newSession(identity);
    const daysLeft = (certificateExpiry(identity.certificatePem).getTime() - Date.now()) / 86_400_000;
    if (daysLeft < 7) {
      log(daysLeft <= 0 ? 'error' : 'warn', `this agent's identity certificate ${daysLeft <= 0 ? 'has expired' : `expires in ${daysLeft.toFixed(1)} days`}: re-enroll with a new token if the server refuses it`);
    }
    log('info', `agent ${identity.agentId} starting; server ${identity.server}; scanning ${config.scanRoots.join(', ')} every ${config.scanIntervalSeconds}s`);
  }

  start(): void {
    void this.startSession();
    void this.scanNow();
    void this.renewIdentityIfDue();
    this.identityTimer = setInterval(() => void this.renewIdentityIfDue(), IDENTITY_CHECK_MS);
  }

  /**
   * Renews the agent's own mTLS identity when it is due (2/3 of its lifetime), then reconnects
   * with it. A failure is logged and retried at the next check; the current identity stays valid.
   */
  async renewIdentityIfDue(now = new Date()): Promise<boolean> {
    if (this.renewing || this.stopped || !identityRenewalDue(this.identity, now)) return false;
    this.renewing = true;
    try {
      const next = await renewIdentity(this.identity, this.state);
      this.identity = next;
      this.log('info', `renewed this agent's identity certificate; valid until ${certificateExpiry(next.certificatePem).toISOString()}`);
      const old = this.session;
      this.session = this.newSession(next);
      old.stop();
      if (!this.stopped) this.session.start();
      return true;
    } catch (err) {
      this.log('warn', `identity renewal failed, will retry: ${(err as Error).message}`);
      return false;
    } finally {
      this.renewing = false;
    }
  }

  /** mTLS refuses an identity that expired while offline: recover it first (retrying until it works). */
  private async startSession(): Promise<void> {
    if (identityExpired(this.identity)) {
      this.renewing = true; // no RenewIdentity attempts with the expired certificate meanwhile
      const recovered = await recoverIdentityWithRetry(this.identity, this.state, this.log, { signal: this.lifetime.signal });
      this.renewing = false;
      if (!recovered) return;
      this.identity = recovered;
      this.session.stop();
      this.session = this.newSession(recovered);
    }
    if (!this.stopped) this.session.start();
  }

  private newSession(identity: AgentIdentity): AgentSession {
    return new AgentSession(identity, this.outbox, this.tracker, this.log, {
      onScanRequested: () => void this.scanNow(),
      onEndpointProbe: (request) => void this.probeTargets(request),
      jobs: this.jobs,
    });
  }

  /** Runs a scan now; a request during a scan runs one more right after it. */
  scanNow(): Promise<void> {
    if (this.scanning) {
      this.rescan = true;
      return this.scanning;
    }
    clearTimeout(this.timer);
    this.scanning = this.scanOnce()
      .catch((err) => this.log('error', `scan failed: ${(err as Error).message}`))
      .finally(() => {
        this.scanning = null;
        if (this.stopped) return;
        if (this.rescan) {
          this.rescan = false;
          void this.scanNow();
        } else {
          this.timer = setTimeout(() => void this.scanNow(), this.config.scanIntervalSeconds * 1000);
        }
      });
    return this.scanning;
  }

  stop(): void {
    this.stopped = true;
    this.lifetime.abort();
    clearTimeout(this.timer);
    clearInterval(this.identityTimer);
    this.session.stop();
    void this.jobs.closeChallenges();
  }

  private async scanOnce(): Promise<void> {
    const scannedAt = new Date();
    const result = await scanPaths(this.config.scanRoots, {
      passwords: this.config.passwords,
      maxFileSize: this.config.maxFileSize,
      exclude: this.config.exclude,
    });
    const { stats } = result;
    const drafts = this.tracker.recordScan(toInventoryItems(result), scannedAt, {
      filesSeen: stats.filesSeen,
      certificates: stats.certificates,
      privateKeys: stats.privateKeys,
      problems: stats.problems,
      durationMs: Math.round(stats.durationMs),
    });
    this.log(
      'info',
      `scan: ${stats.filesSeen} files, ${stats.certificates} certificates, ${stats.privateKeys} keys, ${stats.problems} problems in ${Math.round(stats.durationMs)} ms; ${drafts.length} report(s) to send`,
    );
    this.session.publish(drafts, scannedAt);
    // In the background: a scan's report does not wait for handshakes; one probe round at a time.
    const interval = (this.config.endpointProbeIntervalSeconds ?? 0) * 1000;
    if (interval > 0 && !this.probing && Date.now() - this.lastProbeAt >= interval) {
      this.probing = true;
      this.lastProbeAt = Date.now();
      void this.probeEndpoints().finally(() => (this.probing = false));
    }
  }

  /** Targets the server assigned to this agent, probed from here and answered on the stream. */
  private async probeTargets(request: EndpointProbeRequest): Promise<void> {
    try {
      const answer = await probeTargets(request);
      this.log('info', `endpoints: probed ${answer.results.length} target(s) for the server, ${answer.results.filter((r) => r.probe.tls).length} with a TLS handshake`);
      this.session.sendEndpointProbeResults(answer);
    } catch (err) {
      this.log('warn', `endpoint target probe failed: ${(err as Error).message}`);
    }
  }

  /** TLS listeners on this host, probed on loopback and reported; a failure here never fails the scan. */
  private async probeEndpoints(): Promise<void> {
    try {
      const report = await scanEndpoints();
      this.log('info', `endpoints: ${report.listeners.filter((l) => l.tls).length} TLS listener(s) of ${report.listeners.length}`);
      this.session.sendEndpointReport(report);
    } catch (err) {
      this.log('warn', `endpoint probe failed: ${(err as Error).message}`);
    }
  }
}
