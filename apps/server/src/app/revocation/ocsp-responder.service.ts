import { Inject, Injectable, Logger } from '@nestjs/common';
import { generateKeyPairSync } from 'node:crypto';
import { DataSource } from 'typeorm';
import {
  buildOcspResponse,
  isRevocationReason,
  issueOcspResponderCertificate,
  ocspCertIdMatcher,
  ocspErrorResponse,
  OcspRequestError,
  ocspSignerForCa,
  ocspSignerForDelegate,
  parseOcspRequest,
  type IssuingCa as LoadedIssuingCa,
  type OcspCertId,
  type OcspCertStatus,
  type OcspHash,
  type OcspSigner,
  type OcspSingleAnswer,
} from '@certfleet/pki';
import { SERVER_CONFIG, ServerConfig } from '../../config/server-config';
import { queryRows } from '../../database/query-rows';
import { IssuerUnavailableError, IssuingCasService } from '../issuing-cas/issuing-cas.service';
import { IssuingCa } from '../issuing-cas/issuing-ca.entity';

interface ResponderCa {
  id: string;
  matches: (certId: OcspCertId) => boolean;
  signer: OcspSigner;
  loaded: LoadedIssuingCa;
  /** A delegated responder certificate is replaced after this time (half its validity). */
  renewAt: number;
}

interface CachedResponse {
  der: Buffer;
  /** Reused until then (half the response's validity), so a client always gets at least the other half. */
  freshUntil: number;
}

const CA_LIST_TTL_MS = 10_000;
const RESPONDER_VALIDITY_DAYS = 7;
const OCSP_HASHES: readonly OcspHash[] = ['sha1', 'sha256', 'sha384', 'sha512'];
const MAX_CACHED_RESPONSES = 250_000;

/**
 * RFC 6960 responder for every internal issuing CA. Status comes from `issued_certificates` (so a
 * revocation is answered at once); signed answers to requests without a nonce are cached per
 * certificate until half their validity and dropped when that certificate is revoked. Any request
 * that cannot be read gets malformedRequest, never an exception.
 */
@Injectable()
export class OcspResponder {
  private readonly logger = new Logger('OCSP');
  private cas: { loadedAt: number; list: ResponderCa[] } = { loadedAt: 0, list: [] };
  private readonly cache = new Map<string, CachedResponse>();
  private cacheEnabled = true;
  /** Bumped by every forget: an answer read while a revocation landed is not cached (it may be stale). */
  private epoch = 0;

  constructor(
    @Inject(SERVER_CONFIG) private readonly config: ServerConfig,
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(IssuingCasService) private readonly issuingCas: IssuingCasService,
  ) {}

  /** The DER OCSPResponse for a DER OCSPRequest (the CA is found from the request's CertID). */
  async respond(requestDer: Buffer): Promise<Buffer> {
    let request;
    try {
      request = parseOcspRequest(requestDer);
    } catch (err) {
      if (err instanceof OcspRequestError) return ocspErrorResponse(err.status);
      throw err;
    }
    try {
      const ca = await this.caFor(request.certIds[0]);
      // RFC 6960 2.3: a responder answers only for CAs it serves; one signer per response.
      if (!ca || !request.certIds.every((id) => ca.matches(id))) return ocspErrorResponse('unauthorized');
      const single = request.certIds.length === 1 && !request.nonce ? request.certIds[0] : undefined;
      if (single && this.cacheEnabled) {
        const cached = this.cache.get(this.key(ca.id, single.serialHex, single.hash));
        if (cached && cached.freshUntil > Date.now()) return cached.der;
      }
      const epoch = this.epoch;
      const statuses = await this.statuses(ca.id, request.certIds.map((id) => id.serialHex));
      const now = new Date();
      const validityMs = this.config.revocation.ocspValidityMinutes * 60_000;
      const nextUpdate = new Date(now.getTime() + validityMs);
      const responses: OcspSingleAnswer[] = request.certIds.map((certId) => ({ certId, status: statuses.get(certId.serialHex) ?? { kind: 'unknown' }, thisUpdate: now, nextUpdate }));
      const der = buildOcspResponse(ca.signer, { producedAt: now, responses, nonce: request.nonce });
      // Unknown serials are not cached: they cost a lookup, not memory an attacker could fill.
      if (single && this.cacheEnabled && epoch === this.epoch && responses[0].status.kind !== 'unknown') this.remember(this.key(ca.id, single.serialHex, single.hash), { der, freshUntil: now.getTime() + validityMs / 2 });
      return der;
    } catch (err) {
      this.logger.error(`OCSP request failed: ${(err as Error).message}`);
      return ocspErrorResponse('internalError');
    }
  }

  /** Drops cached answers for a certificate whose status changed (a revocation here or on another replica). */
  forget(caId: string, serialHex: string): void {
    this.epoch++;
    for (const hash of OCSP_HASHES) this.cache.delete(this.key(caId, serialHex, hash));
  }

  forgetAll(): void {
    this.epoch++;
    this.cache.clear();
  }

