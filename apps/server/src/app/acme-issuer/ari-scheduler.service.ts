import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AcmeIssuer } from './acme-issuer.entity';
import { withAcmeScope } from './acme-http';
import { AcmeIssuersService } from './acme-issuers.service';
import { ariCertId, fetchAriWindow, renewalInfoUrl, renewalTimeInWindow } from './ari';

/** How often due ARI checks are looked for; a new certificate is checked at the next tick. */
export const ARI_TICK_MS = 60_000;

interface Checked {
  serial: string;
  window: string;
  recheckAt: number;
}

interface Candidate {
  id: string;
  serial: string;
  certificate_pem: string;
  acme_issuer_id: string;
}

/**
 * ACME Renewal Information (RFC 9773) for managed certificates of ACME issuers with ariEnabled whose
 * directory offers renewalInfo: after each issuance (a new current serial) and again at the CA's
 * Retry-After, the certificate's window is fetched and nextRenewalAt moved to a random time in it.
 * It only ever moves earlier than the ordinary schedule, and the order still passes the reissue guard.
 */
@Injectable()
export class AriScheduler implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('AcmeAri');
  private readonly checked = new Map<string, Checked>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(AcmeIssuersService) private readonly issuers: AcmeIssuersService,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.checkDue().catch((err: Error) => this.logger.warn(`ARI check: ${err.message}`)), ARI_TICK_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** Checks every certificate whose ARI check is due; returns how many nextRenewalAt were moved. */
  checkDue(now = new Date()): Promise<number> {
    this.running ??= this.run(now).finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(now: Date): Promise<number> {
    const rows: Candidate[] = await this.ds.query(
      `SELECT m."id", m."current_serial" AS "serial", c."certificate_pem", m."acme_issuer_id"
         FROM "managed_certificates" m
         JOIN "acme_issuers" i ON i."id" = m."acme_issuer_id" AND i."ari_enabled" AND i."removed_at" IS NULL
         JOIN "acme_certificates" c ON c."serial" = m."current_serial" AND c."acme_issuer_id" = m."acme_issuer_id"
        WHERE m."issuer_kind" = 'acme' AND m."status" IN ('active', 'failing') AND m."next_renewal_at" IS NOT NULL`,
    );
    const due = rows.filter((r) => {
      const seen = this.checked.get(r.id);
      return !seen || seen.serial !== r.serial || seen.recheckAt <= now.getTime();
    });
    let moved = 0;
    const byIssuer = new Map<string, Candidate[]>();
    for (const r of due) byIssuer.set(r.acme_issuer_id, [...(byIssuer.get(r.acme_issuer_id) ?? []), r]);
    for (const [issuerId, list] of byIssuer) {
      const issuer = await this.ds.getRepository(AcmeIssuer).findOneByOrFail({ id: issuerId });
      await withAcmeScope(issuer.directoryTrustPem, async () => {
        const base = await renewalInfoUrl(await this.issuers.client(issuer));
        for (const r of list) {
          if (!base) {
            this.checked.set(r.id, { serial: r.serial, window: '', recheckAt: now.getTime() + 24 * 3600_000 });
            continue;
          }
          if (await this.checkOne(base, r, now).catch((err: Error) => this.logger.warn(`ARI for "${r.id}": ${err.message}`))) moved++;
        }
      }).catch((err: Error) => this.logger.warn(`ARI for ACME issuer "${issuer.name}": ${err.message}`));
    }
    return moved;
  }

  private async checkOne(base: string, r: Candidate, now: Date): Promise<boolean> {
    const certId = ariCertId(r.certificate_pem);
    const window = certId ? await fetchAriWindow(base, certId, now) : null;
    const previous = this.checked.get(r.id);
    const key = window ? `${window.start.toISOString()}/${window.end.toISOString()}` : '';
    this.checked.set(r.id, { serial: r.serial, window: key, recheckAt: window ? window.recheckAt.getTime() : now.getTime() + 6 * 3600_000 });
    // The same window as last time for the same certificate: the time picked then stands.
    if (!window || (previous?.serial === r.serial && previous.window === key)) return false;
    const [{ next_renewal_at: ordinary }] = (await this.ds.query(`SELECT "next_renewal_at" FROM "managed_certificates" WHERE "id" = $1`, [r.id])) as Array<{ next_renewal_at: Date | string }>;
    const at = renewalTimeInWindow(window, new Date(ordinary), now);
    const result = (await this.ds.query(`UPDATE "managed_certificates" SET "next_renewal_at" = $1 WHERE "id" = $2 AND "current_serial" = $3 AND "next_renewal_at" > $1 RETURNING "id"`, [at, r.id, r.serial])) as unknown;
    const changed = Array.isArray(result) && (Array.isArray(result[0]) ? result[0].length > 0 : result.length > 0);
    if (changed) this.logger.log(`managed certificate ${r.id}: ARI window ${key}, next renewal ${at.toISOString()}`);
    return changed;
  }
}
