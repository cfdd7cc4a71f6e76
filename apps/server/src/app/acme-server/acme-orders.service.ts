import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy, Optional } from '@nestjs/common';
import { createPublicKey, randomBytes, X509Certificate, type JsonWebKey } from 'node:crypto';
import { DataSource, EntityManager, In } from 'typeorm';
import { CsrRejectedError, verifyCsrFast, type FastVerifiedCsr } from '@certfleet/pki';
import { canonicalDnsName, canonicalIpAddress, checkCsrAgainstProfile, checkProfile, isValidDnsName, verifiedCsrMeetsProfile, type CertificateProfile, type ProfileKeyType } from '@certfleet/policy';
import { isUuid } from '../../common/ids';
import { SERVER_CONFIG, ServerConfig } from '../../config/server-config';
import { AuditService } from '../audit/audit.service';
import { IssuedCertificate } from '../issuing-cas/issued-certificate.entity';
import { IssuerUnavailableError, IssuingCasService } from '../issuing-cas/issuing-cas.service';
import { ManagedCertificatesService } from '../managed/managed-certificates.service';
import type { AcmeAnswer } from './acme-accounts.service';
import { AcmeAuthorization, type AcmeChallenge, type AcmeChallengeType } from './acme-authorization.entity';
import { AcmeOrder, type AcmeIdentifier } from './acme-order.entity';
import { AcmeOrderCertificate } from './acme-order-certificate.entity';
import { AcmeProblem, problemOf } from './acme-problem';
import type { AcmeDirectory, AuthenticatedRequest } from './acme-request';
import { ChallengeValidators } from './challenge-validators';
import { authorizationStatusAt, canStartChallenge, orderStatusAt } from './order-state';
import { recordMissingOrderCertificates, recordOrderCertificate } from './order-certificates';
import { AcmeRenewalInfoService } from './renewal-info.service';

const MAX_IDENTIFIERS = 100;
/** A pending order and its authorizations must be completed within this time. */
export const ORDER_LIFETIME_MS = 24 * 60 * 60 * 1000;

const KEY_TYPE_OF: Record<string, ProfileKeyType> = { 'EC/P-256': 'ec-p256', 'EC/P-384': 'ec-p384', 'RSA/2048': 'rsa-2048', 'RSA/3072': 'rsa-3072', 'RSA/4096': 'rsa-4096' };

