import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash, X509Certificate } from 'node:crypto';
import { DataSource, MoreThan } from 'typeorm';
import type { ManagedCertificate } from '../managed/managed-certificate.entity';
import { AcmeCertificate } from './acme-certificate.entity';
import { assertHookAllowed, type AcmeChallengeSpec } from './acme-challenge-spec';
import { AcmeOrderError, withAcmeScope, type AcmeProblem } from './acme-http';
import { AcmeIssuer } from './acme-issuer.entity';
import { AcmeIssuersService } from './acme-issuers.service';
import { runAcmeOrder, type ChallengeAnswerer } from './acme-order';
import { AgentChallenges, type SendToAgent } from './agent-challenges';
import { ariCertId, renewalInfoUrl } from './ari';
import { dnsAnswerer } from './dns/dns-answerer';
import { SERVER_CONFIG, ServerConfig } from '../../config/server-config';

const DAY_MS = 86_400_000;
/** Orders running at once on this replica; more wait their turn (CAs rate-limit per account anyway). */
export const ACME_ORDER_CONCURRENCY = 4;

export interface AcmeOrderInput {
  jobId: string;
  agentId: string;
  managed: ManagedCertificate;
  csrPem: string;
}

export interface AcmeIssuedCertificate {
  acmeIssuerId: string;
  certificatePem: string;
  chainPem: string;
  rootPem: string;
  orderUrl: string;
  serialHex: string;
  fingerprintSha256: string;
  notBefore: Date;
  notAfter: Date;
}

/** Why an order failed, and when to try again if the CA (Retry-After) or the reissue guard says so. */
export interface AcmeOrderFailure {
  error: string;
  problem?: AcmeProblem;
  retryAt?: Date;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Leaf, intermediates and root from what the CA sent and the issuer's configured root. */
export function splitChain(fullchainPem: string, configuredRootPem: string | null): { certificatePem: string; chainPem: string; rootPem: string } {
  const blocks = fullchainPem.match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw new Error('the CA sent no certificate');
  const [leaf, ...rest] = blocks;
  let rootPem = configuredRootPem;
  const last = rest.length ? new X509Certificate(rest[rest.length - 1]) : null;
  if (last && last.subject === last.issuer && last.verify(last.publicKey)) {
    rootPem ??= rest.pop()!;
  }
  if (!rootPem) throw new Error('the CA\'s chain does not include its root: set the ACME issuer\'s rootPem so agents can validate the chain');
  return { certificatePem: `${leaf}\n`, chainPem: rest.length ? `${rest.join('\n')}\n` : '', rootPem };
}

/**
 * Runs ACME orders for managed certificates, off the jobs service's signing path: at most
 * ACME_ORDER_CONCURRENCY at once, one per job (a CSR resent while its order runs joins it), each
 * after the reissue guard (at most maxIssuancesPerDay certificates per managed certificate per 24 h).
 */
@Injectable()
export class AcmeOrdersService {
  private readonly logger = new Logger('AcmeOrders');
  private readonly running = new Map<string, Promise<AcmeIssuedCertificate | AcmeOrderFailure>>();
  private active = 0;
  private readonly queue: Array<() => void> = [];
  private send: SendToAgent = () => false;
  readonly challenges = new AgentChallenges((agentId, msg) => this.send(agentId, msg));

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(AcmeIssuersService) private readonly issuers: AcmeIssuersService,
    @Inject(SERVER_CONFIG) private readonly config: ServerConfig,
  ) {}

  attachDelivery(send: SendToAgent): void {
    this.send = send;
  }

  isRunning(jobId: string): boolean {
    return this.running.has(jobId);
  }

  order(input: AcmeOrderInput): Promise<AcmeIssuedCertificate | AcmeOrderFailure> {
    let run = this.running.get(input.jobId);
    if (!run) {
      run = this.bounded(() => this.execute(input)).finally(() => this.running.delete(input.jobId));
      this.running.set(input.jobId, run);
    }
    return run;
  }