  /** Off while revocations on other replicas might go unnoticed (see RevocationEvents). */
  setCacheEnabled(enabled: boolean): void {
    this.cacheEnabled = enabled;
    if (!enabled) this.cache.clear();
  }

  /** Drops the CA list so a new or changed CA is seen at the next request. */
  reloadCas(): void {
    this.cas = { loadedAt: 0, list: [] };
  }

  // The answer echoes the client's CertID, whose hashes depend on the algorithm the client chose.
  private key(caId: string, serialHex: string, hash: OcspHash): string {
    return `${caId}:${serialHex}:${hash}`;
  }

  private remember(key: string, entry: CachedResponse): void {
    if (this.cache.size >= MAX_CACHED_RESPONSES) {
      // Map iteration is insertion order: drop the oldest tenth.
      let drop = MAX_CACHED_RESPONSES / 10;
      for (const k of this.cache.keys()) {
        this.cache.delete(k);
        if (--drop <= 0) break;
      }
    }
    // A copy: `der` may be a slice of a shared pool chunk that would stay alive with it.
    this.cache.set(key, { der: Buffer.from(entry.der), freshUntil: entry.freshUntil });
  }

  private async caFor(certId: OcspCertId): Promise<ResponderCa | undefined> {
    let found = (await this.responderCas(false)).find((ca) => ca.matches(certId));
    // A CA made since the list was loaded: look once more with a fresh list.
    if (!found && Date.now() - this.cas.loadedAt > 1000) found = (await this.responderCas(true)).find((ca) => ca.matches(certId));
    return found;
  }

  private async responderCas(reload: boolean): Promise<ResponderCa[]> {
    if (!reload && Date.now() - this.cas.loadedAt < CA_LIST_TTL_MS) return this.cas.list;
    const rows = await this.ds.getRepository(IssuingCa).find();
    const list: ResponderCa[] = [];
    for (const row of rows) {
      if (!row.certificatePem) continue;
      const loaded = this.issuingCas.loadedCa(row);
      if (loaded instanceof IssuerUnavailableError) continue;
      const previous = this.cas.list.find((ca) => ca.id === row.id && ca.loaded === loaded && ca.renewAt > Date.now());
      list.push(previous ?? this.responderFor(row, loaded));
    }
    this.cas = { loadedAt: Date.now(), list };
    return list;
  }

  /**
   * A P-256 CA signs its own answers. A P-384 or RSA CA signs ~10x slower, so its answers are signed
   * by a delegated responder (RFC 6960 4.2.2.2: EKU OCSPSigning, ocsp-nocheck) with a P-256 key made
   * here and kept only in memory, renewed at half of its week.
   */
  private responderFor(row: IssuingCa, loaded: LoadedIssuingCa): ResponderCa {
    const base = { id: row.id, matches: ocspCertIdMatcher(loaded), loaded };
    if (loaded.keyType === 'EC P-256') return { ...base, signer: ocspSignerForCa(loaded), renewAt: Infinity };
    try {
      return this.delegatedResponder(row, loaded, base);
    } catch (err) {
      // E.g. an expired CA cannot certify a responder: it still answers, signing itself.
      this.logger.warn(`issuing CA "${row.name}" signs its own OCSP answers: no delegated responder (${(err as Error).message})`);
      return { ...base, signer: ocspSignerForCa(loaded), renewAt: Infinity };
    }
  }

  private delegatedResponder(row: IssuingCa, loaded: LoadedIssuingCa, base: Omit<ResponderCa, 'signer' | 'renewAt'>): ResponderCa {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const certificate = issueOcspResponderCertificate(loaded, { publicKeySpki: publicKey.export({ format: 'der', type: 'spki' }), commonName: `${row.name} OCSP responder`, validityDays: RESPONDER_VALIDITY_DAYS });
    const signer = ocspSignerForDelegate(loaded, { certificatePem: certificate.certificatePem, privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() });
    this.logger.log(`OCSP answers for issuing CA "${row.name}" (${loaded.keyType}) are signed by delegated responder certificate ${certificate.serialHex}, valid until ${certificate.notAfter.toISOString()}`);
    const halfLife = (certificate.notAfter.getTime() - Date.now()) / 2;
    return { ...base, signer, renewAt: Date.now() + halfLife };
  }

  private async statuses(caId: string, serials: string[]): Promise<Map<string, OcspCertStatus>> {
    const rows = queryRows<{ serial: string; issuing_ca_id: string; revoked_at: Date | null; revocation_reason: string | null }>(
      await this.ds.query(`SELECT "serial", "issuing_ca_id", "revoked_at", "revocation_reason" FROM "issued_certificates" WHERE "serial" = ANY($1::varchar[])`, [serials]),
    );
    const statuses = new Map<string, OcspCertStatus>();
    for (const row of rows) {
      if (row.issuing_ca_id !== caId) continue;
      if (!row.revoked_at) statuses.set(row.serial, { kind: 'good' });
      else statuses.set(row.serial, { kind: 'revoked', revokedAt: new Date(row.revoked_at), reason: isRevocationReason(row.revocation_reason) ? row.revocation_reason : undefined });
    }
    return statuses;
  }
}