/** Orders, authorizations, challenges, finalization and certificate download (RFC 8555 7.4-7.5). */
@Injectable()
export class AcmeOrdersService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('AcmeOrders');
  private readonly validators: ChallengeValidators;
  private readonly running = new Set<Promise<void>>();

  constructor(
    @Inject(SERVER_CONFIG) private readonly config: ServerConfig,
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(IssuingCasService) private readonly cas: IssuingCasService,
    @Inject(ManagedCertificatesService) private readonly managed: ManagedCertificatesService,
    @Inject(AuditService) private readonly audit: AuditService,
    @Optional() @Inject(AcmeRenewalInfoService) private readonly renewalInfo: AcmeRenewalInfoService = new AcmeRenewalInfoService(ds),
  ) {
    this.validators = new ChallengeValidators(config.acme);
  }

  /** Orders finalized before certificates were recorded for the inventory get theirs, in the background. */
  onApplicationBootstrap(): void {
    const recording = recordMissingOrderCertificates(this.ds, (orderId, err) => this.logger.error(`ACME order ${orderId}: its certificate is not in the inventory: ${err.message}`))
      .then((n) => {
        if (n > 0) this.logger.log(`${n} certificates issued through ACME before this version added to the inventory`);
      })
      .catch((err) => this.logger.error(`recording ACME certificates in the inventory: ${(err as Error).message}`))
      .finally(() => this.running.delete(recording));
    this.running.add(recording);
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }

  async newOrder(dir: AcmeDirectory, req: AuthenticatedRequest): Promise<AcmeAnswer> {
    const payload = req.payload ?? {};
    if (payload.notBefore !== undefined || payload.notAfter !== undefined) throw new AcmeProblem('malformed', 'notBefore/notAfter are not supported: the validity comes from the CA\'s ACME profile');
    const identifiers = this.identifiers(payload.identifiers);
    // The same policy as managed certificates: refuse names it forbids now, not at finalize.
    const violations = checkProfile(this.profileFor(identifiers, 'ec-p256'), this.managed.policy);
    if (violations.length) throw new AcmeProblem('rejectedIdentifier', `the issuance policy refuses this order: ${violations.map((v) => v.message).join('; ')}`);
    // RFC 9773 section 5: a renewal names the certificate it replaces; kept to retire that one from the inventory.
    const replaces = await this.renewalInfo.checkReplaces(dir, req.account!.id, payload.replaces, identifiers);
    const expires = new Date(Date.now() + ORDER_LIFETIME_MS);
    const { order, authzs } = await this.ds.transaction(async (m) => {
      const order = await m.getRepository(AcmeOrder).save({ accountId: req.account!.id, issuingCaId: dir.ca.id, status: 'pending', identifiers, expires, error: null, certificateSerial: null, replacesSerial: replaces?.serial ?? null });
      const authzs = await m.getRepository(AcmeAuthorization).save(identifiers.map((identifier) => ({ orderId: order.id, accountId: req.account!.id, identifier, status: 'pending' as const, expires, challenges: this.challengesFor(identifier) })));
      return { order, authzs };
    });
    return { status: 201, body: { ...this.orderView(dir, order, authzs), ...(replaces ? { replaces: replaces.certId } : {}) }, headers: { Location: dir.order(order.id) } };
  }

  async order(dir: AcmeDirectory, id: string, req: AuthenticatedRequest): Promise<AcmeAnswer> {
    const { order, authzs } = await this.loadOrder(dir, id, req);
    return { status: 200, body: this.orderView(dir, order, authzs), headers: { Location: dir.order(order.id) } };
  }

  /** POST-as-GET reads; {"status":"deactivated"} deactivates (RFC 8555 7.5.2). */
  async authorization(dir: AcmeDirectory, id: string, req: AuthenticatedRequest): Promise<AcmeAnswer> {
    const authz = await this.loadAuthz(dir, id, req);
    if (req.payload && req.payload.status !== undefined) {
      if (req.payload.status !== 'deactivated') throw new AcmeProblem('malformed', 'an authorization can only be set to "deactivated"');
      const status = authorizationStatusAt(authz, new Date());
      if (status !== 'pending' && status !== 'valid') throw new AcmeProblem('malformed', `the authorization is ${status}`);
      await this.ds.getRepository(AcmeAuthorization).update({ id }, { status: 'deactivated' });
      authz.status = 'deactivated';
    }
    return { status: 200, body: this.authzView(dir, authz) };
  }

  /** POST {} starts the validation (asynchronously); POST-as-GET reads the challenge. */
  async challenge(dir: AcmeDirectory, authzId: string, type: string, req: AuthenticatedRequest): Promise<AcmeAnswer> {
    const authz = await this.loadAuthz(dir, authzId, req);
    const index = authz.challenges.findIndex((c) => c.type === type);
    if (index < 0) throw new AcmeProblem('malformed', `no ${type.slice(0, 20)} challenge here`, 404);
    let challenge = authz.challenges[index];
    if (req.payload !== null && canStartChallenge(authorizationStatusAt(authz, new Date()), challenge.status)) {
      const started = await this.ds.transaction(async (m) => {
        const locked = await m.getRepository(AcmeAuthorization).findOne({ where: { id: authzId }, lock: { mode: 'pessimistic_write' } });
        if (!locked || !canStartChallenge(locked.status, locked.challenges[index].status)) return locked?.challenges[index] ?? challenge;
        locked.challenges[index] = { ...locked.challenges[index], status: 'processing' };
        await m.getRepository(AcmeAuthorization).update({ id: authzId }, { challenges: locked.challenges });
        return locked.challenges[index];
      });
      if (started.status === 'processing' && challenge.status === 'pending') this.track(this.validate(authzId, index, req.account!.keyThumbprint));
      challenge = started;
    }
    return { status: 200, body: this.challengeView(dir, authz.id, challenge), headers: { Link: `<${dir.authz(authz.id)}>;rel="up"` } };
  }

  /** RFC 8555 7.4: the CSR must name exactly the order's identifiers and meet the same policy as agent renewals. */
  async finalize(dir: AcmeDirectory, id: string, req: AuthenticatedRequest): Promise<AcmeAnswer> {
    const { order, authzs } = await this.loadOrder(dir, id, req);
    const status = orderStatusAt(order, authzs, new Date());
    if (status !== 'ready') throw new AcmeProblem('orderNotReady', `the order is ${status}, not ready`);
    const csrB64 = req.payload?.csr;
    if (typeof csrB64 !== 'string' || !/^[A-Za-z0-9_-]+$/.test(csrB64)) throw new AcmeProblem('malformed', '"csr" must be the base64url DER of a PKCS#10 request');
    const der = Buffer.from(csrB64, 'base64url');
    let csr: FastVerifiedCsr;
    try {
      csr = verifyCsrFast(der);
    } catch (err) {
      throw new AcmeProblem('badCSR', `the CSR was refused: ${err instanceof CsrRejectedError ? err.reason : (err as Error).message}`);
    }
    const keyType = KEY_TYPE_OF[`${csr.keyAlgorithm}/${csr.keyAlgorithm === 'EC' ? csr.curve : csr.keySize}`];
    if (!keyType) throw new AcmeProblem('badPublicKey', `the CSR key (${csr.keyAlgorithm} ${csr.curve ?? csr.keySize}) is not one the CA issues for: ${Object.values(KEY_TYPE_OF).join(', ')}`);
    const profile = this.profileFor(order.identifiers, keyType);
    if (!verifiedCsrMeetsProfile(csr, profile, this.managed.policy)) {
      const violations = await checkCsrAgainstProfile(der, profile, this.managed.policy);
      const names = violations.some((v) => v.code === 'san-missing' || v.code === 'san-unexpected');
      throw new AcmeProblem('badCSR', `${names ? 'the CSR must name exactly the order\'s identifiers: ' : ''}${violations.map((v) => v.message).join('; ') || 'the CSR does not meet the policy'}`);
    }
    const issued = await this.ds.transaction(async (m) => {
      const locked = await m.getRepository(AcmeOrder).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!locked || orderStatusAt(locked, authzs, new Date()) !== 'ready') throw new AcmeProblem('orderNotReady', `the order is ${locked?.status ?? 'gone'}`);
      const [result] = await this.cas.issueMany(m, [{ caId: dir.ca.id, publicKeySpki: csr.publicKeySpki, profile, jobId: null, managedCertificateId: null }]);
      if (result instanceof IssuerUnavailableError) throw new AcmeProblem('serverInternal', result.message, 503);
      // The CA that issued it: the directory's current one, also for an order begun before a break-glass replacement.
      await m.getRepository(AcmeOrder).update({ id }, { status: 'valid', certificateSerial: result.leaf.serialHex, issuingCaId: dir.ca.id });
      await recordOrderCertificate(m, {
        orderId: id, accountId: locked.accountId, issuingCaId: dir.ca.id, identifiers: locked.identifiers, replacesSerial: locked.replacesSerial,
        serial: result.leaf.serialHex, fingerprintSha256: result.leaf.fingerprintSha256, certificatePem: result.leaf.certificatePem, chainPem: result.chainPem, issuedAt: new Date(),
      });
      await this.audit.record(m, {
        actor: `acme:${req.account!.id}`,
        action: 'certificate.issued',
        subjectType: 'acme-order',
        subjectId: id,
        detail: { issuingCaId: dir.ca.id, identifiers: order.identifiers.map((i) => `${i.type}:${i.value}`), after: { serial: result.leaf.serialHex, fingerprintSha256: result.leaf.fingerprintSha256, notBefore: result.leaf.notBefore, notAfter: result.leaf.notAfter } },
      });
      return result;
    });
    order.status = 'valid';
    order.certificateSerial = issued.leaf.serialHex;
    return { status: 200, body: this.orderView(dir, order, authzs), headers: { Location: dir.order(id) } };
  }

  /** The certificate and its chain up to (not including) the root, PEM. */
  async certificate(dir: AcmeDirectory, serial: string, req: AuthenticatedRequest): Promise<string> {
    const order = /^[0-9a-f]{1,64}$/.test(serial) ? await this.ds.getRepository(AcmeOrder).findOne({ where: { certificateSerial: serial, issuingCaId: In(dir.caIds) } }) : null;
    if (!order || order.accountId !== req.account!.id) throw new AcmeProblem('unauthorized', 'no such certificate for this account', 404);
    const cert = await this.ds.getRepository(IssuedCertificate).findOneOrFail({ where: { serial } });
    const { chainPem } = await this.cas.chainFor(cert.issuingCaId);
    return `${cert.certificatePem.trim()}\n${chainPem.trim()}\n`;
  }

  /** Who may revoke a certificate (RFC 8555 7.6): the account that ordered it, or the holder of its key. */
  async revocationTarget(dir: AcmeDirectory, req: AuthenticatedRequest): Promise<{ serial: string; reasonCode: unknown }> {
    const b64 = req.payload?.certificate;
    if (typeof b64 !== 'string' || !/^[A-Za-z0-9_-]+$/.test(b64)) throw new AcmeProblem('malformed', '"certificate" must be the base64url DER of the certificate');
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(Buffer.from(b64, 'base64url'));
    } catch {
      throw new AcmeProblem('malformed', '"certificate" is not a certificate');
    }
    const serial = cert.serialNumber.toLowerCase().replace(/^(00)+(?=.)/, '');
    const record = await this.ds.getRepository(IssuedCertificate).findOne({ where: { serial } });
    if (!record || !dir.caIds.includes(record.issuingCaId) || record.fingerprintSha256 !== cert.fingerprint256.replace(/:/g, '').toLowerCase()) throw new AcmeProblem('unauthorized', 'this CA did not issue that certificate', 404);
    if (req.account) {
      const order = await this.ds.getRepository(AcmeOrder).findOne({ where: { certificateSerial: serial } });
      if (!order || order.accountId !== req.account.id) throw new AcmeProblem('unauthorized', 'this account did not order that certificate');
    } else {
      const signer = createPublicKey({ key: req.jwk as JsonWebKey, format: 'jwk' }).export({ format: 'der', type: 'spki' });
      if (!signer.equals(cert.publicKey.export({ format: 'der', type: 'spki' }))) throw new AcmeProblem('unauthorized', 'the request is not signed by the certificate\'s key');
    }
    if (record.revokedAt) throw new AcmeProblem('alreadyRevoked', `certificate ${serial} is already revoked`);
    return { serial, reasonCode: req.payload?.reason };
  }

  private async validate(authzId: string, index: number, thumbprint: string): Promise<void> {
    const authz = await this.ds.getRepository(AcmeAuthorization).findOneOrFail({ where: { id: authzId } });
    const challenge = authz.challenges[index];
    const problem = await this.validators.validate({ type: challenge.type, identifier: authz.identifier, token: challenge.token, keyAuthorization: `${challenge.token}.${thumbprint}` });
    await this.ds.transaction(async (m) => {
      const locked = await m.getRepository(AcmeAuthorization).findOneOrFail({ where: { id: authzId }, lock: { mode: 'pessimistic_write' } });
      if (locked.status !== 'pending' || locked.challenges[index].status !== 'processing') return;
      locked.challenges[index] = problem ? { ...locked.challenges[index], status: 'invalid', error: problem } : { ...locked.challenges[index], status: 'valid', validated: new Date().toISOString() };
      await m.getRepository(AcmeAuthorization).update({ id: authzId }, { status: problem ? 'invalid' : 'valid', challenges: locked.challenges });
      await this.settleOrder(m, locked.orderId);
    });
    if (problem) this.logger.log(`authorization ${authzId} (${authz.identifier.value}) failed: ${problem.detail}`);
  }

  /** After an authorization changed: the order becomes ready (all valid) or invalid (one failed). */
  private async settleOrder(m: EntityManager, orderId: string): Promise<void> {
    const order = await m.getRepository(AcmeOrder).findOne({ where: { id: orderId }, lock: { mode: 'pessimistic_write' } });
    if (!order || order.status !== 'pending') return;
    const authzs = await m.getRepository(AcmeAuthorization).find({ where: { orderId } });
    const status = orderStatusAt(order, authzs, new Date());
    if (status === 'ready') await m.getRepository(AcmeOrder).update({ id: orderId }, { status: 'ready' });
    if (status === 'invalid') {
      const failed = authzs.flatMap((a) => a.challenges.filter((c) => c.error)).map((c) => c.error!);
      await m.getRepository(AcmeOrder).update({ id: orderId }, { status: 'invalid', error: failed[0] ?? problemOf('unauthorized', 'an authorization failed') });
    }
  }

  private track(p: Promise<void>): void {
    const tracked = p.catch((err) => this.logger.error(`challenge validation: ${(err as Error).message}`)).finally(() => this.running.delete(tracked));
    this.running.add(tracked);
  }

  private identifiers(raw: unknown): AcmeIdentifier[] {
    if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_IDENTIFIERS) throw new AcmeProblem('malformed', `"identifiers" must be an array of 1 to ${MAX_IDENTIFIERS} identifiers`);
    const seen = new Set<string>();
    const out: AcmeIdentifier[] = [];
    for (const item of raw) {
      const { type, value } = (item ?? {}) as { type?: unknown; value?: unknown };
      if (typeof value !== 'string' || value.length > 253) throw new AcmeProblem('malformed', 'each identifier needs a string "value"');
      let canonical: string | undefined;
      if (type === 'dns') canonical = isValidDnsName(value) && !value.endsWith('.') ? canonicalDnsName(value) : undefined;
      else if (type === 'ip') canonical = canonicalIpAddress(value);
      else throw new AcmeProblem('unsupportedIdentifier', `identifier type ${JSON.stringify(type).slice(0, 20)} is not supported (dns, ip)`);
      if (!canonical) throw new AcmeProblem('rejectedIdentifier', `${JSON.stringify(value).slice(0, 80)} is not a valid ${type === 'dns' ? 'DNS name' : 'IP address'}`);
      const key = `${type}:${canonical}`;
      if (!seen.has(key)) out.push({ type, value: canonical });
      seen.add(key);
    }
    return out;
  }

  private profileFor(identifiers: AcmeIdentifier[], keyType: ProfileKeyType): CertificateProfile {
    const dnsNames = identifiers.filter((i) => i.type === 'dns').map((i) => i.value);
    return {
      keyType,
      dnsNames,
      ipAddresses: identifiers.filter((i) => i.type === 'ip').map((i) => i.value),
      ...(dnsNames[0] && dnsNames[0].length <= 64 ? { commonName: dnsNames[0] } : {}),
      validityDays: Math.min(this.config.acme.validityDays, this.managed.policy.maxValidityDays),
      usages: ['tls-server'],
    };
  }

  private challengesFor(identifier: AcmeIdentifier): AcmeChallenge[] {
    const types: AcmeChallengeType[] = identifier.value.startsWith('*.') ? ['dns-01'] : identifier.type === 'ip' ? ['http-01', 'tls-alpn-01'] : ['http-01', 'dns-01', 'tls-alpn-01'];
    return types.map((type) => ({ type, token: randomBytes(32).toString('base64url'), status: 'pending' }));
  }

  private async loadOrder(dir: AcmeDirectory, id: string, req: AuthenticatedRequest): Promise<{ order: AcmeOrder; authzs: AcmeAuthorization[] }> {
    const order = isUuid(id) ? await this.ds.getRepository(AcmeOrder).findOne({ where: { id, issuingCaId: In(dir.caIds) } }) : null;
    if (!order || order.accountId !== req.account!.id) throw new AcmeProblem('unauthorized', 'no such order for this account', 404);
    const authzs = await this.ds.getRepository(AcmeAuthorization).find({ where: { orderId: id } });
    authzs.sort((a, b) => order.identifiers.findIndex((i) => i.value === a.identifier.value && i.type === a.identifier.type) - order.identifiers.findIndex((i) => i.value === b.identifier.value && i.type === b.identifier.type));
    return { order, authzs };
  }

  private async loadAuthz(dir: AcmeDirectory, id: string, req: AuthenticatedRequest): Promise<AcmeAuthorization> {
    const authz = isUuid(id) ? await this.ds.getRepository(AcmeAuthorization).findOne({ where: { id } }) : null;
    if (!authz || authz.accountId !== req.account!.id) throw new AcmeProblem('unauthorized', 'no such authorization for this account', 404);
    const order = await this.ds.getRepository(AcmeOrder).findOne({ where: { id: authz.orderId, issuingCaId: In(dir.caIds) } });
    if (!order) throw new AcmeProblem('unauthorized', 'no such authorization at this directory', 404);
    return authz;
  }

  orderView(dir: AcmeDirectory, order: AcmeOrder, authzs: AcmeAuthorization[]): Record<string, unknown> {
    const status = orderStatusAt(order, authzs, new Date());
    return {
      status,
      expires: order.expires.toISOString(),
      identifiers: order.identifiers,
      authorizations: authzs.map((a) => dir.authz(a.id)),
      finalize: `${dir.order(order.id)}/finalize`,
      ...(order.error ? { error: order.error } : {}),
      ...(status === 'valid' && order.certificateSerial ? { certificate: dir.certificate(order.certificateSerial) } : {}),
    };
  }

  private authzView(dir: AcmeDirectory, authz: AcmeAuthorization): Record<string, unknown> {
    const wildcard = authz.identifier.value.startsWith('*.');
    return {
      identifier: wildcard ? { type: 'dns', value: authz.identifier.value.slice(2) } : authz.identifier,
      status: authorizationStatusAt(authz, new Date()),
      expires: authz.expires.toISOString(),
      challenges: authz.challenges.map((c) => this.challengeView(dir, authz.id, c)),
      ...(wildcard ? { wildcard: true } : {}),
    };
  }

  private challengeView(dir: AcmeDirectory, authzId: string, c: AcmeChallenge): Record<string, unknown> {
    return { type: c.type, url: dir.challenge(authzId, c.type), status: c.status, token: c.token, ...(c.validated ? { validated: c.validated } : {}), ...(c.error ? { error: c.error } : {}) };
  }

  /** ACME-issued certificates for the admin REST API. */
  async issuedByAcme(caId?: string, limit = 1000): Promise<Array<Record<string, unknown>>> {
    const orders = await this.ds.getRepository(AcmeOrder).find({ where: caId ? { issuingCaId: caId, status: 'valid' } : { status: 'valid' }, order: { createdAt: 'DESC' }, take: limit });
    const serials = orders.map((o) => o.certificateSerial!).filter(Boolean);
    const certs = new Map((serials.length ? await this.ds.getRepository(IssuedCertificate).find({ where: { serial: In(serials) } }) : []).map((c) => [c.serial, c]));
    const replaced = new Map((serials.length ? await this.ds.getRepository(AcmeOrderCertificate).find({ select: { serial: true, replacedAt: true, replacedBySerial: true }, where: { serial: In(serials) } }) : []).map((c) => [c.serial, c]));
    return orders.flatMap((o) => {
      const c = certs.get(o.certificateSerial ?? '');
      const r = replaced.get(o.certificateSerial ?? '');
      return c
        ? [{
            serial: c.serial, issuedBy: 'acme', issuingCaId: c.issuingCaId, acmeAccountId: o.accountId, acmeOrderId: o.id, identifiers: o.identifiers.map((i) => i.value),
            fingerprintSha256: c.fingerprintSha256, notBefore: c.notBefore, notAfter: c.notAfter, issuedAt: c.issuedAt, revokedAt: c.revokedAt, revocationReason: c.revocationReason,
            replacesSerial: o.replacesSerial, replacedAt: r?.replacedAt ?? null, replacedBySerial: r?.replacedBySerial ?? null,
          }]
        : [];
    });
  }
}