  private async bounded<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= ACME_ORDER_CONCURRENCY) await new Promise<void>((resolve) => this.queue.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.queue.shift()?.();
    }
  }

  private async execute({ jobId, agentId, managed, csrPem }: AcmeOrderInput): Promise<AcmeIssuedCertificate | AcmeOrderFailure> {
    const issuer = managed.acmeIssuerId ? await this.ds.getRepository(AcmeIssuer).findOne({ where: { id: managed.acmeIssuerId } }) : null;
    if (!issuer || issuer.removedAt) return { error: 'the managed certificate\'s ACME issuer was removed' };
    if (!managed.acmeChallenge) return { error: 'the managed certificate has no ACME challenge settings' };
    const guard = await this.reissueGuard(managed.id, issuer.maxIssuancesPerDay);
    if (guard) return guard;
    const started = Date.now();
    return withAcmeScope(issuer.directoryTrustPem, async (scope) => {
      try {
        const client = await this.issuers.client(issuer);
        const replaces = await this.replaces(client, issuer, managed);
        const request = {
          csrPem,
          dnsNames: managed.profile.dnsNames,
          ipAddresses: managed.profile.ipAddresses,
          answerer: this.answerer(managed.acmeChallenge!, agentId, jobId),
          onCleanupError: (error: Error) => this.logger.warn(`job ${jobId}: cleaning up a challenge failed: ${error.message}`),
        };
        // RFC 9773 section 5: a certificate already replaced by another order is not named again.
        const result = await runAcmeOrder(client, { ...request, ...(replaces ? { replaces } : {}) }).catch((err: Error) => {
          if (!replaces || !scope.lastProblem()?.type.endsWith(':alreadyReplaced')) throw err;
          return runAcmeOrder(client, request);
        });
        const parts = splitChain(result.fullchainPem, issuer.rootPem);
        const leaf = new X509Certificate(parts.certificatePem);
        this.logger.log(`job ${jobId} ("${managed.name}"): ACME order ${result.orderUrl} issued serial ${leaf.serialNumber.toLowerCase()} in ${Date.now() - started} ms`);
        return {
          acmeIssuerId: issuer.id,
          ...parts,
          orderUrl: result.orderUrl,
          serialHex: leaf.serialNumber.toLowerCase(),
          fingerprintSha256: createHash('sha256').update(leaf.raw).digest('hex'),
          notBefore: new Date(leaf.validFrom),
          notAfter: new Date(leaf.validTo),
        };
      } catch (err) {
        const failure = new AcmeOrderError((err as Error).message, scope.lastProblem());
        this.logger.warn(`job ${jobId} ("${managed.name}"): ACME order failed: ${failure.message}`);
        return { error: `ACME issuer "${issuer.name}": ${failure.message}`, problem: failure.problem, ...(failure.problem?.retryAfter ? { retryAt: failure.problem.retryAfter } : {}) };
      }
    });
  }

  /** RFC 9773 section 5: the CertID of the certificate this order replaces, when the CA offers ARI. */
  private async replaces(client: Awaited<ReturnType<AcmeIssuersService['client']>>, issuer: AcmeIssuer, managed: ManagedCertificate): Promise<string | null> {
    if (!issuer.ariEnabled || !managed.currentSerial) return null;
    const current = await this.ds.getRepository(AcmeCertificate).findOne({ where: { serial: managed.currentSerial, acmeIssuerId: issuer.id } });
    if (!current || !(await renewalInfoUrl(client))) return null;
    return ariCertId(current.certificatePem);
  }

  /** Refuses a new order when the last 24 h already hold `max` issuances for this managed certificate. */
  private async reissueGuard(managedId: string, max: number): Promise<AcmeOrderFailure | null> {
    const since = new Date(Date.now() - DAY_MS);
    const recent = await this.ds.getRepository(AcmeCertificate).find({ where: { managedCertificateId: managedId, issuedAt: MoreThan(since) }, order: { issuedAt: 'ASC' }, select: { serial: true, issuedAt: true } });
    if (recent.length < max) return null;
    const retryAt = new Date(recent[recent.length - max].issuedAt.getTime() + DAY_MS);
    return { error: `reissue guard: ${recent.length} certificate(s) were issued for this managed certificate in the last 24 h (at most ${max}); next order after ${retryAt.toISOString()}`, retryAt };
  }

  private answerer(spec: AcmeChallengeSpec, agentId: string, jobId: string): ChallengeAnswerer {
    if (spec.type === 'http-01') {
      return {
        type: 'http-01',
        present: (_identifier, token, keyAuthorization) => this.challenges.present(agentId, jobId, spec, token, keyAuthorization),
        cleanup: async (_identifier, token) => this.challenges.cleanup(agentId, jobId, token),
      };
    }
    // Checked again here: the allow-list may have shrunk since the certificate was configured.
    if (spec.provider === 'hook') assertHookAllowed(spec.command, this.config.serverCommands);
    return dnsAnswerer(spec, (sealed) => this.issuers.open(sealed));
  }
}
