import { BadRequestException, BeforeApplicationShutdown, ConflictException, Inject, Injectable, Logger, NotFoundException, OnApplicationBootstrap } from '@nestjs/common';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ctLogId, LoggedCertificate, parseLogEntry, readSignedTreeHead, SctStatus, VerifiedSct, verifyEmbeddedScts, verifySignedTreeHead } from '@certfleet/pki';
import { SERVER_CONFIG, ServerConfig } from '../../config/server-config';
import { queryRows } from '../../database/query-rows';
import { CtFinding } from './ct-finding.entity';
import { CtLogClient } from './ct-log-client';
import { CtLog } from './ct-log.entity';
import { CtWatchedDomain } from './ct-watched-domain.entity';
import { matchWatched, normaliseDomain } from './domain-match';
import { inventoryIssuerKey } from './inventory-issuer';
import { checkExtends } from './tree-head-check';

const MINUTE = 60_000;
/** get-entries requests per log per poll: a poll stays short, a backlog drains over several. */
const BATCHES_PER_POLL = 50;

export interface LogInput {
  name: string;
  url: string;
  /** Base64 DER SubjectPublicKeyInfo (or PEM). */
  publicKey: string;
}

export interface SctView {
  logId: string;
  /** null: a log neither built in nor configured. */
  logName: string | null;
  logOperator: string | null;
  timestamp: Date;
  signatureAlgorithm: string;
  /** The signature checked with the log's key and the issuer's key from the inventory. */
  status: SctStatus;
  /** Why it is not valid; absent when valid. */
  reason?: string;
}

export interface PollResult {
  log: string;
  treeSize: number;
  read: number;
  findings: number;
  nextIndex: number;
  error?: string;
}

/**
 * Certificate Transparency monitor: polls RFC 6962 logs (tree head verified by its signature and as
 * an extension of the last one, then get-entries from the stored position in batches), and records
 * certificates for watched domains that certfleet does not know (not issued by its CAs, not in any
 * inventory, not managed).
 */
@Injectable()
export class CtMonitorService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('CtMonitor');
  private timer?: NodeJS.Timeout;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(SERVER_CONFIG) private readonly config: ServerConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.ctMonitor.pollMinutes > 0) this.schedule(30_000);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  async addLog(input: LogInput, now = new Date()): Promise<CtLog> {
    const name = typeof input?.name === 'string' ? input.name.trim() : '';
    if (!name || name.length > 200) throw new BadRequestException('name is required (at most 200 characters)');
    let url: URL;
    try {
      url = new URL(input.url);
    } catch {
      throw new BadRequestException(`url must be an http(s) URL, got ${JSON.stringify(input?.url)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new BadRequestException('url must be http:// or https://');
    let key: Buffer;
    try {
      const text = String(input.publicKey ?? '');
      key = createPublicKey(text.includes('-----BEGIN') ? text : { key: Buffer.from(text, 'base64'), format: 'der', type: 'spki' }).export({ type: 'spki', format: 'der' });
    } catch {
      throw new BadRequestException('publicKey must be the log key as base64 DER SubjectPublicKeyInfo or PEM');
    }
    const repository = this.ds.getRepository(CtLog);
    const href = url.href.replace(/\/+$/, '');
    if (await repository.existsBy({ url: href })) throw new ConflictException(`log ${href} is already configured`);
    return repository.save(repository.create({ name, url: href, publicKey: key.toString('base64'), logId: ctLogId(key), nextIndex: '0', treeSize: '0', createdAt: now }));
  }

  listLogs(): Promise<CtLog[]> {
    return this.ds.getRepository(CtLog).find({ order: { name: 'ASC' } });
  }

  async watch(domain: string, now = new Date()): Promise<CtWatchedDomain> {
    let normalised: string;
    try {
      normalised = normaliseDomain(String(domain ?? ''));
    } catch (error) {
      throw new BadRequestException((error as Error).message);
    }
    const repository = this.ds.getRepository(CtWatchedDomain);
    const existing = await repository.findOneBy({ domain: normalised });
    return existing ?? repository.save(repository.create({ domain: normalised, createdAt: now }));
  }

  async unwatch(domain: string): Promise<void> {
    const result = await this.ds.getRepository(CtWatchedDomain).delete({ domain: String(domain).toLowerCase().replace(/\.$/, '') });
    if (!result.affected) throw new NotFoundException(`${domain} is not watched`);
  }

  watched(): Promise<CtWatchedDomain[]> {
    return this.ds.getRepository(CtWatchedDomain).find({ order: { domain: 'ASC' } });
  }

  findings(): Promise<CtFinding[]> {
    return this.ds.getRepository(CtFinding).find({ order: { foundAt: 'DESC', entryIndex: 'ASC' } });
  }

  /**
   * The SCTs embedded in a certificate of the inventory (by SHA-256 fingerprint), each with the log
   * it names (the built-in list of public logs and the logs configured here) and its signature
   * verified, with the issuer's key when the issuer is in the inventory too.
   */
  async scts(fingerprint: string): Promise<SctView[]> {
    const hex = String(fingerprint ?? '').replace(/:/g, '').toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new BadRequestException('fingerprint must be a SHA-256 fingerprint (64 hex digits)');
    const [row] = queryRows<{ der: Uint8Array; issuer: string }>(await this.ds.query(`SELECT der, issuer FROM inventory_items WHERE fingerprint_sha256 = $1 AND der IS NOT NULL LIMIT 1`, [hex]));
    if (!row) throw new NotFoundException(`no certificate ${hex} in the inventory`);
    const der = Buffer.from(row.der);
    const configured = (await this.listLogs()).map((log) => ({ name: log.name, operator: 'configured', url: log.url, key: log.publicKey }));
    const issuerKey = await inventoryIssuerKey(this.ds, new X509Certificate(der), row.issuer);
    let verified: VerifiedSct[];
    try {
      verified = verifyEmbeddedScts(der, issuerKey, configured);
    } catch (error) {
      throw new BadRequestException(`the certificate's SCTs cannot be read: ${(error as Error).message}`);
    }
    return verified.map((sct) => ({
      logId: sct.logId, logName: sct.logName, logOperator: sct.logOperator, timestamp: sct.timestamp, signatureAlgorithm: sct.signatureAlgorithm, status: sct.status,
      ...(sct.reason ? { reason: sct.reason } : {}),
    }));
  }

  /** Polls every log now (or one, by id). */
  async pollNow(logId?: string): Promise<PollResult[]> {
    const logs = logId ? await this.ds.getRepository(CtLog).findBy({ id: logId }) : await this.listLogs();
    if (logId && !logs.length) throw new NotFoundException(`no CT log ${logId}`);
    const results: PollResult[] = [];
    for (const log of logs) results.push(await this.pollLog(log));
    return results;
  }

  /** One background pass: logs not polled by any replica within the interval (claimed by a lease on polled_at). */
  async runPass(now = new Date()): Promise<PollResult[]> {
    const claimed = queryRows<{ id: string }>(
      await this.ds.query(
        `UPDATE ct_logs SET polled_at = $1 WHERE polled_at IS NULL OR polled_at <= $2 RETURNING id`,
        [now, new Date(now.getTime() - (this.config.ctMonitor.pollMinutes || 60) * MINUTE + 5000)],
      ),
    );
    const results: PollResult[] = [];
    for (const { id } of claimed) {
      const log = await this.ds.getRepository(CtLog).findOneBy({ id });
      if (log && !this.stopped) results.push(await this.pollLog(log));
    }
    return results;
  }

  private async pollLog(log: CtLog): Promise<PollResult> {
    const client = new CtLogClient(log.url);
    let nextIndex = Number(log.nextIndex);
    let read = 0;
    let found = 0;
    let treeSize = Number(log.treeSize);
    try {
      const sth = readSignedTreeHead(await client.getSth());
      verifySignedTreeHead(sth, log.publicKey);
      await checkExtends(client, { treeSize, rootHash: log.rootHash }, sth);
      // Verified: later tree heads must extend this one, whatever happens to the entries below. Never
      // replaced by a smaller one (a concurrent poll may have stored a newer head meanwhile).
      await this.ds.createQueryBuilder().update(CtLog).set({ treeSize: String(sth.tree_size), rootHash: sth.sha256_root_hash })
        .where('id = :id AND tree_size <= :size', { id: log.id, size: sth.tree_size }).execute();
      treeSize = sth.tree_size;
      const watched = (await this.watched()).map((w) => w.domain);
      for (let batch = 0; batch < BATCHES_PER_POLL && nextIndex < treeSize && !this.stopped; batch++) {
        const end = Math.min(nextIndex + this.config.ctMonitor.batchSize, treeSize) - 1;
        const items = await client.getEntries(nextIndex, end);
        if (!items.length) throw new Error(`get-entries ${nextIndex}-${end} returned nothing`);
        const entries = items.slice(0, end - nextIndex + 1).map((item, i) => parseLogEntry(item, nextIndex + i));
        found += await this.record(log, entries, watched, nextIndex + entries.length);
        nextIndex += entries.length;
        read += entries.length;
      }
      await this.ds.getRepository(CtLog).update(log.id, { polledAt: new Date(), lastError: null });
      return { log: log.name, treeSize, read, findings: found, nextIndex };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await this.ds.getRepository(CtLog).update(log.id, { polledAt: new Date(), lastError: message });
      this.logger.warn(`CT log ${log.name}: ${message}`);
      return { log: log.name, treeSize, read, findings: found, nextIndex, error: message };
    }
  }

  /** Findings of one batch and the new read position, in one transaction (a restart neither skips nor repeats). */
  private async record(log: CtLog, entries: LoggedCertificate[], watched: string[], nextIndex: number): Promise<number> {
    const candidates = entries.flatMap((entry) => {
      const domain = entry.dnsNames.map((name) => matchWatched(name, watched)).find(Boolean);
      return domain ? [{ entry, domain }] : [];
    });
    const unknown = await this.unknownTo(candidates.map((c) => c.entry));
    const now = new Date();
    const rows = candidates
      .filter((c) => unknown.has(c.entry.index))
      .map(({ entry, domain }) => ({
        ctLogId: log.id, entryIndex: String(entry.index), kind: entry.kind, domain, dnsNames: entry.dnsNames, fingerprintSha256: entry.fingerprintSha256,
        serial: entry.serial, issuer: entry.issuer, subject: entry.subject, notAfter: entry.notAfter, loggedAt: entry.timestamp, foundAt: now,
      }));
    await this.ds.transaction(async (manager) => {
      if (rows.length) await manager.createQueryBuilder().insert().into(CtFinding).values(rows).orIgnore().execute();
      await manager.update(CtLog, log.id, { nextIndex: String(nextIndex) });
    });
    return rows.length;
  }

  /**
   * Indexes of the entries certfleet does not know: by fingerprint (issued, inventory, managed);
   * precerts, whose final certificate differs, by serial and issuer.
   */
  private async unknownTo(entries: LoggedCertificate[]): Promise<Set<number>> {
    if (!entries.length) return new Set();
    const fingerprints = entries.flatMap((e) => (e.fingerprintSha256 ? [e.fingerprintSha256] : []));
    const serials = entries.map((e) => e.serial);
    const knownFingerprints = new Set(
      queryRows<{ f: string }>(
        await this.ds.query(
          `SELECT fingerprint_sha256 AS f FROM issued_certificates WHERE fingerprint_sha256 = ANY($1)
           UNION SELECT fingerprint_sha256 FROM inventory_items WHERE fingerprint_sha256 = ANY($1)
           UNION SELECT current_fingerprint FROM managed_certificates WHERE current_fingerprint = ANY($1)`,
          [fingerprints],
        ),
      ).map((row) => row.f),
    );
    // Issuer names are compared as sets of RDNs: discovery and Node print them in opposite orders.
    const bySerial = queryRows<{ serial: string; issuer: string }>(
      await this.ds.query(
        `SELECT i.serial, c.certificate_pem AS issuer FROM issued_certificates i JOIN issuing_cas c ON c.id = i.issuing_ca_id WHERE i.serial = ANY($1)
         UNION SELECT serial, issuer FROM inventory_items WHERE kind = 'certificate' AND serial = ANY($1)`,
        [serials],
      ),
    ).map((row) => ({ serial: row.serial, issuer: row.issuer.includes('-----BEGIN') ? subjectOf(row.issuer) : rdnKey(row.issuer) }));
    const unknown = new Set<number>();
    for (const entry of entries) {
      if (entry.fingerprintSha256 && knownFingerprints.has(entry.fingerprintSha256)) continue;
      if (entry.kind === 'precert' && bySerial.some((known) => known.serial === entry.serial && known.issuer === rdnKey(entry.issuer))) continue;
      unknown.add(entry.index);
    }
    return unknown;
  }

  private schedule(waitMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.runPass()
        .then((results) => {
          const found = results.reduce((n, r) => n + r.findings, 0);
          if (found) this.logger.log(`${found} certificate(s) for watched domains that certfleet does not know`);
        })
        .catch((error: Error) => this.logger.error(`CT poll failed: ${error.message}`))
        .finally(() => this.schedule(MINUTE));
    }, waitMs);
    this.timer.unref();
  }
}

function rdnKey(name: string): string {
  return name.split(/,\s*|\n/).map((part) => part.trim()).filter(Boolean).sort().join(',');
}

function subjectOf(pem: string): string {
  return rdnKey(new X509Certificate(pem).subject);
}
